package export

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/callconsent/callconsent/access"
	"github.com/callconsent/callconsent/consent"
)

// TrainingPurpose is the one purpose a training export serves: the copy leaves the recordings
// folder for good, so a grant for quality assurance, which is about listening, does not cover it.
const TrainingPurpose = "training"

// Access is the access service as the exports use it (access.Service): every export is
// authorised there with purpose and reason, and audited there, refusals included.
type Access interface {
	Authorize(ctx context.Context, actor access.Actor, req access.Request) (*access.Access, error)
	AuditEntries(ctx context.Context, by access.Actor, f access.AuditFilter) ([]access.Entry, error)
	Append(ctx context.Context, e access.Entry) (access.Entry, error)
}

// CallStore is what the exports read of the consent store.
type CallStore interface {
	consent.SubjectFinder
	FindCall(ctx context.Context, callUUID string) (*consent.Call, error)
}

// Service makes exports through the access service: the only way a recording or a caller's data
// leaves callconsent on purpose. cmd/ wires it; its rules are here.
type Service struct {
	Access        Access
	Store         CallStore
	Notices       []NoticeFile // the notices configured now, for access archives
	RecordingsDir string
	// Now returns the current time; tests set a fixed clock.
	Now func() time.Time
}

// DSARRequest is a security officer's request for a caller's access archive.
type DSARRequest struct {
	Actor           access.Actor
	CallerPseudonym string
	Reason          string
	Out             string
	DryRun          bool      // plan and audit, write nothing
	Since, Until    time.Time // the period of the calls, see Request
	Progress        func(done, total int64)
}

// DSARResult is what DSAR made: the archive planned, and once written its path and SHA-256.
type DSARResult struct {
	Archive *Archive
	Written *Written // nil for a dry run
}

// DSAR makes the access archive of one caller (R-ACCESS-3) for a security officer: authorised
// with the reason (denials audited by the access service), then planned, written and audited
// with the calls it holds and the archive's SHA-256. An archive whose audit entry cannot be
// written is removed: no record, no disclosure. A dry run is audited too (it tells how many
// calls a number made).
func (s *Service) DSAR(ctx context.Context, req DSARRequest) (*DSARResult, error) {
	acc, err := s.Access.Authorize(ctx, req.Actor, access.Request{Action: access.ActionDSAR, Reason: req.Reason, Detail: dryRunDetail(req.DryRun)})
	if err != nil {
		return nil, err
	}
	src := Sources{Store: s.Store, Audit: &auditReader{svc: s.Access, by: req.Actor}, Notices: s.Notices, RecordingsDir: s.RecordingsDir}
	a, err := Prepare(ctx, src, Request{CallerPseudonym: req.CallerPseudonym, By: req.Actor.Name, Now: s.now(), Since: req.Since, Until: req.Until})
	if err != nil {
		return nil, failed(ctx, acc, err)
	}
	calls := make([]access.Object, len(a.Manifest.Calls))
	for i, c := range a.Manifest.Calls {
		calls[i] = access.Object{Kind: access.ObjectCall, ID: c.UUID}
	}
	sum := a.Summary()
	detail := fmt.Sprintf("calls=%d recordings=%d audio_bytes=%d deleted=%d audit_entries=%d", sum.Calls, sum.Recordings, sum.AudioBytes, sum.Deleted, sum.AuditEntries)
	if !req.Since.IsZero() || !req.Until.IsZero() {
		detail += fmt.Sprintf(" since=%s until=%s", fmtTime(req.Since), fmtTime(req.Until))
	}
	if req.DryRun {
		if err := acc.Done(ctx, calls, detail); err != nil {
			return nil, fmt.Errorf("audit: %w", err)
		}
		return &DSARResult{Archive: a}, nil
	}
	if err := acc.Begin(ctx, calls, detail); err != nil {
		return nil, fmt.Errorf("audit: %w (nothing was written)", err)
	}
	w, pending, err := a.WriteTemp(ctx, req.Out, req.Progress)
	if err != nil {
		return nil, failed(ctx, acc, err)
	}
	if err := acc.Done(ctx, calls, fmt.Sprintf("archive sha256=%s bytes=%d %s", w.SHA256, w.Bytes, detail)); err != nil {
		pending.Abort()
		return nil, fmt.Errorf("audit: %w (nothing was written)", err)
	}
	if err := pending.Commit(); err != nil {
		return nil, s.notNamed(ctx, req.Actor, access.ActionDSAR, "", req.Reason, calls, err)
	}
	return &DSARResult{Archive: a, Written: w}, nil
}

// TrainingRequest is a line manager's request for a training copy of one call.
type TrainingRequest struct {
	Actor           access.Actor
	CallUUID        string
	Purpose, Reason string
	Out             string
	Mutes           []Mute
	Progress        func(done, total int64)
}

// TrainingResult is a training export made.
type TrainingResult struct {
	Out, SidecarPath string
	Sidecar          *Sidecar
}

