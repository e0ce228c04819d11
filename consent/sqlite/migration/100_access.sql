-- 100_access: access control and the audit log (issue 9; the access/ domain, access/sqlite).
-- Numbered from 100 so that consent's own migrations (001–099) never clash with these.

-- users: one role each; never deleted, only disabled, so the audit log's names stay meaningful.
-- password_hash is a PHC string (argon2id); failed_logins and locked_until throttle logins and
-- survive a restart.
CREATE TABLE users (
	name          TEXT PRIMARY KEY NOT NULL,
	role          TEXT NOT NULL CHECK (role IN ('security-officer', 'line-manager')),
	disabled      INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
	password_hash TEXT NOT NULL,
	created_at    TEXT NOT NULL,
	created_by    TEXT NOT NULL,
	failed_logins INTEGER NOT NULL DEFAULT 0 CHECK (failed_logins >= 0),
	locked_until  TEXT
) STRICT;

CREATE TRIGGER users_never_deleted BEFORE DELETE ON users
BEGIN
	SELECT RAISE(ABORT, 'users are never deleted: disable them');
END;

-- purposes (R-PURPOSE-1/2): approved by a security officer, retired but never deleted.
CREATE TABLE purposes (
	name          TEXT PRIMARY KEY NOT NULL,
	description   TEXT NOT NULL,
	approved_by   TEXT NOT NULL,
	approved_at   TEXT NOT NULL,
	reason        TEXT NOT NULL,
	retired_at    TEXT,
	retired_by    TEXT,
	retire_reason TEXT
) STRICT;

CREATE TRIGGER purposes_never_deleted BEFORE DELETE ON purposes
BEGIN
	SELECT RAISE(ABORT, 'purposes are never deleted: retire them');
END;

CREATE TRIGGER purposes_retire_only BEFORE UPDATE ON purposes
WHEN OLD.retired_at IS NOT NULL OR NEW.name IS NOT OLD.name OR NEW.description IS NOT OLD.description
	OR NEW.approved_by IS NOT OLD.approved_by OR NEW.approved_at IS NOT OLD.approved_at OR NEW.reason IS NOT OLD.reason
BEGIN
	SELECT RAISE(ABORT, 'a purpose is only ever retired, once');
END;

-- grants (R-ACCESS-2): purposes as a comma-separated sorted list of purpose names.
CREATE TABLE grants (
	id            INTEGER PRIMARY KEY AUTOINCREMENT,
	user          TEXT NOT NULL REFERENCES users (name),
	purposes      TEXT NOT NULL CHECK (purposes <> ''),
	expires_at    TEXT NOT NULL,
	granted_by    TEXT NOT NULL,
	granted_at    TEXT NOT NULL,
	reason        TEXT NOT NULL,
	revoked_at    TEXT,
	revoked_by    TEXT,
	revoke_reason TEXT
) STRICT;

CREATE INDEX grants_user ON grants (user);

CREATE TRIGGER grants_never_deleted BEFORE DELETE ON grants
BEGIN
	SELECT RAISE(ABORT, 'grants are never deleted: revoke them');
END;

CREATE TRIGGER grants_revoke_only BEFORE UPDATE ON grants
WHEN OLD.revoked_at IS NOT NULL OR NEW.id IS NOT OLD.id OR NEW.user IS NOT OLD.user OR NEW.purposes IS NOT OLD.purposes
	OR NEW.expires_at IS NOT OLD.expires_at OR NEW.granted_by IS NOT OLD.granted_by
	OR NEW.granted_at IS NOT OLD.granted_at OR NEW.reason IS NOT OLD.reason
BEGIN
	SELECT RAISE(ABORT, 'a grant is only ever revoked, once');
END;

-- sessions of the web console: only the SHA-256 of the token is stored.
CREATE TABLE sessions (
	token_hash BLOB PRIMARY KEY NOT NULL CHECK (length(token_hash) = 32),
	user       TEXT NOT NULL REFERENCES users (name),
	created_at TEXT NOT NULL,
	last_used  TEXT NOT NULL
) STRICT;

