package consent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"
	"unicode"
)

// Deleter finishes deletions that are committed as intent: every recording in deleting. The
// retention sweeper implements it with its crash-safe protocol, so a withdrawal deletes exactly
// as the 90-day sweep does and leaves the same tombstones. A file it cannot delete stays
// committed and is retried by every sweep. The error is for what stopped it as a whole (the
// recordings folder is gone, the store fails), or sums up the failed files.
type Deleter interface {
	FinishCommitted(ctx context.Context) (DeleteResult, error)
}

// DeleteResult says what a Deleter did.
type DeleteResult struct {
	Files  int               // files deleted
	Bytes  int64             // their size
	Failed map[string]string // recording path (as stored) → why it is still there
}

// Withdrawer carries out a caller's withdrawal of consent (R-WITHDRAW-1, R-WITHDRAW-2): it
// marks the calls withdrawn, stops a recording that is still running, and deletes the audio at
// once. Live and Control are nil when no daemon runs in this process (the CLI on its own).
type Withdrawer struct {
	Store   WithdrawStore
	Deleter Deleter
	Live    *LiveCalls
	Control Control
	Now     func() time.Time
	Logger  *slog.Logger
}

// WithdrawRequest names the calls to withdraw: one call, or every call of one caller (by
// pseudonym, optionally only since a time).
type WithdrawRequest struct {
	CallUUID        string    `json:"call,omitempty"`
	CallerPseudonym string    `json:"caller_pseudonym,omitempty"`
	Since           time.Time `json:"since,omitzero"`
	Reason          string    `json:"reason"`
}

// WithdrawResult says what a withdrawal did. Calls lists only withdrawals that are committed.
type WithdrawResult struct {
	Calls        []string `json:"calls"`         // call UUIDs marked withdrawn
	Live         int      `json:"live_calls"`    // of them, calls in progress here
	Stopped      int      `json:"stopped"`       // live recordings stopped
	Files        int      `json:"files_deleted"` // audio files deleted
	Bytes        int64    `json:"bytes_deleted"` // their size
	FilesPending int      `json:"files_pending"` // audio of these calls committed for deletion, not yet deleted
	PendingWhy   string   `json:"pending_reason,omitempty"`
	Failures     []string `json:"failures,omitempty"`
	DaemonSide   bool     `json:"daemon"` // carried out by the running daemon
}

// MaxReasonLen bounds a withdrawal's reason, which is stored with every call it withdraws.
const MaxReasonLen = 200

// Validate checks that the request names exactly one target and a reason of one short line.
func (r WithdrawRequest) Validate() error {
	switch {
	case (r.CallUUID == "") == (r.CallerPseudonym == ""):
		return Errorf(EINVALID, "withdraw: give either a call UUID or a caller, not both or neither")
	case r.CallUUID != "" && !ValidUUID(r.CallUUID):
		return Errorf(EINVALID, "withdraw: %q is not a call UUID", r.CallUUID)
	case r.CallerPseudonym == AnonymousPseudonym:
		return Errorf(EINVALID, "withdraw: that caller id is not a phone number; anonymous calls can only be withdrawn by call UUID")
	case r.CallUUID != "" && !r.Since.IsZero():
		return Errorf(EINVALID, "withdraw: --since applies to --caller only")
	case strings.TrimSpace(r.Reason) == "":
		return Errorf(EINVALID, "withdraw: a reason is required")
	case len(r.Reason) > MaxReasonLen:
		return Errorf(EINVALID, "withdraw: the reason is %d bytes long, at most %d: give a ticket id or a short note", len(r.Reason), MaxReasonLen)
	case strings.IndexFunc(r.Reason, unicode.IsControl) >= 0:
		return Errorf(EINVALID, "withdraw: the reason must be one line of plain text (it holds a control character)")
	}
	return nil
}

// Withdraw carries out the request. Each call goes: forbid a new recording (live calls) →
// commit the withdrawal (its recording moves to deleting) → stop a running recording →
// delete the committed files. The withdrawal is committed first and stands whatever happens
// to the audio afterwards: a file that cannot be deleted now stays committed, is counted in
// FilesPending with why, and is deleted by the next sweep that can. An error on one call does
// not stop the others. The error is ENOTFOUND when there is nothing to withdraw, the cause when
// nothing could be withdrawn, and ECONFLICT when consent was withdrawn but something is left
// to do; its message then starts with "consent withdrawn".
func (w *Withdrawer) Withdraw(ctx context.Context, req WithdrawRequest) (WithdrawResult, error) {
	res := WithdrawResult{Calls: []string{}, DaemonSide: w.Live != nil}
	if err := req.Validate(); err != nil {
		return res, err
	}
	calls, err := w.targets(ctx, req)
	if err != nil {
		return res, err
	}
	var cause error // why the first call that is not withdrawn is not
	for _, c := range calls {
		committed, err := w.withdrawOne(ctx, c, req.Reason, &res)
		if committed {
			res.Calls = append(res.Calls, c.UUID)
		}
		if err != nil {
			w.Logger.Error("withdrawal failed", "call", c.UUID, "committed", committed, "err", err)
			res.Failures = append(res.Failures, fmt.Sprintf("%s: %s", c.UUID, describe(err)))
			if !committed && cause == nil {
				cause = err
			}
		}
	}
	if len(res.Calls) == 0 {
		return res, fmt.Errorf("withdraw: nothing withdrawn: %w", cause)
	}
	w.deleteCommitted(ctx, req, &res)
	w.Logger.Info("consent withdrawn", "calls", len(res.Calls), "live", res.Live, "stopped", res.Stopped, "files", res.Files,
		"files_pending", res.FilesPending, "failures", len(res.Failures))
	var problems []string
	if res.FilesPending > 0 {
		problems = append(problems, fmt.Sprintf("%d file(s) await deletion: %s (the next sweep that can deletes them)", res.FilesPending, res.PendingWhy))
	}
	if len(res.Failures) > 0 {
		problems = append(problems, fmt.Sprintf("%d problem(s): %s", len(res.Failures), strings.Join(res.Failures, "; ")))
	}
	if len(problems) > 0 {
		return res, Errorf(ECONFLICT, "consent withdrawn; %s", strings.Join(problems, "; "))
	}
	return res, nil
}

