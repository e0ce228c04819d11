package access

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/callconsent/callconsent/consent"
)

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// AddGrant gives user (a line manager) access for purposes until expires, with the granting
// reason (R-ACCESS-2). by must be a security officer; each purpose must be in force.
func (s *Service) AddGrant(ctx context.Context, by Actor, user string, purposes []string, expires time.Time, reason string) (Grant, error) {
	ps := slices.Clone(purposes)
	slices.Sort(ps)
	ps = slices.Compact(ps)
	g := Grant{User: user, Purposes: ps, ExpiresAt: expires.UTC(), GrantedBy: by.Name, Reason: strings.TrimSpace(reason)}
	err := s.update(ctx, func(tx Tx, audit func(Entry)) error {
		now := s.now()
		e := entryFor(by, "grant.add")
		e.Reason = g.Reason
		e.Objects = []Object{{ObjectUser, user}}
		e.Purpose = strings.Join(ps, ",")
		e.Detail = "expires " + g.ExpiresAt.Format(time.RFC3339)
		if err := s.authorizeTx(tx, by, ActionManageGrants, "", reason, &e, audit); err != nil {
			return err
		}
		refuse := func(err error) error {
			e.Result, e.Detail = ResultDenied, joinDetail(e.Detail, consent.ErrorMessage(err))
			audit(e)
			return err
		}
		u, err := tx.User(user)
		if err != nil {
			return refuse(err)
		}
		if u.Role != RoleLineManager || u.Disabled {
			return refuse(consent.Errorf(consent.ECONFLICT, "grants are for enabled line managers; %s is a %s%s", user, u.Role, map[bool]string{true: " and disabled"}[u.Disabled]))
		}
		if len(ps) == 0 {
			return refuse(consent.Errorf(consent.EINVALID, "a grant needs at least one purpose"))
		}
		for _, p := range ps {
			pp, err := tx.Purpose(p)
			if err != nil || !pp.Active() {
				return refuse(consent.Errorf(consent.EINVALID, "purpose %q is not an approved purpose in force (see purposes list)", clip(p)))
			}
		}
		if !g.ExpiresAt.After(now) || g.ExpiresAt.Sub(now) > MaxGrantDuration {
			return refuse(consent.Errorf(consent.EINVALID, "a grant must expire after now and within %d days", int(MaxGrantDuration.Hours()/24)))
		}
		g.GrantedAt = now
		if err := tx.InsertGrant(&g); err != nil {
			return err
		}
		e.Objects = append(e.Objects, Object{ObjectGrant, itoa(g.ID)})
		audit(e)
		return nil
	})
	return g, err
}

// RevokeGrant ends grant id at once, with the reason; a revoked grant stays on record.
func (s *Service) RevokeGrant(ctx context.Context, by Actor, id int64, reason string) (Grant, error) {
	var g Grant
	err := s.update(ctx, func(tx Tx, audit func(Entry)) error {
		e := entryFor(by, "grant.revoke")
		e.Reason = strings.TrimSpace(reason)
		e.Objects = []Object{{ObjectGrant, itoa(id)}}
		if err := s.authorizeTx(tx, by, ActionManageGrants, "", reason, &e, audit); err != nil {
			return err
		}
		var err error
		if g, err = tx.Grant(id); err != nil {
			return err
		}
		if !g.RevokedAt.IsZero() {
			return consent.Errorf(consent.ECONFLICT, "grant %d was revoked already, at %s by %s", id, g.RevokedAt.Format(time.RFC3339), g.RevokedBy)
		}
		g.RevokedAt, g.RevokedBy, g.RevokeReason = s.now(), by.Name, e.Reason
		e.Objects = append(e.Objects, Object{ObjectUser, g.User})
		e.Purpose = strings.Join(g.Purposes, ",")
		audit(e)
		return tx.RevokeGrant(g)
	})
	return g, err
}