// Training makes a pseudonymised training copy of a call's recording (R-PSEUDO-3) for a line
// manager holding a training grant. Refused, each refusal audited: another purpose than
// training, no grant or reason (by the access service), and, once authorised, a call that is
// unknown, was not granted, was withdrawn, or whose recording is not complete (gone, failed or
// still being recorded) or not inside the recordings folder. The audit entry maps the export id to the call: the only place that
// mapping exists. Files whose entry cannot be written are removed.
func (s *Service) Training(ctx context.Context, req TrainingRequest) (*TrainingResult, error) {
	call := access.Object{Kind: access.ObjectCall, ID: req.CallUUID}
	if req.Purpose != TrainingPurpose {
		return nil, s.refuse(ctx, req, nil, fmt.Sprintf("a training export is made for purpose %s only: run it with --purpose %s", TrainingPurpose, TrainingPurpose))
	}
	acc, err := s.Access.Authorize(ctx, req.Actor, access.Request{Action: access.ActionExport, Purpose: req.Purpose, Reason: req.Reason, Objects: []access.Object{call}})
	if err != nil {
		return nil, err
	}
	c, err := s.Store.FindCall(ctx, req.CallUUID)
	if err != nil {
		return nil, failed(ctx, acc, err)
	}
	if why := untrainable(c); why != "" {
		return nil, s.refuse(ctx, req, acc, why)
	}
	// A path in the database leads outside the recordings folder only if someone changed it:
	// listen and the DSAR refuse such a file, and so does the export.
	if s.RecordingsDir == "" || !below(c.Recording.Path, s.RecordingsDir) {
		return nil, s.refuse(ctx, req, acc, fmt.Sprintf("the recording of call %s is not inside recordings-dir: refused", c.UUID))
	}
	id := NewExportID()
	if err := acc.Begin(ctx, []access.Object{{Kind: access.ObjectExport, ID: id}}, "training export"); err != nil {
		return nil, fmt.Errorf("audit: %w (nothing was written)", err)
	}
	sc, pending, err := PrepareTraining(Training{Recording: c.Recording.Path, Out: req.Out, Mutes: req.Mutes, CallStart: c.StartedAt,
		Language: c.Language, ExportID: id, Progress: req.Progress})
	if err != nil {
		return nil, failed(ctx, acc, err)
	}
	objs := []access.Object{{Kind: access.ObjectExport, ID: id}}
	detail := fmt.Sprintf("training export; muted ranges=%d; duration_ms=%d", len(sc.Muted), sc.DurationMS)
	if err := acc.Done(ctx, objs, detail); err != nil {
		pending.Abort()
		return nil, fmt.Errorf("audit: %w (nothing was written)", err)
	}
	if err := pending.Commit(); err != nil {
		return nil, s.notNamed(ctx, req.Actor, access.ActionExport, req.Purpose, req.Reason, append(objs, call), err)
	}
	return &TrainingResult{Out: req.Out, SidecarPath: SidecarPath(req.Out), Sidecar: sc}, nil
}

// notNamed audits an export whose ok entry is written but whose files could not be given their
// names (another file took the name meanwhile, the disk failed): result error, so that the log
// does not claim a copy exists that never did. It returns the cause.
func (s *Service) notNamed(ctx context.Context, a access.Actor, action access.Action, purpose, reason string, objs []access.Object, cause error) error {
	e := access.Entry{Actor: a.Name, ActorKind: a.Kind, Role: a.Role, Action: string(action), Purpose: purpose, Reason: reason,
		Objects: objs, Result: access.ResultError, Detail: "not written: " + consent.ErrorMessage(cause)}
	if _, err := s.Access.Append(ctx, e); err != nil {
		return fmt.Errorf("%w (and its audit entry: %v)", cause, err)
	}
	return cause
}

// untrainable says why the call c gives no training export, or "".
func untrainable(c *consent.Call) string {
	switch {
	case c.Decision != consent.DecisionGranted:
		return fmt.Sprintf("call %s has no consent to recording (decision %s): nothing to export", c.UUID, c.Decision)
	case c.Withdrawn():
		return fmt.Sprintf("the caller withdrew consent for call %s on %s: it may not be exported", c.UUID, c.WithdrawnAt.UTC().Format(time.DateOnly))
	case c.Recording == nil || c.Recording.State == consent.RecordingDeleted || c.Recording.State == consent.RecordingDeleting:
		return fmt.Sprintf("the recording of call %s is gone (deleted): nothing to export", c.UUID)
	case c.Recording.State != consent.RecordingComplete:
		return fmt.Sprintf("the recording of call %s is %s, not complete: only a finished recording can be exported", c.UUID, c.Recording.State)
	}
	return ""
}

// refuse audits a training export refused by this package's rules (result denied, with the
// grant that would have allowed it) and returns the refusal: ECONFLICT, exit 4, like a denial
// of the access service.
func (s *Service) refuse(ctx context.Context, req TrainingRequest, acc *access.Access, why string) error {
	e := access.Entry{Actor: req.Actor.Name, ActorKind: req.Actor.Kind, Role: req.Actor.Role, Action: string(access.ActionExport),
		Purpose: req.Purpose, Reason: req.Reason, Objects: []access.Object{{Kind: access.ObjectCall, ID: req.CallUUID}},
		Result: access.ResultDenied, Detail: why}
	if acc != nil && acc.Grant != 0 {
		e.Objects = append(e.Objects, access.Object{Kind: access.ObjectGrant, ID: strconv.FormatInt(acc.Grant, 10)})
	}
	if _, err := s.Access.Append(ctx, e); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	return consent.Errorf(consent.ECONFLICT, "export refused: %s", why)
}

// failed audits an authorised export that failed (result error) and returns its cause.
func failed(ctx context.Context, acc *access.Access, cause error) error {
	if err := acc.Fail(ctx, cause); err != nil {
		return fmt.Errorf("%w (and its audit entry: %v)", cause, err)
	}
	return cause
}

func dryRunDetail(dry bool) string {
	if dry {
		return "dry run"
	}
	return ""
}

func (s *Service) now() time.Time {
	if s.Now == nil {
		return time.Now().UTC()
	}
	return s.Now().UTC()
}

// fmtTime is t for an audit detail, "-" for none.
func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}
