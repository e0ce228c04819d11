package main

import "time"

// DefaultAuditRetention is audit-retention's default, three years: long enough to answer for an
// access in a disciplinary case or a complaint to the data protection authority.
const DefaultAuditRetention = 3 * 365 * 24 * time.Hour

// validateAccess checks the access keys: the audit log is kept at least as long as the
// recordings it speaks about (an access must stay provable while the audio exists), sessions
// time out within sane bounds.
func (c *Config) validateAccess() error {
	switch {
	case c.AuditRetention < c.Retention:
		return invalidKey("audit-retention", fmtDuration(c.AuditRetention), "is shorter than retention ("+fmtDuration(c.Retention)+"): the audit log must outlive the recordings it speaks about")
	case c.SessionIdle < time.Minute || c.SessionIdle > 24*time.Hour:
		return invalidKey("session-idle-timeout", fmtDuration(c.SessionIdle), "must be between 1m and 24h")
	case c.SessionMaxAge < c.SessionIdle || c.SessionMaxAge > 7*24*time.Hour:
		return invalidKey("session-max-age", fmtDuration(c.SessionMaxAge), "must be at least session-idle-timeout and at most 168h")
	}
	return nil
}
