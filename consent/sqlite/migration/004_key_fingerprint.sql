-- 004_key_fingerprint: which pseudonymisation key this database belongs to.

-- meta holds small facts about the database itself, keyed by name. The one so far,
-- pseudonym_key_fingerprint, is an HMAC of a fixed label under the pseudonym key
-- (consent.Pseudonymizer.KeyFingerprint): it names the key without revealing it, so that a
-- command started with a missing or different key file refuses to run instead of making
-- pseudonyms that match none of the stored callers. Databases made before this migration get
-- the fingerprint of the key they are next opened with (see consent.OpenKey).
CREATE TABLE meta (
	key   TEXT PRIMARY KEY NOT NULL,
	value TEXT NOT NULL
) STRICT;

-- The fingerprint binds the database to its key for good: rewriting it would bless another key
-- for calls pseudonymised with the first. (Re-keying, if it ever comes, is its own migration.)
CREATE TRIGGER meta_key_fingerprint_final BEFORE UPDATE ON meta
WHEN OLD.key = 'pseudonym_key_fingerprint'
BEGIN
	SELECT RAISE(ABORT, 'the pseudonym key fingerprint is never changed');
END;
