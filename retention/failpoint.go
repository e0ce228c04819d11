package retention

// FailpointEnv names the environment variable that makes a sweeping process kill itself with
// SIGKILL at one step of the deletion protocol. It exists for the crash tests, which prove that
// a crash at any step leaves nothing behind once the next sweep has run (R-RETAIN-4). SIGKILL,
// not os.Exit: no deferred function, no buffered write may run, as in a real power cut. It is
// honoured only by builds with the failpoints tag (failpoint_on.go), which the crash tests make
// for themselves: the daemon and the CLI as shipped have no failpoints, so a stray variable in
// a unit file cannot make them kill themselves.
const FailpointEnv = "CALLCONSENT_FAILPOINT"

// FailpointTag is the build tag that compiles the failpoints in: go build -tags failpoints.
const FailpointTag = "failpoints"

// Failpoints, the steps of one batch after which the process can be killed.
const (
	FailAfterMark   = "after-mark-deleting" // intent committed, nothing unlinked
	FailAfterUnlink = "after-unlink"        // first file of the batch unlinked, the rest not
	FailAfterFsync  = "after-fsync"         // all unlinked and durable, no tombstone yet
)
