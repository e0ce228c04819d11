package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/callconsent/callconsent/access"
	"github.com/callconsent/callconsent/consent"
	"github.com/callconsent/callconsent/consent/sqlite"
)

// hostAudit records a host command's access to personal data (calls list/show, withdraw, sweep
// --force) in the audit log, with the OS account as actor. Queries open the database read-only;
// this opens it for writing beside them, without the whole-file integrity check (the daemon's
// job), to append one entry. It runs after the query and before anything is printed: no
// record, no output.
func hostAudit(ctx context.Context, cfg *Config, req access.Request, objects []access.Object, detail string) (err error) {
	db := sqlite.NewDB(cfg.DB)
	db.SkipQuickCheck = true
	if err := db.Open(ctx); err != nil {
		return fmt.Errorf("audit: open database %s: %w", cfg.DB, err)
	}
	defer closeInto(&err, db)
	svc, err := openAccess(ctx, cfg, db, nil)
	if err != nil {
		return err
	}
	return authorizeDone(ctx, svc, hostActor(), req, objects, detail)
}

// authorizeDone authorizes req for actor and records it done with objects and detail; many
// objects are split over several entries (maxAuditCalls each), every one named.
func authorizeDone(ctx context.Context, svc *access.Service, actor access.Actor, req access.Request, objects []access.Object, detail string) error {
	acc, err := svc.Authorize(ctx, actor, req)
	if err != nil {
		return err
	}
	return acc.DoneParts(ctx, objects, detail, maxAuditCalls)
}

// maxAuditCalls bounds the calls one audit entry names: `calls list --limit 0` can return a
// million; its read is then recorded in several entries, so that a later DSAR for any of those
// calls finds it.
const maxAuditCalls = 1000

// callObjects names calls by UUID for an audit entry.
func callObjects(uuids ...string) []access.Object {
	out := make([]access.Object, 0, len(uuids))
	for _, u := range uuids {
		out = append(out, access.Object{Kind: access.ObjectCall, ID: u})
	}
	return out
}

// authorizeWithdrawal opens the access service on the withdrawal's store and authorizes the
// host account's withdrawal (audited when done, withdrawalDone).
func authorizeWithdrawal(ctx context.Context, cfg *Config, st *storage, req consent.WithdrawRequest) (*access.Access, error) {
	svc, err := openAccess(ctx, cfg, st.DB, nil)
	if err != nil {
		return nil, err
	}
	r := access.Request{Action: access.ActionWithdraw, Reason: req.Reason, Detail: "by call"}
	if req.CallUUID != "" {
		r.Objects = callObjects(req.CallUUID)
	} else {
		r.Detail = "by caller"
	}
	return svc.Authorize(ctx, hostActor(), r)
}

// withdrawalDone records the withdrawal's outcome and returns err, joined with an audit failure
// (authErr: the request could not be authorized and recorded at all).
func withdrawalDone(ctx context.Context, acc *access.Access, authErr error, res consent.WithdrawResult, err error) error {
	if acc == nil {
		return errors.Join(err, consent.Errorf(consent.ECONFLICT, "the withdrawal is not in the audit log: %s", errorText(authErr)))
	}
	detail := fmt.Sprintf("%d calls withdrawn, %d files deleted, %d awaiting deletion", len(res.Calls), res.Files, res.FilesPending)
	if res.DaemonSide {
		detail += ", by the daemon"
	}
	objs := callObjects(res.Calls...)
	var aerr error
	if err != nil && len(res.Calls) == 0 {
		aerr = acc.Fail(ctx, err)
	} else {
		aerr = acc.Done(ctx, objs, detail)
	}
	if aerr != nil {
		return errors.Join(err, fmt.Errorf("audit: %w", aerr))
	}
	return err
}

// authorizeForce authorizes the host account's sweep --force (audited when done).
func authorizeForce(ctx context.Context, cfg *Config, st *storage) (*access.Access, error) {
	svc, err := openAccess(ctx, cfg, st.DB, nil)
	if err != nil {
		return nil, err
	}
	return svc.Authorize(ctx, hostActor(), access.Request{Action: access.ActionForceSweep, Detail: "sweep --force overrides the clock and share guards"})
}

// forcedSweepDone records the forced sweep's end and returns err, joined with an audit failure.
func forcedSweepDone(ctx context.Context, acc *access.Access, err error) error {
	var aerr error
	if err != nil {
		aerr = acc.Fail(ctx, err)
	} else {
		aerr = acc.Done(ctx, nil, "")
	}
	if aerr != nil {
		return errors.Join(err, fmt.Errorf("audit: %w", aerr))
	}
	return err
}
