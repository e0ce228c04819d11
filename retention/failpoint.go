package retention

import (
	"os"
	"syscall"
	"testing"
)

// FailpointEnv names the environment variable that makes a sweeping process kill itself with
// SIGKILL at one step of the deletion protocol. It exists for the crash tests, which prove that
// a crash at any step leaves nothing behind once the next sweep has run (R-RETAIN-4). SIGKILL,
// not os.Exit: no deferred function, no buffered write may run, as in a real power cut. It is
// honoured only in test binaries (testing.Testing), so a stray variable in a unit file cannot
// make the daemon kill itself.
const FailpointEnv = "CALLCONSENT_FAILPOINT"

// armedFailpoint returns the failpoint named in the environment, in test binaries only.
func armedFailpoint() string {
	if !testing.Testing() {
		return ""
	}
	return os.Getenv(FailpointEnv)
}

// Failpoints, the steps of one batch after which the process can be killed.
const (
	FailAfterMark   = "after-mark-deleting" // intent committed, nothing unlinked
	FailAfterUnlink = "after-unlink"        // first file of the batch unlinked, the rest not
	FailAfterFsync  = "after-fsync"         // all unlinked and durable, no tombstone yet
)

// fail kills the process if the failpoint name is armed.
func (s *Sweeper) fail(name string) {
	if s.failpoint != "" && s.failpoint == name {
		s.log.Warn("failpoint reached; killing the process", "failpoint", name)
		syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {} // the signal is on its way; never return into the protocol
	}
}
