package main

import (
	"context"
	"fmt"
	"io"

	asqlite "github.com/callconsent/callconsent/access/sqlite"
	"github.com/callconsent/callconsent/consent"
	"github.com/callconsent/callconsent/export"
)

// withdrawnExport is a training copy of a call whose consent was just withdrawn: the copy
// must be removed wherever it went, and only the audit log knows it exists.
type withdrawnExport struct {
	Call string `json:"call"`
	export.TrainingExport
}

// withdrawJSON is withdraw's --output json: the withdrawal, and the training exports of its calls.
type withdrawJSON struct {
	consent.WithdrawResult
	TrainingExports []withdrawnExport `json:"training_exports"`
}

// withdrawnExports returns the training exports made from the withdrawn calls, from the audit
// log (the database opened read-only). The withdrawal is done whatever happens here: a log that
// cannot be read is a note on logs saying how to look later, not a failed withdrawal.
func withdrawnExports(ctx context.Context, cfg *Config, calls []string, logs io.Writer) []withdrawnExport {
	out := []withdrawnExport{}
	if len(calls) == 0 {
		return out
	}
	db, err := openReadOnly(ctx, cfg)
	if err != nil {
		fmt.Fprintf(logs, "callconsent: training exports of the withdrawn calls not listed (%v): see calls show UUID\n", err)
		return out
	}
	defer db.Close()
	for _, c := range calls {
		exps, err := export.TrainingExports(ctx, asqlite.New(db), c)
		if err != nil {
			fmt.Fprintf(logs, "callconsent: training exports of call %s not listed (%v): see calls show %s\n", c, err, c)
			continue
		}
		for _, e := range exps {
			out = append(out, withdrawnExport{Call: c, TrainingExport: e})
		}
	}
	return out
}

// writeWithdrawnExports tells the operator which training copies to have removed.
func writeWithdrawnExports(w io.Writer, exps []withdrawnExport) {
	if len(exps) == 0 {
		return
	}
	fmt.Fprintf(w, "training exports of these calls: %d; have every copy removed (its export id is in its .json):\n", len(exps))
	for _, e := range exps {
		fmt.Fprintf(w, "  %s  from %s, by %s at %s\n", e.ExportID, e.Call, e.By, tableTime(e.At))
	}
}
