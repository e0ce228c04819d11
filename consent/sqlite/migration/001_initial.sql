-- 001_initial: calls with their consent proof, recordings, tombstones.
--
-- Times are TEXT in one fixed-width UTC format (2006-01-02T15:04:05.000000000Z) so that
-- comparing and sorting the strings compares and sorts the instants. Tables are STRICT so a
-- wrong type is refused instead of silently stored.

-- calls holds one row per call handed to callconsent, with the consent decision and its proof
-- (R-CONSENT-4). Caller and agent are keyed pseudonyms only, never numbers or names (R-PSEUDO-1/2).
CREATE TABLE calls (
	uuid              TEXT PRIMARY KEY NOT NULL,
	caller_pseudonym  TEXT NOT NULL,
	agent_pseudonym   TEXT NOT NULL DEFAULT '',
	language          TEXT NOT NULL DEFAULT '',
	started_at        TEXT NOT NULL,
	decision          TEXT NOT NULL DEFAULT 'pending'
		CHECK (decision IN ('pending', 'granted', 'declined', 'no-input', 'abandoned', 'error')),
	decided_at        TEXT,
	digit             TEXT,
	tries             INTEGER CHECK (tries IS NULL OR tries >= 0),
	notice_version    TEXT,
	notice_sha256     TEXT,
	proof_language    TEXT,
	ended_at          TEXT,
	withdrawn_at      TEXT,
	withdrawal_reason TEXT,
	-- A grant without its proof is worthless as evidence: refuse it at the lowest level.
	CHECK (decision <> 'granted' OR decided_at IS NOT NULL)
) STRICT;

CREATE INDEX calls_started_at ON calls (started_at);
CREATE INDEX calls_caller_pseudonym ON calls (caller_pseudonym, started_at);
CREATE INDEX calls_decision ON calls (decision, started_at);
CREATE INDEX calls_withdrawn_at ON calls (withdrawn_at) WHERE withdrawn_at IS NOT NULL;

-- recordings holds the one recording of a call with consent. Deleting a call cascades to its
-- recording row so that call metadata can be purged after retention, but only once the audio is
-- gone: calls_purge_guard and recordings_delete_guard refuse it while the state is not deleted.
CREATE TABLE recordings (
	call_uuid   TEXT PRIMARY KEY NOT NULL REFERENCES calls (uuid) ON DELETE CASCADE,
	path        TEXT NOT NULL UNIQUE,
	state       TEXT NOT NULL DEFAULT 'pending'
		CHECK (state IN ('pending', 'recording', 'complete', 'failed', 'deleting', 'deleted')),
	started_at  TEXT NOT NULL,
	ended_at    TEXT,
	duration_ms INTEGER NOT NULL DEFAULT 0 CHECK (duration_ms >= 0),
	bytes       INTEGER NOT NULL DEFAULT 0 CHECK (bytes >= 0)
) STRICT;

CREATE INDEX recordings_state_started_at ON recordings (state, started_at);

-- tombstones prove deletions (R-RETAIN-3). They deliberately do not reference calls: the proof
-- must outlive the purge of the call row, and orphan files have no call at all.
CREATE TABLE tombstones (
	id         INTEGER PRIMARY KEY,
	call_uuid  TEXT,
	path       TEXT NOT NULL,
	deleted_at TEXT NOT NULL,
	reason     TEXT NOT NULL
		CHECK (reason IN ('retention', 'withdrawal', 'not-granted', 'orphan', 'failed')),
	bytes      INTEGER NOT NULL DEFAULT 0 CHECK (bytes >= 0)
) STRICT;

CREATE INDEX tombstones_deleted_at ON tombstones (deleted_at);
CREATE INDEX tombstones_call_uuid ON tombstones (call_uuid);

-- Defence in depth for R-CONSENT-3: even a bug in the Go code, or a hand-typed INSERT, cannot
-- create a recording row without a stored, not withdrawn grant.
CREATE TRIGGER recordings_require_grant BEFORE INSERT ON recordings
WHEN NOT EXISTS (
	SELECT 1 FROM calls
	WHERE uuid = NEW.call_uuid AND decision = 'granted' AND withdrawn_at IS NULL
)
BEGIN
	SELECT RAISE(ABORT, 'recording refused: call has no stored grant or consent was withdrawn');
END;

-- A decision, once taken, is evidence and is never rewritten.
CREATE TRIGGER calls_decision_final BEFORE UPDATE OF decision ON calls
WHEN OLD.decision <> 'pending' AND NEW.decision IS NOT OLD.decision
BEGIN
	SELECT RAISE(ABORT, 'decision refused: a taken decision is never changed');
END;

-- A withdrawal cannot be undone or re-dated.
CREATE TRIGGER calls_withdrawal_final BEFORE UPDATE OF withdrawn_at ON calls
WHEN OLD.withdrawn_at IS NOT NULL AND NEW.withdrawn_at IS NOT OLD.withdrawn_at
BEGIN
	SELECT RAISE(ABORT, 'withdrawal refused: a withdrawal is never undone');
END;

-- Call metadata may only be purged once its audio is gone (the cascade then removes the row).
CREATE TRIGGER calls_purge_guard BEFORE DELETE ON calls
WHEN EXISTS (SELECT 1 FROM recordings WHERE call_uuid = OLD.uuid AND state <> 'deleted')
BEGIN
	SELECT RAISE(ABORT, 'purge refused: the call has a recording that is not deleted');
END;

CREATE TRIGGER recordings_delete_guard BEFORE DELETE ON recordings
WHEN OLD.state <> 'deleted'
BEGIN
	SELECT RAISE(ABORT, 'delete refused: the recording is not deleted yet');
END;

-- Tombstones are proof: append-only.
CREATE TRIGGER tombstones_no_update BEFORE UPDATE ON tombstones
BEGIN
	SELECT RAISE(ABORT, 'tombstones are append-only');
END;

CREATE TRIGGER tombstones_no_delete BEFORE DELETE ON tombstones
BEGIN
	SELECT RAISE(ABORT, 'tombstones are append-only');
END;
