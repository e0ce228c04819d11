package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/callconsent/callconsent/access"
	"github.com/callconsent/callconsent/consent"
)

// withdrawPreview is what a withdrawal would do, shown by withdraw --dry-run and, on a
// terminal, before a withdrawal by caller is carried out. Its JSON is a contract (README).
type withdrawPreview struct {
	DryRun           bool          `json:"dry_run"`
	Calls            []previewCall `json:"calls"`             // newest first
	AlreadyWithdrawn int           `json:"already_withdrawn"` // of Calls, withdrawn before
	Recordings       int           `json:"recordings"`        // audio files that would be deleted
	Bytes            int64         `json:"bytes"`             // their size as far as known
}

// previewCall is one call a withdrawal would touch. No caller data: the request named it.
type previewCall struct {
	UUID      string     `json:"uuid"`
	StartedAt *time.Time `json:"started_at"`
	Decision  string     `json:"decision"`
	Withdrawn bool       `json:"withdrawn"`
	Recording string     `json:"recording,omitempty"` // state of its recording, "" for none
	Bytes     int64      `json:"bytes,omitempty"`
}

// previewWithdrawal lists what req would withdraw and delete. Nothing matching is ENOTFOUND,
// as for the withdrawal itself.
func previewWithdrawal(ctx context.Context, db consent.CallFinder, req consent.WithdrawRequest) (withdrawPreview, error) {
	p := withdrawPreview{Calls: []previewCall{}}
	var calls []*consent.Call
	if req.CallUUID != "" {
		c, err := db.FindCall(ctx, req.CallUUID)
		if consent.ErrorCode(err) == consent.ENOTFOUND {
			return p, consent.Errorf(consent.ENOTFOUND, "withdraw: call %s not found; nothing would be withdrawn", req.CallUUID)
		} else if err != nil {
			return p, err
		}
		calls = []*consent.Call{c}
	} else {
		var err error
		if calls, err = db.FindCalls(ctx, consent.CallFilter{CallerPseudonym: req.CallerPseudonym, Since: req.Since}); err != nil {
			return p, fmt.Errorf("find calls: %w", err)
		} else if len(calls) == 0 {
			return p, consent.Errorf(consent.ENOTFOUND, "withdraw: no calls of that caller; nothing would be withdrawn")
		}
	}
	for _, c := range calls {
		pc := previewCall{UUID: c.UUID, StartedAt: jsonTime(c.StartedAt), Decision: string(c.Decision), Withdrawn: c.Withdrawn()}
		if pc.Withdrawn {
			p.AlreadyWithdrawn++
		}
		if r := c.Recording; r != nil {
			pc.Recording, pc.Bytes = string(r.State), r.Bytes
			if r.State != consent.RecordingDeleted {
				p.Recordings++
				p.Bytes += r.Bytes
			}
		}
		p.Calls = append(p.Calls, pc)
	}
	return p, nil
}

// summary is the preview in one sentence.
func (p withdrawPreview) summary() string {
	s := fmt.Sprintf("%d call(s)", len(p.Calls))
	if p.AlreadyWithdrawn > 0 {
		s += fmt.Sprintf(" (%d already withdrawn)", p.AlreadyWithdrawn)
	}
	return s + fmt.Sprintf(", deleting %d recording(s) (%d bytes) at once", p.Recordings, p.Bytes)
}

// runWithdrawDryRun prints what the withdrawal would do and changes nothing: the database is
// opened read-only and the key only checked and read.
func runWithdrawDryRun(ctx context.Context, cfg *Config, opts withdrawOptions, req consent.WithdrawRequest, out io.Writer) (err error) {
	db, err := openReadOnly(ctx, cfg)
	if consent.ErrorCode(err) == consent.ENOTFOUND {
		return consent.Errorf(consent.ENOTFOUND, "withdraw --dry-run: no database at %s: nothing to withdraw (check --db or --data-dir)", cfg.DB)
	} else if err != nil {
		return err
	}
	defer closeInto(&err, db)
	if opts.Caller != "" {
		key, err := consent.LoadKey(cfg.KeyFile)
		if err != nil {
			return fmt.Errorf("key file: %w", err)
		}
		p, err := consent.NewPseudonymizer(key)
		if err != nil {
			return err
		}
		number, err := callerNumber(opts.Caller, opts.stdin)
		if err != nil {
			return err
		}
		req.CallerPseudonym = p.Pseudonym(number)
	}
	check := req
	check.Reason = "dry run" // a dry run needs no reason
	if err := check.Validate(); err != nil {
		return err
	}
	p, err := previewWithdrawal(ctx, db, req)
	if err != nil {
		return err
	}
	p.DryRun = true
	// The preview discloses a caller's calls: audited like calls list, before anything is shown.
	uuids := make([]string, 0, len(p.Calls))
	for _, c := range p.Calls {
		uuids = append(uuids, c.UUID)
	}
	by := "by call"
	if opts.Caller != "" {
		by = "by caller"
	}
	if err := hostAudit(ctx, cfg, access.Request{Action: access.ActionHostRead, Reason: opts.Reason, Detail: "withdraw --dry-run " + by},
		callObjects(uuids...), fmt.Sprintf("showed %d calls", len(p.Calls))); err != nil {
		return err
	}
	if opts.Output == outputJSON {
		return writeJSON(out, p)
	}
	fmt.Fprintf(out, "dry run, nothing changed: withdrawing would take %s\n", p.summary())
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "UUID\tSTARTED (UTC)\tDECISION\tRECORDING\tBYTES")
	for _, c := range p.Calls {
		decision := c.Decision
		if c.Withdrawn {
			decision += " (withdrawn)"
		}
		started := "-"
		if c.StartedAt != nil {
			started = tableTime(*c.StartedAt)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\n", c.UUID, started, decision, dash(c.Recording), c.Bytes)
	}
	return tw.Flush()
}

// errNotConfirmed is the operator's "no" to a withdrawal shown on a terminal.
var errNotConfirmed = errors.New("withdraw: not confirmed; nothing withdrawn")

// confirmWithdrawal shows on a terminal what a withdrawal by caller is about to do and goes on
// only when the operator types yes: such a withdrawal can delete many recordings at once.
func confirmWithdrawal(ctx context.Context, db consent.CallFinder, req consent.WithdrawRequest, in io.Reader, out io.Writer) error {
	p, err := previewWithdrawal(ctx, db, req)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "withdraw consent for %s?\n(--dry-run lists them; --yes skips this question)\nType yes to go on: ", p.summary())
	answer, _ := bufio.NewReader(in).ReadString('\n')
	if a := strings.ToLower(strings.TrimSpace(answer)); a != "yes" && a != "y" {
		return errNotConfirmed
	}
	return nil
}
