package main

import (
	"archive/zip"
	"context"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/callconsent/callconsent/access"
	"github.com/callconsent/callconsent/consent"
	"github.com/callconsent/callconsent/export"
	"github.com/callconsent/callconsent/web"
)

// The security officer's side of the console's backend: each method is the access service's
// method of the same meaning, which authorises and audits it.

func (b *webAccess) Users(ctx context.Context, s web.Session) ([]web.User, error) {
	us, err := b.svc.Users(ctx, actorOf(s))
	if err != nil {
		return nil, webError(err)
	}
	now := b.now()
	out := make([]web.User, 0, len(us))
	for _, u := range us {
		wu := web.User{Name: u.Name, Role: web.Role(u.Role), Disabled: u.Disabled, Created: u.CreatedAt}
		if u.Locked(now) {
			wu.LockedUntil = u.LockedUntil
		}
		out = append(out, wu)
	}
	return out, nil
}

func (b *webAccess) AddUser(ctx context.Context, s web.Session, u web.NewUser) error {
	return webError(b.svc.AddUser(ctx, actorOf(s), u.Name, access.Role(u.Role), u.Password))
}

func (b *webAccess) DisableUser(ctx context.Context, s web.Session, name, reason string) error {
	return webError(b.svc.DisableUser(ctx, actorOf(s), name, reason))
}

func (b *webAccess) ResetPassword(ctx context.Context, s web.Session, name, password string) error {
	return webError(b.svc.SetPassword(ctx, actorOf(s), name, password))
}

func (b *webAccess) Unlock(ctx context.Context, s web.Session, name string) error {
	return webError(b.svc.UnlockUser(ctx, actorOf(s), name))
}

func (b *webAccess) Grants(ctx context.Context, s web.Session, all bool) ([]web.Grant, error) {
	gs, err := b.svc.Grants(ctx, actorOf(s), all)
	if err != nil {
		return nil, webError(err)
	}
	out := make([]web.Grant, 0, len(gs))
	for _, g := range gs {
		out = append(out, web.Grant{ID: strconv.FormatInt(g.ID, 10), User: g.User, Purposes: g.Purposes, ExpiresAt: g.ExpiresAt,
			Reason: g.Reason, GrantedBy: g.GrantedBy, GrantedAt: g.GrantedAt, RevokedAt: g.RevokedAt, RevokedBy: g.RevokedBy, Revoked: g.RevokeReason})
	}
	slices.Reverse(out) // newest first
	return out, nil
}

func (b *webAccess) AddGrant(ctx context.Context, s web.Session, g web.NewGrant) (string, error) {
	got, err := b.svc.AddGrant(ctx, actorOf(s), g.User, g.Purposes, g.ExpiresAt, g.Reason)
	if err != nil {
		return "", webError(err)
	}
	return strconv.FormatInt(got.ID, 10), nil
}

func (b *webAccess) RevokeGrant(ctx context.Context, s web.Session, id, reason string) error {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		return &web.Error{Kind: web.KindNotFound, Message: "no grant " + strconv.Quote(id)}
	}
	_, err = b.svc.RevokeGrant(ctx, actorOf(s), n, reason)
	return webError(err)
}

// AllPurposes is the purpose list, public like `policy` shows it; the officer's page shows
// the retired ones too.
func (b *webAccess) AllPurposes(ctx context.Context, _ web.Session) ([]web.PurposeRecord, error) {
	ps, err := b.svc.Purposes(ctx)
	if err != nil {
		return nil, webError(err)
	}
	out := make([]web.PurposeRecord, 0, len(ps))
	for _, p := range ps {
		out = append(out, web.PurposeRecord{Name: p.Name, Description: p.Description, ApprovedBy: p.ApprovedBy, ApprovedAt: p.ApprovedAt,
			Reason: p.Reason, RetiredAt: p.RetiredAt, RetiredReason: p.RetireReason})
	}
	return out, nil
}

func (b *webAccess) AddPurpose(ctx context.Context, s web.Session, name, description, reason string) error {
	return webError(b.svc.AddPurpose(ctx, actorOf(s), name, description, reason))
}

func (b *webAccess) RetirePurpose(ctx context.Context, s web.Session, name, reason string) error {
	return webError(b.svc.RetirePurpose(ctx, actorOf(s), name, reason))
}

// Audit reads the latest access.MaxAuditList entries (one audited read, bounded) and returns
// those matching f, newest first.
func (b *webAccess) Audit(ctx context.Context, s web.Session, f web.AuditFilter) ([]web.AuditEntry, error) {
	af := access.AuditFilter{Since: f.Since, Action: f.Action, Limit: access.MaxAuditList}
	af.Actor, af.ActorKind = splitActor(f.Actor)
	if f.Call != "" {
		af.Objects = []access.Object{{Kind: access.ObjectCall, ID: f.Call}}
	}
	var tail int64
	b.svc.Store.View(ctx, func(tx access.Tx) error {
		tail, _, _ = tx.AuditTail()
		return nil
	})
	af.AfterSeq = max(0, tail-access.MaxAuditList)
	es, err := b.svc.AuditEntries(ctx, actorOf(s), af)
	if err != nil {
		return nil, webError(err)
	}
	out := make([]web.AuditEntry, 0, min(len(es), max(f.Limit, 0)))
	for i := len(es) - 1; i >= 0 && (f.Limit <= 0 || len(out) < f.Limit); i-- {
		e := es[i]
		objs := make([]string, 0, len(e.Objects))
		for _, o := range e.Objects {
			objs = append(objs, o.Kind+":"+o.ID)
		}
		reason := e.Reason
		if e.Detail != "" {
			reason = strings.TrimSpace(reason + " (" + e.Detail + ")")
		}
		out = append(out, web.AuditEntry{Seq: e.Seq, At: e.Time, Actor: e.Actor, Role: string(e.Role), Action: e.Action,
			Purpose: e.Purpose, Reason: reason, Objects: objs, Result: string(e.Result)})
	}
	return out, nil
}