// Grants lists grants for a security officer: the active ones, or all with all.
func (s *Service) Grants(ctx context.Context, by Actor, all bool) ([]Grant, error) {
	var out []Grant
	err := s.update(ctx, func(tx Tx, audit func(Entry)) error {
		e := entryFor(by, "grant.list")
		if err := s.authorizeTx(tx, by, ActionManageGrants, "", "list the grants", &e, audit); err != nil {
			return err
		}
		gs, err := tx.Grants("")
		now := s.now()
		for _, g := range gs {
			if all || g.State(now) == GrantActive {
				out = append(out, g)
			}
		}
		audit(e)
		return err
	})
	return out, err
}

// AddPurpose approves a new purpose (R-PURPOSE-2): a security officer's action with a reason.
func (s *Service) AddPurpose(ctx context.Context, by Actor, name, description, reason string) error {
	if err := ValidName("purpose", name); err != nil {
		return err
	}
	description = strings.TrimSpace(description)
	if description == "" || len(description) > MaxReasonBytes || !oneLine(description) {
		return consent.Errorf(consent.EINVALID, "a purpose needs a description: one line of at most %d bytes", MaxReasonBytes)
	}
	return s.update(ctx, func(tx Tx, audit func(Entry)) error {
		e := entryFor(by, "purpose.add")
		e.Reason, e.Purpose, e.Detail = strings.TrimSpace(reason), name, description
		e.Objects = []Object{{ObjectPurpose, name}}
		if err := s.authorizeTx(tx, by, ActionManagePurposes, "", reason, &e, audit); err != nil {
			return err
		}
		audit(e)
		return tx.InsertPurpose(Purpose{Name: name, Description: description, ApprovedBy: by.Name, ApprovedAt: s.now(), Reason: e.Reason})
	})
}

// RetirePurpose takes a purpose out of force; grants naming it no longer allow access for it.
func (s *Service) RetirePurpose(ctx context.Context, by Actor, name, reason string) error {
	return s.update(ctx, func(tx Tx, audit func(Entry)) error {
		e := entryFor(by, "purpose.retire")
		e.Reason, e.Purpose = strings.TrimSpace(reason), name
		e.Objects = []Object{{ObjectPurpose, name}}
		if err := s.authorizeTx(tx, by, ActionManagePurposes, "", reason, &e, audit); err != nil {
			return err
		}
		p, err := tx.Purpose(name)
		if err != nil {
			return err
		} else if !p.Active() {
			return consent.Errorf(consent.ECONFLICT, "purpose %s was retired already", name)
		}
		p.RetiredAt, p.RetiredBy, p.RetireReason = s.now(), by.Name, e.Reason
		audit(e)
		return tx.RetirePurpose(p)
	})
}

// Purposes returns every purpose, retired ones too; the list is the public record of processing
// (policy), so reading it needs no login.
func (s *Service) Purposes(ctx context.Context) ([]Purpose, error) {
	var out []Purpose
	err := s.Store.View(ctx, func(tx Tx) error {
		var err error
		out, err = tx.Purposes()
		return err
	})
	return out, err
}

// SeedPurposes stores names as approved purposes if the store has none yet: the `purposes`
// configuration key seeds an empty store and is ignored afterwards. The seed is audited as
// approved by the host actor by, with the configuration as its reason. It reports whether it
// seeded.
func (s *Service) SeedPurposes(ctx context.Context, by Actor, names []string) (bool, error) {
	seeded := false
	err := s.update(ctx, func(tx Tx, audit func(Entry)) error {
		ps, err := tx.Purposes()
		if err != nil || len(ps) > 0 {
			return err
		}
		for _, n := range names {
			if err := ValidName("purpose", n); err != nil {
				return err
			}
			reason := "seeded from the purposes configuration key"
			if err := tx.InsertPurpose(Purpose{Name: n, Description: "from configuration", ApprovedBy: by.String(), ApprovedAt: s.now(), Reason: reason}); err != nil {
				return err
			}
			e := entryFor(by, "purpose.seed")
			e.Purpose, e.Reason = n, reason
			e.Objects = []Object{{ObjectPurpose, n}}
			audit(e)
		}
		seeded = len(names) > 0
		return nil
	})
	return seeded, err
}
