package main

import (
	"fmt"
	"net"
	"net/netip"
	"strings"
)

// Why each ESL address belongs on loopback. ESL has no encryption, and the outbound side no
// authentication at all; on one host, only local accounts can reach or pose as either end.
const (
	remoteListenRisk = "ESL is plain text without authentication, so anyone who can reach the port " +
		"can pose as FreeSWITCH and hand callconsent calls and events"
	remoteFreeSWITCHRisk = "ESL is plain text, so the ESL password crosses the network readable to " +
		"anyone on the path, and whoever can reach or redirect the connection can pose as FreeSWITCH"
)

// validateESLAddrs refuses an esl-listen or freeswitch address off loopback unless
// allow-remote-esl says the network in between is trusted, and an owner check that cannot see
// the owner of a remote FreeSWITCH's port. The accounts of freeswitch-users are resolved where
// they are used (run, config check): the configuration may be checked on another host.
func (c *Config) validateESLAddrs() error {
	for _, a := range []struct{ key, val, risk string }{
		{"esl-listen", c.ESLListen, remoteListenRisk},
		{"freeswitch", c.FreeSWITCH, remoteFreeSWITCHRisk},
	} {
		if !c.AllowRemoteESL && !loopbackHostPort(a.val) {
			return invalidKey(a.key, a.val, "is not a loopback address: "+a.risk+"; use 127.0.0.1, ::1 or "+
				"localhost, or set allow-remote-esl: true if the network in between is trusted")
		}
	}
	if c.ESLOwnerCheck && !loopbackHostPort(c.FreeSWITCH) {
		return invalidKey("freeswitch-owner-check", "true", fmt.Sprintf("cannot see who owns the port of a "+
			"FreeSWITCH on another host (freeswitch %s): set freeswitch-owner-check: false", c.FreeSWITCH))
	}
	for _, u := range c.FreeSWITCHUsers {
		if u == "" || strings.ContainsAny(u, " \t\r\n,:") {
			return invalidKey("freeswitch-users", u, "is not a user name or numeric uid")
		}
	}
	return nil
}

// loopbackHostPort reports whether host:port names this host's loopback interface: an IP in
// 127.0.0.0/8 or ::1, or the name localhost. An empty host, 0.0.0.0 and :: listen on every
// interface, and any other name may resolve anywhere: all of them count as remote.
func loopbackHostPort(hostPort string) bool {
	host, _, err := net.SplitHostPort(hostPort)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}

// eslAddrCheck is config check's line on the ESL addresses. Validate has refused remote ones
// already unless allow-remote-esl is set; then the line says what that costs.
func eslAddrCheck(cfg *Config) check {
	name := "esl addresses"
	var remote []string
	for _, a := range []struct{ key, val string }{{"esl-listen", cfg.ESLListen}, {"freeswitch", cfg.FreeSWITCH}} {
		if !loopbackHostPort(a.val) {
			remote = append(remote, a.key+" "+a.val)
		}
	}
	switch {
	case len(remote) > 0:
		return check{name: name, info: fmt.Sprintf("%s off loopback, allowed by allow-remote-esl: true: ESL is "+
			"plain text, so the password crosses the network and anyone who can reach the ports can pose as "+
			"FreeSWITCH; keep the network in between trusted", strings.Join(remote, " and "))}
	case cfg.AllowRemoteESL:
		return check{name: name, info: fmt.Sprintf("esl-listen %s and freeswitch %s on loopback "+
			"(allow-remote-esl: true is not needed)", cfg.ESLListen, cfg.FreeSWITCH)}
	}
	return check{name: name, info: fmt.Sprintf("esl-listen %s and freeswitch %s on loopback", cfg.ESLListen, cfg.FreeSWITCH)}
}
