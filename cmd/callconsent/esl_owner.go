package main

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/user"
	"runtime"
	"slices"
	"strconv"
	"strings"

	"github.com/callconsent/callconsent/esl"
)

// eslOwner is an account allowed to own FreeSWITCH's ESL port.
type eslOwner struct {
	name string // "" for a numeric uid without a name on this host
	uid  uint32
}

func (o eslOwner) String() string {
	if o.name == "" {
		return fmt.Sprintf("uid %d", o.uid)
	}
	return fmt.Sprintf("%s (uid %d)", o.name, o.uid)
}

// eslOwners returns the accounts allowed to own FreeSWITCH's ESL port: root (a FreeSWITCH
// started as root), the account callconsent runs as (a trial's `simulate`, tests; it can read
// the password anyway), and freeswitch-users as resolved on this host: a user name, or a numeric
// uid for an account that has no name here. Names that resolve to nothing come back in unknown.
func (c *Config) eslOwners() (owners []eslOwner, unknown []string) {
	add := func(name string, uid uint32) {
		if !slices.ContainsFunc(owners, func(o eslOwner) bool { return o.uid == uid }) {
			owners = append(owners, eslOwner{name, uid})
		}
	}
	add("root", 0)
	me, myName := os.Getuid(), ""
	if u, err := user.LookupId(strconv.Itoa(me)); err == nil {
		myName = u.Username
	}
	add(myName, uint32(me))
	for _, name := range c.FreeSWITCHUsers {
		if u, err := user.Lookup(name); err == nil {
			if uid, err := strconv.ParseUint(u.Uid, 10, 32); err == nil {
				add(name, uint32(uid))
				continue
			}
		}
		if uid, err := strconv.ParseUint(name, 10, 32); err == nil {
			add("", uint32(uid))
			continue
		}
		unknown = append(unknown, name)
	}
	return owners, unknown
}

// ownerCheckUnsupported refuses freeswitch-owner-check where socket owners cannot be seen at
// all: it reads Linux's /proc/net/tcp.
func (c *Config) ownerCheckUnsupported() error {
	if c.ESLOwnerCheck && runtime.GOOS != "linux" {
		return invalidKey("freeswitch-owner-check", "true", "needs Linux's /proc/net/tcp to see who owns "+
			"FreeSWITCH's port, and this is "+runtime.GOOS+": set freeswitch-owner-check: false")
	}
	return nil
}

// eslOwnerCheck returns the control connection's owner check, nil when freeswitch-owner-check
// is off; procNet replaces /proc/net in tests. Accounts of freeswitch-users that do not exist
// here are left out with a warning rather than stopping the daemon: the allowed set only
// shrinks, so nothing is sent that should not be, and a FreeSWITCH running as root still
// connects. config check fails them.
func (c *Config) eslOwnerCheck(log *slog.Logger, procNet string) *esl.OwnerCheck {
	if !c.ESLOwnerCheck {
		return nil
	}
	owners, unknown := c.eslOwners()
	for _, name := range unknown {
		log.Warn("freeswitch-users: no such account on this host; a FreeSWITCH port it owned would be refused", "user", name)
	}
	oc := &esl.OwnerCheck{ProcNet: procNet, Advice: "allowed: " + ownerList(owners) + "; if FreeSWITCH runs as " +
		"another account, name it in freeswitch-users; if its sockets cannot be seen from here (another " +
		"network namespace or container), set freeswitch-owner-check: false"}
	for _, o := range owners {
		oc.UIDs = append(oc.UIDs, o.uid)
	}
	return oc
}

// ownerCheckLine is config check's line on freeswitch-owner-check and freeswitch-users.
func ownerCheckLine(cfg *Config) check {
	name := "freeswitch owner check"
	if !cfg.ESLOwnerCheck {
		return check{name: name, info: "off (freeswitch-owner-check: false): the ESL password is sent to " +
			"whatever answers on " + cfg.FreeSWITCH}
	}
	if err := cfg.ownerCheckUnsupported(); err != nil {
		return check{name: name, err: errors.New(errorText(err))}
	}
	owners, unknown := cfg.eslOwners()
	if len(unknown) > 0 && cfg.DataDir != "" && slices.Equal(cfg.FreeSWITCHUsers, DefaultConfig().FreeSWITCHUsers) {
		// A trial (--data-dir) runs FreeSWITCH as root or as this account, both allowed; the
		// default freeswitch-users names a production account this host need not have.
		return check{name: name, info: "trial: the ESL password is sent only if " + cfg.FreeSWITCH + " belongs to " +
			ownerList(owners) + " (no account " + quoteAll(unknown) + " on this host)"}
	}
	if len(unknown) > 0 {
		return check{name: name, err: fmt.Errorf("freeswitch-users: no account %s on this host: name the "+
			"account FreeSWITCH runs as (ps -o user= -C freeswitch), or set freeswitch-owner-check: false "+
			"where its sockets cannot be seen", quoteAll(unknown))}
	}
	return check{name: name, info: "the ESL password is sent only if " + cfg.FreeSWITCH + " belongs to " + ownerList(owners)}
}

// ownerList names the accounts, e.g. "root (uid 0), callconsent (uid 999) or freeswitch (uid 998)".
func ownerList(owners []eslOwner) string {
	s := make([]string, len(owners))
	for i, o := range owners {
		s[i] = o.String()
	}
	if len(s) < 2 {
		return strings.Join(s, "")
	}
	return strings.Join(s[:len(s)-1], ", ") + " or " + s[len(s)-1]
}

func quoteAll(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = strconv.Quote(n)
	}
	return strings.Join(q, ", ")
}
