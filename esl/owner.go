package esl

import (
	"fmt"
	"net"
	"net/netip"
	"slices"

	"github.com/callconsent/callconsent/esl/procnet"
)

// OwnerCheck makes the control connection refuse to send the ESL password to a port that
// belongs to the wrong account. On one host any account may listen on a free port, and
// FreeSWITCH's port is free while it restarts; whoever listens there then receives
// `auth <password>` and can pose as FreeSWITCH. The check runs on every connection, after the
// connect and before a byte is read or written, and looks the far end up in the kernel's socket
// tables (Linux only; see procnet). Where the owner cannot be seen (a remote FreeSWITCH, another
// network namespace), it refuses: the daemon must be configured to do without it.
type OwnerCheck struct {
	// UIDs are the accounts allowed to own FreeSWITCH's socket.
	UIDs []uint32
	// ProcNet is the folder holding the tcp and tcp6 tables; "" means /proc/net.
	ProcNet string
	// Advice is added to every refusal's log line: what the operator can do about it.
	Advice string
}

// RefusedPeerError is what dial returns when OwnerCheck refused the socket that answered: the
// password was not sent. The supervisor logs it, counts it (Control.OnRefused) and retries
// with its backoff as after any failed connect.
type RefusedPeerError struct {
	Addr   netip.AddrPort // the far end of the refused connection
	UID    int64          // the owner found; -1 when none was
	Reason string
}

// Error implements error. It names the address and the owner, never the password.
func (e *RefusedPeerError) Error() string {
	return fmt.Sprintf("refused ESL peer %s: %s; password not sent", e.Addr, e.Reason)
}

// check returns a *RefusedPeerError unless the socket at the far end of nc belongs to an
// allowed account.
func (o *OwnerCheck) check(nc net.Conn) error {
	local, remote := addrPortOf(nc.LocalAddr()), addrPortOf(nc.RemoteAddr())
	refuse := func(uid int64, format string, args ...any) error {
		return &RefusedPeerError{Addr: remote, UID: uid, Reason: fmt.Sprintf(format, args...)}
	}
	if !remote.Addr().Unmap().IsLoopback() {
		return refuse(-1, "not a loopback address: who owns a socket on another host cannot be seen")
	}
	dir := o.ProcNet
	if dir == "" {
		dir = "/proc/net"
	}
	socks, err := procnet.Read(dir)
	if err != nil {
		return refuse(-1, "cannot read the socket tables to see who listens: %v", err)
	}
	uids, _ := procnet.Owners(socks, local, remote)
	if len(uids) == 0 {
		// We are connected, so something listens: that it is not in this network namespace's
		// tables means a container or namespace in between, or a table that changed under us.
		return refuse(-1, "no listener on port %d in %s/tcp or tcp6: the owner cannot be seen", remote.Port(), dir)
	}
	for _, uid := range uids {
		if !slices.Contains(o.UIDs, uid) {
			return refuse(int64(uid), "port %d belongs to uid %d, which is not an allowed account", remote.Port(), uid)
		}
	}
	return nil
}

// addrPortOf is the address of a TCP endpoint; the zero AddrPort for anything else.
func addrPortOf(a net.Addr) netip.AddrPort {
	if ta, ok := a.(*net.TCPAddr); ok {
		return ta.AddrPort()
	}
	return netip.AddrPort{}
}
