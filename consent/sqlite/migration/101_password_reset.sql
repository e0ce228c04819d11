-- 101_password_reset: a password set by someone else (a security officer's reset) lets its user
-- do nothing but set their own (access.Authorize), so the one who set it cannot log in as them
-- and act in their name (separation of duties). Cleared when the user sets their own.
ALTER TABLE users ADD COLUMN must_change_password INTEGER NOT NULL DEFAULT 0 CHECK (must_change_password IN (0, 1));
