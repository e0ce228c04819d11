package export

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/callconsent/callconsent/access"
)

// auditCallsChunk is how many calls one audit query names: each is two parameters of one SQL
// statement, and SQLite bounds them.
const auditCallsChunk = 200

// auditReader reads the entries about a caller's calls through the access service, as the
// security officer making the archive (each read is itself audited as audit.list).
type auditReader struct {
	svc Access
	by  access.Actor
}

// EntriesNaming returns, oldest first, every entry that names one of the calls: in chunks of
// calls, each paged by sequence number, so that neither a caller with many calls nor a call
// with many entries hits a bound.
func (r *auditReader) EntriesNaming(ctx context.Context, uuids []string) ([]AuditEntry, error) {
	seen := map[int64]bool{}
	var out []AuditEntry
	for chunk := range slices.Chunk(uuids, auditCallsChunk) {
		objs := make([]access.Object, len(chunk))
		for i, u := range chunk {
			objs[i] = access.Object{Kind: access.ObjectCall, ID: u}
		}
		for after := int64(0); ; {
			es, err := r.svc.AuditEntries(ctx, r.by, access.AuditFilter{Objects: objs, AfterSeq: after, Limit: access.MaxAuditList})
			if err != nil {
				return nil, err
			}
			for _, e := range es {
				after = e.Seq
				if !seen[e.Seq] {
					seen[e.Seq] = true
					out = append(out, auditEntry(e))
				}
			}
			if len(es) < access.MaxAuditList {
				break
			}
		}
	}
	slices.SortFunc(out, func(a, b AuditEntry) int { return cmp.Compare(a.Seq, b.Seq) })
	return out, nil
}

// auditEntry is e as an access archive shows it: the calls it names, no detail (which may
// describe a search's filters or other callers' counts).
func auditEntry(e access.Entry) AuditEntry {
	ae := AuditEntry{Seq: e.Seq, At: e.Time, Actor: access.Actor{Kind: e.ActorKind, Name: e.Actor}.String(), Role: string(e.Role),
		Action: e.Action, Purpose: e.Purpose, Reason: e.Reason, Result: string(e.Result)}
	for _, o := range e.Objects {
		if o.Kind == access.ObjectCall {
			ae.Calls = append(ae.Calls, o.ID)
		}
	}
	return ae
}

// AuditStore is the audit log's store as calls show reads it (access.Store's Audit).
type AuditStore interface {
	Audit(ctx context.Context, f access.AuditFilter, fn func(access.Entry) error) error
}

// TrainingExport is a training export made from a call, as the audit log knows it: after a
// withdrawal, the security officer has each such copy removed by its id.
type TrainingExport struct {
	ExportID string    `json:"export_id"`
	By       string    `json:"by"`
	At       time.Time `json:"at"`
	Reason   string    `json:"reason"`
}

// TrainingExports returns the training exports made from the call, oldest first: the entries
// of action export, result ok, that name the call and an export id.
func TrainingExports(ctx context.Context, st AuditStore, callUUID string) ([]TrainingExport, error) {
	out := []TrainingExport{}
	f := access.AuditFilter{Action: string(access.ActionExport), Objects: []access.Object{{Kind: access.ObjectCall, ID: callUUID}}}
	err := st.Audit(ctx, f, func(e access.Entry) error {
		if e.Result != access.ResultOK || !e.About(access.ObjectCall, callUUID) {
			return nil
		}
		for _, o := range e.Objects {
			if o.Kind == access.ObjectExport {
				out = append(out, TrainingExport{ExportID: o.ID, By: access.Actor{Kind: e.ActorKind, Name: e.Actor}.String(), At: e.Time.UTC(), Reason: e.Reason})
			}
		}
		return nil
	})
	return out, err
}
