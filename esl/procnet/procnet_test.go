package procnet_test

import (
	"net"
	"net/netip"
	"os"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/callconsent/callconsent/esl/procnet"
)

// The tables in the kernel's format as read on a little-endian Linux (x86-64, arm64): the
// rows are those of a FreeSWITCH host, trimmed to the columns up to inode.
const (
	tcp4 = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F55 00000000:0000 0A 00000000:00000000 00:00000000 00000000   998        0 31337 1 0000000000000000 100 0 0 10 0
   1: 00000000:1F56 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 31338 1 0000000000000000 100 0 0 10 0
   2: 0100007F:1F55 0100007F:B26E 01 00000000:00000000 00:00000000 00000000   998        0 31339 1 0000000000000000 20 4 30 10 -1
   3: 0100007F:B26E 0100007F:1F55 01 00000000:00000000 00:00000000 00000000     0        0 31340 1 0000000000000000 20 4 30 10 -1
   4: 0100007F:1F5A 00000000:0000 0A 00000000:00000000 00:00000000 00000000   998        0 31341 1 0000000000000000 100 0 0 10 0
   5: 0100007F:1F55 0100007F:C350 06 00000000:00000000 03:00000FCB 00000000     0        0 0 3 0000000000000000
`
	tcp6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000001000000:1F55 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000   998        0 41337 1 0000000000000000 100 0 0 10 0
   1: 00000000000000000000000000000000:1F57 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 41338 1 0000000000000000 100 0 0 10 0
   2: 0000000000000000FFFF00000100007F:1F58 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  1001        0 41339 1 0000000000000000 100 0 0 10 0
   3: 00000000000000000000000000000000:1F5A 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  1234        0 41340 1 0000000000000000 100 0 0 10 0
`
)

func TestParse(t *testing.T) {
	if !littleEndian() {
		t.Skip("the captured tables are those of a little-endian host")
	}
	socks := parseBoth(t)
	if len(socks) != 10 {
		t.Fatalf("%d sockets, want 10", len(socks))
	}
	want := procnet.Socket{Local: ap("127.0.0.1:8021"), Remote: ap("0.0.0.0:0"), State: procnet.StateListen, UID: 998}
	if socks[0] != want {
		t.Errorf("first row %+v, want %+v", socks[0], want)
	}
	if got := socks[6].Local; got != ap("[::1]:8021") {
		t.Errorf("IPv6 loopback parsed as %v", got)
	}
	if got := socks[8].Local; got != ap("127.0.0.1:8024") {
		t.Errorf("IPv4-mapped address parsed as %v, want it unmapped", got)
	}

	for _, bad := range []string{
		"header\n   0: 0100007F:1F55 00000000:0000 0A\n",
		"header\n   0: 0100007F 00000000:0000 0A 0:0 0:0 0 998 0 1\n",
		"header\n   0: 0100007G:1F55 00000000:0000 0A 0:0 0:0 0 998 0 1\n",
		"header\n   0: 0100007F:1F55 00000000:0000 0A 0:0 0:0 0 nobody 0 1\n",
	} {
		if _, err := procnet.Parse(strings.NewReader(bad)); err == nil {
			t.Errorf("Parse(%q): no error", bad)
		}
	}
}

func TestOwners(t *testing.T) {
	if !littleEndian() {
		t.Skip("the captured tables are those of a little-endian host")
	}
	socks := parseBoth(t)
	for _, tc := range []struct {
		name          string
		local, remote string
		uids          []uint32
		exact         bool
	}{
		{"PeerOfOurConnection", "127.0.0.1:45678", "127.0.0.1:8021", []uint32{998}, true},
		{"ListenerIPv4", "127.0.0.1:50000", "127.0.0.1:8021", []uint32{998}, false},
		{"ListenerIPv6", "[::1]:50000", "[::1]:8021", []uint32{998}, false},
		{"IPv4WildcardTakesLoopback", "127.0.0.1:50000", "127.0.0.1:8022", []uint32{1000}, false},
		{"IPv4WildcardNotIPv6", "[::1]:50000", "[::1]:8022", nil, false},
		{"IPv6WildcardTakesIPv4", "127.0.0.1:50000", "127.0.0.1:8023", []uint32{0}, false},
		{"IPv6WildcardTakesIPv6", "[::1]:50000", "[::1]:8023", []uint32{0}, false},
		{"IPv4MappedListener", "127.0.0.1:50000", "127.0.0.1:8024", []uint32{1001}, false},
		{"IPv4MappedDial", "[::ffff:127.0.0.1]:50000", "[::ffff:127.0.0.1]:8024", []uint32{1001}, false},
		// Both may take the connection: both are returned, and both must be allowed.
		{"TwoListeners", "127.0.0.1:50000", "127.0.0.1:8026", []uint32{998, 1234}, false},
		{"OtherLoopbackAddress", "127.0.0.1:50000", "127.0.0.2:8021", nil, false},
		{"NothingListens", "127.0.0.1:50000", "127.0.0.1:9999", nil, false},
		// A TIME_WAIT row (uid 0) of an earlier connection is no answer.
		{"TimeWaitIgnored", "127.0.0.1:50000", "127.0.0.1:8021", []uint32{998}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			uids, exact := procnet.Owners(socks, ap(tc.local), ap(tc.remote))
			if !reflect.DeepEqual(uids, tc.uids) || exact != tc.exact {
				t.Errorf("Owners = %v, exact %v; want %v, %v", uids, exact, tc.uids, tc.exact)
			}
		})
	}
}

// TestOwners_RealSockets reads this machine's tables: a listener of the test process, and the
// far end of a connection to it, belong to the test's own account.
func TestOwners_RealSockets(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("/proc/net/tcp is Linux's")
	}
	for _, network := range []string{"127.0.0.1:0", "[::1]:0"} {
		t.Run(network, func(t *testing.T) {
			ln, err := net.Listen("tcp", network)
			if err != nil {
				t.Skipf("no %s here: %v", network, err)
			}
			defer ln.Close()
			go func() {
				for {
					c, err := ln.Accept()
					if err != nil {
						return
					}
					defer c.Close()
				}
			}()
			remote := ap(ln.Addr().String())
			c, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			local := ap(c.LocalAddr().String())

			socks, err := procnet.Read("/proc/net")
			if err != nil {
				t.Fatal(err)
			}
			me := uint32(os.Getuid())
			if uids, exact := procnet.Owners(socks, local, remote); !exact || !reflect.DeepEqual(uids, []uint32{me}) {
				t.Errorf("connection: Owners = %v, exact %v; want [%d], exact", uids, exact, me)
			}
			other := netip.AddrPortFrom(local.Addr(), 1) // no connection from there: the listener answers
			if uids, exact := procnet.Owners(socks, other, remote); exact || !reflect.DeepEqual(uids, []uint32{me}) {
				t.Errorf("listener: Owners = %v, exact %v; want [%d] from the listener", uids, exact, me)
			}
		})
	}
	if _, err := procnet.Read(t.TempDir()); err == nil {
		t.Errorf("Read of a folder without tcp: no error")
	}
}

func parseBoth(t *testing.T) []procnet.Socket {
	t.Helper()
	var all []procnet.Socket
	for _, table := range []string{tcp4, tcp6} {
		socks, err := procnet.Parse(strings.NewReader(table))
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, socks...)
	}
	return all
}

func ap(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

func littleEndian() bool {
	switch runtime.GOARCH {
	case "amd64", "arm64", "386", "arm", "riscv64", "loong64", "ppc64le", "mips64le", "mipsle", "wasm":
		return true
	}
	return false
}
