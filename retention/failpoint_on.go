//go:build failpoints

package retention

import (
	"os"
	"syscall"
)

// FailpointsBuilt reports whether this build honours FailpointEnv.
const FailpointsBuilt = true

// armedFailpoint returns the failpoint named in the environment.
func armedFailpoint() string { return os.Getenv(FailpointEnv) }

// fail kills the process if the failpoint name is armed.
func (s *Sweeper) fail(name string) {
	if s.failpoint != "" && s.failpoint == name {
		s.log.Warn("failpoint reached; killing the process", "failpoint", name)
		syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {} // the signal is on its way; never return into the protocol
	}
}
