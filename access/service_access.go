package access

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/callconsent/callconsent/consent"
)

// Request is what an actor asks to do: the action, the purpose (line managers), the reason,
// and what is known beforehand of the objects and details (a listen's call UUID, a search's
// filters).
type Request struct {
	Action  Action
	Purpose string
	Reason  string
	Objects []Object
	Detail  string
}

// Access is an allowed request whose audit entry is not written yet. The caller does the work,
// then calls Done with what it touched (the calls a search returned, an export's id) BEFORE it
// shows or hands over anything, or Fail when the work failed. Done's error means nothing may be
// disclosed: no record, no access.
type Access struct {
	svc   *Service
	entry Entry
	done  bool
	// Grant is the grant that allowed a line manager's request (0 for others).
	Grant int64
}

// Authorize decides req for actor (access.Authorize) and returns the allowed Access, or
// audits the denial and returns an ECONFLICT error saying what is missing.
func (s *Service) Authorize(ctx context.Context, actor Actor, req Request) (*Access, error) {
	e := entryFor(actor, string(req.Action))
	e.Purpose, e.Reason, e.Detail = req.Purpose, strings.TrimSpace(req.Reason), req.Detail
	e.Objects = append([]Object(nil), req.Objects...)
	var acc *Access
	// The decision and its entry are made even if the asker has gone (a web client hung up):
	// a refusal must leave its trace, and an allowed request's work will fail on ctx and say so.
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), auditWriteTimeout)
	defer cancel()
	err := s.update(wctx, func(tx Tx, audit func(Entry)) error {
		if err := s.authorizeTx(tx, actor, req.Action, req.Purpose, req.Reason, &e, audit); err != nil {
			return err
		}
		acc = &Access{svc: s, entry: e}
		for _, o := range e.Objects {
			if o.Kind == ObjectGrant {
				acc.Grant = parseID(o.ID)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return acc, nil
}

// Done writes the request's entry with result ok, the objects it touched (added to those of
// the request) and detail (added to the request's).
func (a *Access) Done(ctx context.Context, objects []Object, detail string) error {
	if a.done {
		return consent.Errorf(consent.EINTERNAL, "access audited twice")
	}
	a.done = true
	e := a.entry
	for _, o := range objects {
		if !slices.Contains(e.Objects, o) {
			e.Objects = append(e.Objects, o)
		}
	}
	e.Detail = joinDetail(e.Detail, detail)
	_, err := a.svc.Append(ctx, e)
	return err
}

// Begin records that an allowed request starts to copy personal data, before the first byte
// is written anywhere (a listen's or an export's temporary file): an entry with action
// "<action>.started", the request's purpose and reason, its objects and objects. The entry Done or Fail
// writes later says how it ended; a crash in between still leaves the access on record. Its
// error means nothing may be copied.
func (a *Access) Begin(ctx context.Context, objects []Object, detail string) error {
	if a.done {
		return consent.Errorf(consent.EINTERNAL, "access audited twice")
	}
	e := a.entry
	e.Action += ".started"
	e.Objects = slices.Clone(e.Objects)
	for _, o := range objects {
		if !slices.Contains(e.Objects, o) {
			e.Objects = append(e.Objects, o)
		}
	}
	e.Detail = joinDetail(e.Detail, detail)
	_, err := a.svc.Append(ctx, e)
	return err
}

// DoneParts is Done for a request that touched more objects than one entry should hold (a host
// read of every call): the objects are split over entries of at most per each, every one named,
// each entry saying which part it is, all written in one transaction.
func (a *Access) DoneParts(ctx context.Context, objects []Object, detail string, per int) error {
	if per <= 0 || len(objects) <= per {
		return a.Done(ctx, objects, detail)
	}
	if a.done {
		return consent.Errorf(consent.EINTERNAL, "access audited twice")
	}
	a.done = true
	parts := (len(objects) + per - 1) / per
	entries := make([]Entry, 0, parts)
	for i := range parts {
		lo, hi := i*per, min((i+1)*per, len(objects))
		e := a.entry
		e.Objects = append(slices.Clone(a.entry.Objects), objects[lo:hi]...)
		e.Detail = joinDetail(e.Detail, fmt.Sprintf("%s; part %d of %d (objects %d-%d of %d)", detail, i+1, parts, lo+1, hi, len(objects)))
		entries = append(entries, e)
	}
	var last Entry
	err := a.svc.Store.Update(ctx, func(tx Tx) error {
		for i := range entries {
			e := entries[i]
			if err := a.svc.appendTx(tx, &e); err != nil {
				return err
			}
			last = e
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	a.svc.writeHead(last)
	return nil
}

// Fail writes the request's entry with result error and the cause's message (never driver
// details: consent.ErrorMessage).
func (a *Access) Fail(ctx context.Context, cause error) error {
	if a.done {
		return nil
	}
	a.done = true
	e := a.entry
	e.Result = ResultError
	e.Detail = joinDetail(e.Detail, "error: "+consent.ErrorMessage(cause))
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), auditWriteTimeout)
	defer cancel()
	_, err := a.svc.Append(wctx, e)
	return err
}

func parseID(s string) int64 {
	var n int64
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0
		}
		n = n*10 + int64(c-'0')
	}
	return n
}
