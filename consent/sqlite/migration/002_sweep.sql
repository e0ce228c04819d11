-- 002_sweep: what the retention sweep must remember between runs and across crashes.

-- sweep_state holds small values of the sweeper, keyed by name: the wall time of the last sweep
-- (a clock that runs backwards must not make the next sweep keep or delete the wrong files) and
-- of the last full orphan scan. Values are text; the sweeper owns their format.
CREATE TABLE sweep_state (
	key   TEXT PRIMARY KEY NOT NULL,
	value TEXT NOT NULL
) STRICT;

-- deletion_intents is the write-ahead record of every file the sweeper is about to unlink
-- (R-RETAIN-4). A recording row has its own "deleting" state, but orphans and audio without a
-- grant have no row: without an intent, a crash between unlink and tombstone would leave a
-- deletion without its proof (R-RETAIN-3). The intent is committed before the unlink, the
-- tombstone and the removal of the intent share one transaction after it, so a restart finishes
-- every intent exactly once. It holds no personal data: a path, a call UUID, a reason.
CREATE TABLE deletion_intents (
	path       TEXT PRIMARY KEY NOT NULL,
	call_uuid  TEXT,
	reason     TEXT NOT NULL
		CHECK (reason IN ('retention', 'withdrawal', 'not-granted', 'orphan', 'failed')),
	bytes      INTEGER NOT NULL DEFAULT 0 CHECK (bytes >= 0),
	created_at TEXT NOT NULL
) STRICT;
