package consent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// Deleter finishes deletions that are committed as intent: every recording in deleting. The
// retention sweeper implements it with its crash-safe protocol, so a withdrawal deletes exactly
// as the 90-day sweep does and leaves the same tombstones.
type Deleter interface {
	FinishCommitted(ctx context.Context) (files int, bytes int64, err error)
}

// Withdrawer carries out a caller's withdrawal of consent (R-WITHDRAW-1, R-WITHDRAW-2): it
// marks the calls withdrawn, stops a recording that is still running, and deletes the audio at
// once. Live and Control are nil when no daemon runs in this process (the CLI on its own).
type Withdrawer struct {
	Store   Store
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

// WithdrawResult says what a withdrawal did.
type WithdrawResult struct {
	Calls      []string `json:"calls"`         // call UUIDs marked withdrawn
	Live       int      `json:"live_calls"`    // of them, calls in progress here
	Stopped    int      `json:"stopped"`       // live recordings stopped
	Files      int      `json:"files_deleted"` // audio files deleted
	Bytes      int64    `json:"bytes_deleted"` // their size
	Failures   []string `json:"failures,omitempty"`
	DaemonSide bool     `json:"daemon"` // carried out by the running daemon
}

// Validate checks that the request names exactly one target and a reason.
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
	}
	return nil
}

// Withdraw carries out the request. Each call goes: forbid a new recording (live calls) →
// commit the withdrawal (its recording moves to deleting) → stop a running recording →
// delete the committed files. An error on one call does not stop the others; the result lists
// the failures and the returned error is ECONFLICT when anything could not be done.
func (w *Withdrawer) Withdraw(ctx context.Context, req WithdrawRequest) (WithdrawResult, error) {
	res := WithdrawResult{Calls: []string{}, DaemonSide: w.Live != nil}
	if err := req.Validate(); err != nil {
		return res, err
	}
	calls, err := w.targets(ctx, req)
	if err != nil {
		return res, err
	}
	for _, c := range calls {
		if err := w.withdrawOne(ctx, c, req.Reason, &res); err != nil {
			w.Logger.Error("withdrawal failed", "call", c.UUID, "err", err)
			res.Failures = append(res.Failures, fmt.Sprintf("%s: %v", c.UUID, err))
			continue
		}
		res.Calls = append(res.Calls, c.UUID)
	}
	if w.Deleter != nil && len(res.Calls) > 0 {
		files, bytes, err := w.Deleter.FinishCommitted(ctx)
		res.Files, res.Bytes = files, bytes
		if err != nil {
			res.Failures = append(res.Failures, fmt.Sprintf("delete: %v", err))
		}
	}
	w.Logger.Info("consent withdrawn", "calls", len(res.Calls), "live", res.Live, "stopped", res.Stopped, "files", res.Files, "failures", len(res.Failures))
	if len(res.Failures) > 0 {
		return res, Errorf(ECONFLICT, "withdraw: %d problem(s): %s", len(res.Failures), strings.Join(res.Failures, "; "))
	}
	return res, nil
}

func (w *Withdrawer) targets(ctx context.Context, req WithdrawRequest) ([]*Call, error) {
	if req.CallUUID != "" {
		c, err := w.Store.FindCall(ctx, req.CallUUID)
		if err != nil {
			return nil, err
		}
		return []*Call{c}, nil
	}
	calls, err := w.Store.FindCalls(ctx, CallFilter{CallerPseudonym: req.CallerPseudonym, Since: req.Since})
	if err != nil {
		return nil, err
	} else if len(calls) == 0 {
		return nil, Errorf(ENOTFOUND, "withdraw: no calls of that caller")
	}
	return calls, nil
}

func (w *Withdrawer) withdrawOne(ctx context.Context, c *Call, reason string, res *WithdrawResult) error {
	var live bool
	var path string
	if w.Live != nil {
		live, path = w.Live.Withdraw(c.UUID)
	}
	rec, err := w.Store.Withdraw(ctx, Withdrawal{CallUUID: c.UUID, At: w.Now().UTC(), Reason: reason})
	if err != nil {
		return fmt.Errorf("store withdrawal: %w", err)
	}
	if live {
		res.Live++
	}
	if rec != nil && path == "" && c.EndedAt.IsZero() {
		path = rec.Path // a call driven by a daemon that restarted: stop it all the same
	}
	if path == "" || w.Control == nil {
		return nil
	}
	if err := w.Control.StopRecording(ctx, c.UUID, path); err != nil && !errors.Is(err, ErrNotReady) {
		return fmt.Errorf("stop live recording: %w", err)
	} else if err != nil {
		// FreeSWITCH is unreachable: the file is deleted below all the same, and a recording
		// still being written to an unlinked file vanishes when FreeSWITCH closes it.
		return fmt.Errorf("stop live recording: %w (the file is deleted anyway)", err)
	}
	res.Stopped++
	return nil
}
