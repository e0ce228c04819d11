package sqlite

// FindDueQuery is the query of FindDue, so that a test can check its plan.
const FindDueQuery = findDueQuery

// SweepStatements are the set-based statements of MarkDeleting and FinishDeletions, and the
// statement that creates the batch table they read, so that a test can check their plans.
var (
	SweepBatchCreate = sweepBatchCreate
	SweepStatements  = []string{markRefused, markUpdate, markInsertIntents, finishConflictQuery,
		finishInsertTombstones, finishUpdate, finishDeleteIntents}
)