func (b *webAccess) VerifyAudit(ctx context.Context, s web.Session) (web.Verification, error) {
	rep, err := b.svc.Verify(ctx, actorOf(s))
	if err != nil {
		return web.Verification{}, webError(err)
	}
	v := web.Verification{OK: rep.OK(), Entries: rep.Entries, Message: "ok"}
	if !v.OK {
		var ms []string
		for i, p := range rep.Problems {
			if i == 5 {
				ms = append(ms, strconv.Itoa(len(rep.Problems)-5)+" more")
				break
			}
			ms = append(ms, p.Message)
		}
		v.Message = strings.Join(ms, "; ")
	}
	return v, nil
}

// Withdraw is authorised and audited by the access service, then carried out by the daemon's
// withdrawer, as the CLI's withdraw is over the control socket.
func (b *webAccess) Withdraw(ctx context.Context, s web.Session, req consent.WithdrawRequest) (web.Withdrawal, error) {
	res, err := b.withdrawAudited(ctx, s, req)
	w := web.Withdrawal{WithdrawResult: res}
	for _, c := range res.Calls {
		exps, xerr := export.TrainingExports(ctx, b.svc.Store, c)
		if xerr != nil { // the withdrawal stands; the copies are listed by calls show too
			w.Copies = append(w.Copies, web.TrainingCopy{ExportID: "?", Call: c, By: "(the audit log could not be read: see calls show " + c + ")"})
			continue
		}
		for _, e := range exps {
			w.Copies = append(w.Copies, web.TrainingCopy{ExportID: e.ExportID, Call: c, By: e.By, At: e.At})
		}
	}
	return w, err
}

// withdrawAudited is the withdrawal itself: authorised and audited as the officer's, carried
// out by the daemon.
func (b *webAccess) withdrawAudited(ctx context.Context, s web.Session, req consent.WithdrawRequest) (consent.WithdrawResult, error) {
	r := access.Request{Action: access.ActionWithdraw, Reason: req.Reason, Detail: "web: the calls of one caller"}
	if req.CallUUID != "" {
		r.Objects, r.Detail = []access.Object{{Kind: access.ObjectCall, ID: req.CallUUID}}, "web: one call"
	}
	acc, err := b.svc.Authorize(ctx, actorOf(s), r)
	if err != nil {
		return consent.WithdrawResult{}, webError(err)
	}
	res, err := b.withdraw(ctx, req)
	calls := make([]access.Object, 0, len(res.Calls))
	for _, u := range res.Calls {
		calls = append(calls, access.Object{Kind: access.ObjectCall, ID: u})
	}
	if len(res.Calls) == 0 && err != nil {
		acc.Fail(ctx, err)
		return res, webError(err)
	}
	if aerr := acc.Done(ctx, calls, strconv.Itoa(len(res.Calls))+" calls withdrawn"); aerr != nil && err == nil {
		err = aerr
	}
	return res, err
}

// DSAR makes the caller's access archive with the export service (authorised with the
// reason, audited with its SHA-256) in a private temporary folder and copies it to w.
func (b *webAccess) DSAR(ctx context.Context, s web.Session, pseudonym, reason string, since, until time.Time, w io.Writer) (string, error) {
	dir, err := os.MkdirTemp("", "callconsent-dsar-*")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	res, err := b.exports.DSAR(ctx, export.DSARRequest{Actor: actorOf(s), CallerPseudonym: pseudonym, Reason: reason,
		Since: since, Until: until, Out: filepath.Join(dir, "access-request.zip")})
	if err != nil {
		return "", webError(err)
	}
	if err := copyFileTo(w, res.Written.Path); err != nil {
		return "", err
	}
	return "access-request-" + b.now().In(time.UTC).Format("2006-01-02") + ".zip", nil
}

// Export makes a training export with the export service (a training grant, the purpose
// training, a reason; audited with the export id) in a private temporary folder, and writes a
// ZIP of its WAV and its sidecar, both named by the export id, to w.
func (b *webAccess) Export(ctx context.Context, s web.Session, c web.Case, uuid string, mutes []string, w io.Writer) (string, error) {
	ms := make([]export.Mute, 0, len(mutes))
	for _, m := range mutes {
		mu, err := export.ParseMute(m)
		if err != nil {
			return "", webError(err)
		}
		ms = append(ms, mu)
	}
	dir, err := os.MkdirTemp("", "callconsent-export-*")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	res, err := b.exports.Training(ctx, export.TrainingRequest{Actor: actorOf(s), CallUUID: uuid, Purpose: c.Purpose, Reason: c.Reason,
		Out: filepath.Join(dir, "training.wav"), Mutes: ms})
	if err != nil {
		return "", webError(err)
	}
	id := res.Sidecar.ExportID
	zw := zip.NewWriter(w)
	for name, path := range map[string]string{id + ".wav": res.Out, id + ".json": res.SidecarPath} {
		f, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Store, Modified: b.now()})
		if err != nil {
			return "", err
		}
		if err := copyFileTo(f, path); err != nil {
			return "", err
		}
	}
	if err := zw.Close(); err != nil {
		return "", err
	}
	return "training-" + id + ".zip", nil
}

func copyFileTo(w io.Writer, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(w, f)
	return err
}