CREATE INDEX sessions_user ON sessions (user, created_at);

-- audit_anchor: where the log starts after pruning (seq of the first kept entry, the MAC it
-- follows, and the anchor's own MAC under the audit key). One row; seq only grows.
CREATE TABLE audit_anchor (
	id       INTEGER PRIMARY KEY CHECK (id = 1),
	seq      INTEGER NOT NULL,
	prev_mac BLOB,
	mac      BLOB
) STRICT;

INSERT INTO audit_anchor (id, seq) VALUES (1, 0);

CREATE TRIGGER audit_anchor_forward BEFORE UPDATE ON audit_anchor
WHEN NEW.seq <= OLD.seq OR NEW.id IS NOT OLD.id
BEGIN
	SELECT RAISE(ABORT, 'the audit anchor only moves forward');
END;

CREATE TRIGGER audit_anchor_kept BEFORE DELETE ON audit_anchor
BEGIN
	SELECT RAISE(ABORT, 'the audit anchor is never deleted');
END;

-- audit_log (R-SEC-2): append-only, each entry sealed with HMAC-SHA-256 over the previous
-- entry's MAC (access.AuditKey). objects is a JSON list of {kind, id}; audit_objects indexes
-- them for look-ups by call (a DSAR) and is covered by verify through the JSON.
CREATE TABLE audit_log (
	seq        INTEGER PRIMARY KEY,
	time       TEXT NOT NULL,
	actor      TEXT NOT NULL,
	actor_kind TEXT NOT NULL,
	role       TEXT NOT NULL,
	action     TEXT NOT NULL,
	purpose    TEXT NOT NULL,
	reason     TEXT NOT NULL,
	objects    TEXT NOT NULL,
	result     TEXT NOT NULL,
	detail     TEXT NOT NULL,
	prev_mac   BLOB,
	mac        BLOB NOT NULL
) STRICT;

CREATE INDEX audit_log_time ON audit_log (time);

CREATE TABLE audit_objects (
	kind TEXT NOT NULL,
	id   TEXT NOT NULL,
	seq  INTEGER NOT NULL REFERENCES audit_log (seq),
	PRIMARY KEY (kind, id, seq)
) STRICT, WITHOUT ROWID;

CREATE INDEX audit_objects_seq ON audit_objects (seq);

CREATE TRIGGER audit_log_append_at_end BEFORE INSERT ON audit_log
WHEN NEW.seq IS NOT COALESCE((SELECT MAX(seq) FROM audit_log), (SELECT MAX(seq - 1, 0) FROM audit_anchor WHERE id = 1)) + 1
BEGIN
	SELECT RAISE(ABORT, 'the audit log only grows at its end');
END;

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
	SELECT RAISE(ABORT, 'the audit log is append-only');
END;

-- Only a prune deletes, and only what lies before the anchor it moved forward first.
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
WHEN OLD.seq >= (SELECT seq FROM audit_anchor WHERE id = 1)
BEGIN
	SELECT RAISE(ABORT, 'the audit log is append-only: entries go only by pruning');
END;

CREATE TRIGGER audit_objects_no_update BEFORE UPDATE ON audit_objects
BEGIN
	SELECT RAISE(ABORT, 'the audit log is append-only');
END;

CREATE TRIGGER audit_objects_no_delete BEFORE DELETE ON audit_objects
WHEN OLD.seq >= (SELECT seq FROM audit_anchor WHERE id = 1)
BEGIN
	SELECT RAISE(ABORT, 'the audit log is append-only: entries go only by pruning');
END;

CREATE TRIGGER meta_audit_key_fingerprint_final BEFORE UPDATE ON meta
WHEN OLD.key = 'audit_key_fingerprint'
BEGIN
	SELECT RAISE(ABORT, 'the audit key fingerprint is never changed');
END;