// deleteCommitted deletes the files the withdrawal committed, then counts, from the store, those
// of its calls that are still waiting, with why.
func (w *Withdrawer) deleteCommitted(ctx context.Context, req WithdrawRequest, res *WithdrawResult) {
	var del DeleteResult
	delErr := error(Errorf(EINTERNAL, "nothing in this process deletes files"))
	if w.Deleter != nil {
		del, delErr = w.Deleter.FinishCommitted(ctx)
		res.Files, res.Bytes = del.Files, del.Bytes
	}
	after, err := w.targets(ctx, req)
	if err != nil {
		res.Failures = append(res.Failures, fmt.Sprintf("could not check what was deleted: %s", describe(err)))
		return
	}
	withdrawn := make(map[string]bool, len(res.Calls))
	for _, u := range res.Calls {
		withdrawn[u] = true
	}
	var whys []string
	for _, c := range after {
		if !withdrawn[c.UUID] || c.Recording == nil || c.Recording.State != RecordingDeleting {
			continue
		}
		res.FilesPending++
		why := del.Failed[c.Recording.Path]
		if why == "" && delErr != nil {
			why = describe(delErr)
		} else if why == "" {
			why = "not deleted yet"
		}
		if !slices.Contains(whys, why) {
			whys = append(whys, why)
		}
	}
	if len(whys) > maxWhys {
		whys = append(whys[:maxWhys], fmt.Sprintf("and %d more", len(whys)-maxWhys))
	}
	res.PendingWhy = strings.Join(whys, "; ")
}

// maxWhys bounds the reasons a withdrawal lists for files that await deletion; the sweep and
// status list every stuck file.
const maxWhys = 3

// describe is an error as an operator reads it: a coded error's message stands alone; any other
// error is shown whole (this codebase puts no personal data into errors).
func describe(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Code != EINTERNAL {
		return e.Message
	}
	return err.Error()
}

func (w *Withdrawer) targets(ctx context.Context, req WithdrawRequest) ([]*Call, error) {
	if req.CallUUID != "" {
		c, err := w.Store.FindCall(ctx, req.CallUUID)
		if ErrorCode(err) == ENOTFOUND {
			return nil, Errorf(ENOTFOUND, "withdraw: call %s not found; nothing withdrawn", req.CallUUID)
		} else if err != nil {
			return nil, err
		}
		return []*Call{c}, nil
	}
	calls, err := w.Store.FindCalls(ctx, CallFilter{CallerPseudonym: req.CallerPseudonym, Since: req.Since})
	if err != nil {
		return nil, err
	} else if len(calls) == 0 {
		return nil, Errorf(ENOTFOUND, "withdraw: no calls of that caller; nothing withdrawn")
	}
	return calls, nil
}

// withdrawOne withdraws one call; committed says whether the withdrawal is stored, whatever
// the error (a live recording that could not be stopped is withdrawn all the same).
func (w *Withdrawer) withdrawOne(ctx context.Context, c *Call, reason string, res *WithdrawResult) (committed bool, err error) {
	var live bool
	var path string
	if w.Live != nil {
		live, path = w.Live.Withdraw(c.UUID)
	}
	rec, err := w.Store.Withdraw(ctx, Withdrawal{CallUUID: c.UUID, At: w.Now().UTC(), Reason: reason})
	if err != nil {
		return false, fmt.Errorf("store withdrawal: %w", err)
	}
	if live {
		res.Live++
	}
	if rec != nil && path == "" && c.EndedAt.IsZero() {
		path = rec.Path // a call driven by a daemon that restarted: stop it all the same
	}
	if path == "" || w.Control == nil {
		return true, nil
	}
	if err := w.Control.StopRecording(ctx, c.UUID, path); err != nil && !errors.Is(err, ErrNotReady) {
		return true, fmt.Errorf("stop live recording: %w", err)
	} else if err != nil {
		// FreeSWITCH is unreachable: the file is deleted below all the same, and a recording
		// still being written to an unlinked file vanishes when FreeSWITCH closes it.
		return true, fmt.Errorf("stop live recording: %w (the file is deleted anyway)", err)
	}
	res.Stopped++
	return true, nil
}
