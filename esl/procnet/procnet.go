// Package procnet reads Linux's tables of TCP sockets, /proc/net/tcp and /proc/net/tcp6, to
// tell which account owns the socket at the other end of a loopback connection. The control
// connection asks it before it sends FreeSWITCH's ESL password: on one host, any account can
// listen on a free port, for instance while FreeSWITCH restarts.
package procnet

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// TCP states as the tables print them (include/net/tcp_states.h).
const (
	StateEstablished = 0x01
	StateSynRecv     = 0x03
	StateListen      = 0x0A
)

// Socket is one row of /proc/net/tcp or /proc/net/tcp6.
type Socket struct {
	Local, Remote netip.AddrPort // IPv4-mapped IPv6 addresses are unmapped to IPv4
	State         uint8
	UID           uint32 // the owner: for an accepted connection, that of its listener
}

// Parse reads one table in the kernel's format: a header line, then one socket per line,
//
//	sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
//	 0: 0100007F:1F45 00000000:0000 0A 00000000:00000000 00:00000000 00000000   998        0 23456 ...
//
// where an address is the hex of its 32-bit words in host byte order and the port is hex.
func Parse(r io.Reader) ([]Socket, error) {
	sc := bufio.NewScanner(r)
	var out []Socket
	for line := 0; sc.Scan(); line++ {
		f := strings.Fields(sc.Text())
		if line == 0 || len(f) == 0 {
			continue // header
		}
		if len(f) < 8 {
			return nil, fmt.Errorf("line %d: %d fields, want at least 8", line+1, len(f))
		}
		var s Socket
		var err error
		if s.Local, err = parseAddrPort(f[1]); err != nil {
			return nil, fmt.Errorf("line %d: local address: %w", line+1, err)
		}
		if s.Remote, err = parseAddrPort(f[2]); err != nil {
			return nil, fmt.Errorf("line %d: remote address: %w", line+1, err)
		}
		st, err := strconv.ParseUint(f[3], 16, 8)
		if err != nil {
			return nil, fmt.Errorf("line %d: state %q", line+1, f[3])
		}
		uid, err := strconv.ParseUint(f[7], 10, 32)
		if err != nil {
			return nil, fmt.Errorf("line %d: uid %q", line+1, f[7])
		}
		s.State, s.UID = uint8(st), uint32(uid)
		out = append(out, s)
	}
	return out, sc.Err()
}

// parseAddrPort reads "0100007F:1F45" (IPv4) or 32 hex digits and a port (IPv6).
func parseAddrPort(s string) (netip.AddrPort, error) {
	hexAddr, hexPort, ok := strings.Cut(s, ":")
	if !ok || (len(hexAddr) != 8 && len(hexAddr) != 32) {
		return netip.AddrPort{}, fmt.Errorf("%q is not addr:port", s)
	}
	b := make([]byte, len(hexAddr)/2)
	for i := 0; i < len(hexAddr); i += 8 {
		w, err := strconv.ParseUint(hexAddr[i:i+8], 16, 32)
		if err != nil {
			return netip.AddrPort{}, fmt.Errorf("%q is not addr:port", s)
		}
		// The kernel prints each 32-bit word of the network-order address as a number read
		// in host byte order; writing it back in host order restores the address bytes.
		binary.NativeEndian.PutUint32(b[i/2:], uint32(w))
	}
	port, err := strconv.ParseUint(hexPort, 16, 16)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("%q is not addr:port", s)
	}
	addr, _ := netip.AddrFromSlice(b)
	return netip.AddrPortFrom(addr.Unmap(), uint16(port)), nil
}

// Read parses dir/tcp and dir/tcp6; dir is normally /proc/net, which shows the sockets of
// this process's network namespace. A missing tcp6 (IPv6 disabled) is not an error.
func Read(dir string) ([]Socket, error) {
	var all []Socket
	for _, name := range []string{"tcp", "tcp6"} {
		f, err := os.Open(filepath.Join(dir, name))
		if name == "tcp6" && errors.Is(err, fs.ErrNotExist) {
			continue
		} else if err != nil {
			return nil, err
		}
		socks, err := Parse(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.Name(), err)
		}
		all = append(all, socks...)
	}
	return all, nil
}

// Owners returns the owners of the sockets that may have accepted a connection from local to
// remote. When the table holds the far end of that very connection (local and remote swapped,
// established or still being accepted), its owner is the answer and exact is true: no listener that came or went
// since the connect can confuse it. Otherwise it returns the owners of every listener on
// remote's port whose address is remote's or the wildcard (0.0.0.0, or :: which also takes
// IPv4), any of which may have taken the connection; none when nothing listens there.
func Owners(socks []Socket, local, remote netip.AddrPort) (uids []uint32, exact bool) {
	local, remote = unmap(local), unmap(remote)
	for _, s := range socks {
		if (s.State == StateEstablished || s.State == StateSynRecv) && s.Local == remote && s.Remote == local {
			return []uint32{s.UID}, true
		}
	}
	for _, s := range socks {
		if s.State == StateListen && s.Local.Port() == remote.Port() && listensOn(s.Local.Addr(), remote.Addr()) {
			uids = append(uids, s.UID)
		}
	}
	return uids, false
}

// listensOn reports whether a listener bound to bound accepts connections to addr.
func listensOn(bound, addr netip.Addr) bool {
	switch {
	case bound == addr:
		return true
	case bound == netip.IPv4Unspecified():
		return addr.Is4()
	case bound == netip.IPv6Unspecified():
		return true // a dual-stack listener; one set to IPv6 only cannot be told apart here
	}
	return false
}

func unmap(ap netip.AddrPort) netip.AddrPort { return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()) }
