package sqlite

// FindDueQuery is the query of FindDue, so that a test can check its plan.
const FindDueQuery = findDueQuery
