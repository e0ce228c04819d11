//go:build !failpoints

package retention

// FailpointsBuilt reports whether this build honours FailpointEnv: not without the failpoints
// tag, whatever the environment says.
const FailpointsBuilt = false

// armedFailpoint returns no failpoint: this build has none.
func armedFailpoint() string { return "" }

// fail does nothing: this build has no failpoints.
func (s *Sweeper) fail(string) {}
