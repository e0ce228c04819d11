package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/callconsent/callconsent/metrics"
	"github.com/callconsent/callconsent/retention"
)

// readyProbeKey is the small value the store check writes: a write that commits proves the
// database takes the decisions (disk not full, file not read-only, not locked for seconds).
const readyProbeKey = "ready-probe"

// newReadiness returns the checks of /readyz and callconsent_ready: the daemon can do its job
// now. Each failure says what is wrong and where to look; none carries a call or a caller.
func (d *daemon) newReadiness() *metrics.Readiness {
	notices := d.noticeFiles()
	return &metrics.Readiness{Checks: []metrics.Check{
		{Name: "store", Func: func(ctx context.Context) error {
			if err := d.store.DB.SetSweepState(ctx, readyProbeKey, time.Now().UTC().Format(time.RFC3339)); err != nil {
				return fmt.Errorf("database %s does not take writes (%v): calls go unrecorded", d.cfg.DB, err)
			}
			return nil
		}},
		{Name: "freeswitch", Func: func(context.Context) error {
			if !d.control.Ready() {
				return fmt.Errorf("control connection to FreeSWITCH at %s is down: calls go unrecorded; see the log", d.cfg.FreeSWITCH)
			}
			return nil
		}},
		{Name: "notices", Func: notices.check},
		{Name: "alarms", Func: func(context.Context) error {
			if kinds := blockingAlarms(d.sweeper.Alarms()); len(kinds) > 0 {
				return fmt.Errorf("%s active: recordings due are not being deleted; callconsent status lists them", strings.Join(kinds, ", "))
			}
			if _, ok := d.integrity.Alarm(); ok {
				return fmt.Errorf("%s active: the database file failed its integrity check; callconsent status says more", alarmKindIntegrity)
			}
			return nil
		}},
	}}
}

// blockingAlarms are the kinds of the retention alarms: each keeps the sweeper from deleting
// what the policy says must go. A recovered panic is an alarm in status but does not make the
// daemon unready: it went on, and a restart (which clears it) is the operator's call.
func blockingAlarms(alarms []retention.Alarm) []string {
	var kinds []string
	for _, a := range alarms {
		kinds = append(kinds, a.Kind)
	}
	return kinds
}

// noticeFile is a notice or prompt the daemon hashed at start, as it was then.
type noticeFile struct {
	name, path string
	size       int64
	mtime      time.Time
}

// noticeSet is the notices as loaded: the proofs name their hashes, so a file changed on disk
// means callers hear something else than the proofs say.
type noticeSet []noticeFile

func (d *daemon) noticeFiles() noticeSet {
	var out noticeSet
	for _, lang := range d.cfg.NoticeLangs() {
		n := d.cfg.Notices[lang]
		for _, f := range []struct{ name, path string }{{"notice " + lang, n.File}, {"invalid-choice prompt " + lang, n.InvalidFile}} {
			if f.path == "" {
				continue
			}
			nf := noticeFile{name: f.name, path: f.path}
			if fi, err := os.Stat(f.path); err == nil {
				nf.size, nf.mtime = fi.Size(), fi.ModTime()
			}
			out = append(out, nf)
		}
	}
	return out
}

// check stats every file again: missing or changed since start is not ready.
func (ns noticeSet) check(context.Context) error {
	var errs []error
	for _, f := range ns {
		fi, err := os.Stat(f.path)
		switch {
		case err != nil:
			var pe *fs.PathError
			if errors.As(err, &pe) {
				err = pe.Err // the path is named already
			}
			errs = append(errs, fmt.Errorf("%s %s cannot be read: %w", f.name, f.path, err))
		case fi.Size() != f.size || !fi.ModTime().Equal(f.mtime):
			errs = append(errs, fmt.Errorf("%s %s changed since start: callers hear other audio than the proofs name; restart callconsent", f.name, f.path))
		}
	}
	return errors.Join(errs...)
}
