// Package realfs runs a real FreeSWITCH for callconsent's integration tests: the relocatable
// FreeSWITCH 1.11 build in ../shared/freeswitch (start.sh, stop.sh), an inbound event-socket
// client to place loopback calls, press keys and watch what FreeSWITCH executed, and a relay
// that sits between FreeSWITCH and callconsent's outbound listener and writes byte-exact
// transcripts in the format of testdata/esl, from which the fake FreeSWITCH is checked.
//
// The fake FreeSWITCH (esl/fakefs) stays for fast and hostile tests; this package is for what
// only the real switch can tell: the order and timing of events, DTMF delivery, what
// record_session writes, shutdown and restart.
package realfs

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
)

// EnvDir names the folder of the FreeSWITCH build when it is not ../shared/freeswitch beside
// the repository.
const EnvDir = "CALLCONSENT_FREESWITCH"

// ErrNotFound means no FreeSWITCH build is available; tests skip with its message.
var ErrNotFound = errors.New("no FreeSWITCH build found")

// Find returns the folder holding start.sh, stop.sh and the FreeSWITCH tarball: $EnvDir, or
// ../shared/freeswitch relative to the module root found above dir.
func Find(dir string) (string, error) {
	if d := os.Getenv(EnvDir); d != "" {
		if _, err := os.Stat(filepath.Join(d, "start.sh")); err != nil {
			return "", fmt.Errorf("%w: %s=%s has no start.sh", ErrNotFound, EnvDir, d)
		}
		return d, nil
	}
	root, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(root, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(root)
		if parent == root {
			return "", fmt.Errorf("%w: no go.mod above %s", ErrNotFound, dir)
		}
		root = parent
	}
	d := filepath.Join(filepath.Dir(root), "shared", "freeswitch")
	if _, err := os.Stat(filepath.Join(d, "start.sh")); err != nil {
		return "", fmt.Errorf("%w: neither $%s nor %s (a clone without ../shared)", ErrNotFound, EnvDir, d)
	}
	return d, nil
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
