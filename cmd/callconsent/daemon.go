package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"time"

	"github.com/callconsent/callconsent/consent"
	"github.com/callconsent/callconsent/esl"
	"github.com/callconsent/callconsent/notices"
	"github.com/callconsent/callconsent/retention"
)

// daemon is `callconsent run`: the consent flow behind FreeSWITCH's outbound socket, the
// control connection, reconcile after every (re)connect, and the retention schedule. It is
// the one place that wires the adapters together.
type daemon struct {
	cfg *Config
	log *slog.Logger

	store      *storage
	live       *consent.LiveCalls
	flow       *consent.Flow
	control    *esl.Control
	outbound   *esl.OutboundServer
	reconciler *consent.Reconciler
	metrics    *metrics
	sweeper    *retention.Sweeper
	withdrawer *consent.Withdrawer
	started    time.Time
	dayDirs    dayDirs
	closers    []func() error // in reverse order of opening

	// wrapStore, when set (tests), wraps the store the flow writes through, to observe commits.
	wrapStore func(consent.Store) consent.Store
	// procNet, when set (tests), replaces /proc/net for the check of FreeSWITCH's port owner.
	procNet string
}

func newDaemon(cfg *Config, logger *slog.Logger) *daemon {
	return &daemon{cfg: cfg, log: logger, live: consent.NewLiveCalls(), metrics: newMetrics()}
}

// Open prepares everything that must be right before the first call is accepted (notices,
// password, database, recordings folder) and then starts listening. A call FreeSWITCH hands us
// before Open returns waits in the listen queue; if we are not running at all, FreeSWITCH's
// dialplan fallback transfers the call unrecorded.
func (d *daemon) Open(ctx context.Context) (err error) {
	defer func() {
		if err != nil {
			d.Close()
		}
	}()
	if err := d.prepareTrial(); err != nil {
		return err
	}
	if err := d.cfg.CheckNotices(); err != nil {
		return err
	}
	if err := d.cfg.CheckMinNotice(); err != nil {
		return err
	}
	if err := d.cfg.CheckMaxCallDuration(); err != nil {
		return err
	}
	maxCalls, err := d.maxCalls()
	if err != nil {
		return err
	}
	if err := d.cfg.ownerCheckUnsupported(); err != nil {
		return err
	}
	password, err := d.cfg.ESLPassword()
	if err != nil {
		return err
	}
	if err := checkRecordingsDir(d.cfg.RecordingsDir, d.cfg.DataDir != ""); err != nil {
		return err
	}
	if d.store, err = openStore(ctx, d.cfg); err != nil {
		return err
	}
	d.closers = append(d.closers, d.store.Close)
	switch d.store.Key {
	case consent.KeyCreated:
		d.log.Info("created the pseudonym key for this new database; back it up", "key_file", d.cfg.KeyFile)
	case consent.KeyAdopted:
		d.log.Info("the database had no key fingerprint yet: bound it to the present pseudonym key", "key_file", d.cfg.KeyFile)
	}

	ids := esl.NewChannelIDs()
	d.control = esl.NewControl(d.cfg.FreeSWITCH, password, d.log)
	d.control.IDs = ids
	d.control.Owner, d.control.OnRefused = d.cfg.eslOwnerCheck(d.log, d.procNet), d.metrics.refusedESLPeer
	d.reconciler = &consent.Reconciler{Store: d.store.DB, Control: d.control, Live: d.live, Now: time.Now, Logger: d.log.With("system", "reconcile")}
	d.control.OnConnect = d.reconcile
	d.flow = d.newFlow()
	d.outbound = esl.NewOutboundServer(d.cfg.ESLListen, d.flow.Handle, d.log)
	d.outbound.IDs = ids

	if err := d.openRetention(ctx); err != nil {
		return err
	}
	if err := d.control.Open(ctx); err != nil {
		return fmt.Errorf("control connection: %w", err)
	}
	d.closers = append(d.closers, d.control.Close)
	d.flow.MaxCallDuration = d.cfg.MaxCallDuration
	d.outbound.MaxCalls, d.outbound.OverflowTransfer = maxCalls, d.cfg.Transfer
	if err := d.outbound.Open(ctx); err != nil {
		return fmt.Errorf("listen for FreeSWITCH on %s: %w", d.cfg.ESLListen, err)
	}
	d.closers = append(d.closers, d.outbound.Close)
	if err := d.openControlSocket(ctx); err != nil {
		return err
	}
	d.startReconcileLoop(ctx, time.Minute)
	d.started = time.Now().UTC()
	d.log.Info("callconsent running", "esl_listen", d.outbound.Addr().String(), "freeswitch", d.cfg.FreeSWITCH,
		"db", d.cfg.DB, "recordings", d.cfg.RecordingsDir, "max_calls", maxCalls)
	return nil
}

// Close stops taking calls, lets running flows end (a prompt in progress is cut short and its
// caller transferred unrecorded), then closes the control connection and the database.
func (d *daemon) Close() error {
	var errs []error
	for i := len(d.closers) - 1; i >= 0; i-- {
		errs = append(errs, d.closers[i]())
	}
	d.closers = nil
	return errors.Join(errs...)
}

func (d *daemon) newFlow() *consent.Flow {
	ns := make(map[string]consent.Notice, len(d.cfg.Notices))
	for lang, n := range d.cfg.Notices {
		ns[lang] = consent.Notice{Language: lang, File: n.File, InvalidFile: n.InvalidFile, Version: n.Version, SHA256: n.SHA256, Duration: n.Duration}
	}
	var store consent.Store = d.store.DB
	if d.wrapStore != nil {
		store = d.wrapStore(store)
	}
	return &consent.Flow{
		Store:       store,
		Control:     d.control,
		Pseudonyms:  d.store.Pseudonyms,
		Notices:     ns,
		Language:    d.cfg.Language,
		Tries:       d.cfg.Tries,
		Timeout:     d.cfg.DigitTimeout,
		MinNotice:   d.cfg.MinNotice,
		Transfer:    d.cfg.Transfer,
		Recordings:  d.cfg.RecordingsDir,
		Live:        d.live,
		MakeDir:     func(dir string) error { return d.dayDirs.make(d.cfg.RecordingsDir, dir) },
		Now:         time.Now,
		Logger:      d.log.With("system", "flow"),
		OnDecision:  d.metrics.decision,
		OnRecording: d.metrics.recording,
		OnRefused:   d.metrics.refusedCall,
	}
}

// reconcile runs after every control (re)connect: what happened while we could not ask
// FreeSWITCH is settled now.
func (d *daemon) reconcile(ctx context.Context) {
	res, err := d.reconciler.Run(ctx)
	if err != nil {
		d.log.Error("reconcile failed", "err", err)
		return
	}
	d.log.Info("reconciled", "finalised", res.Finalised, "abandoned", res.Abandoned, "still_live", res.StillLive)
}

// startReconcileLoop reconciles periodically too, not only after a reconnect: a call that
// outlived a daemon restart is still up at the first reconcile and must be finalised once it
// ends, which may be long before the control connection ever drops again.
func (d *daemon) startReconcileLoop(ctx context.Context, every time.Duration) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if d.control.Ready() {
					d.reconcile(ctx)
				}
			}
		}
	}()
	d.closers = append(d.closers, func() error { cancel(); <-done; return nil })
}

// prepareTrial creates, for a --data-dir trial only, what an installation provides: the
// shipped notices and an ESL password (which `simulate` then uses for its fake FreeSWITCH).
func (d *daemon) prepareTrial() error {
	if d.cfg.DataDir == "" {
		return nil
	}
	// The trial folder holds the database and the key: private, like the state directory of an
	// installation (R-SEC-5). Created before anything else puts a wider-moded folder there.
	if err := os.MkdirAll(d.cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("create data dir: %w", err)
	}
	if wrote, err := notices.Install(d.cfg.NoticesDir); err != nil {
		return err
	} else if len(wrote) > 0 {
		d.log.Info("installed the shipped notices", "dir", d.cfg.NoticesDir, "files", len(wrote))
	}
	d.cfg.hashNotices()
	if _, err := os.Stat(d.cfg.ESLPasswordFile); errors.Is(err, fs.ErrNotExist) {
		pw := make([]byte, 16)
		rand.Read(pw)
		if err := os.WriteFile(d.cfg.ESLPasswordFile, []byte(hex.EncodeToString(pw)+"\n"), 0o600); err != nil {
			return fmt.Errorf("create trial esl password: %w", err)
		}
		d.log.Info("created a random ESL password for this trial", "file", d.cfg.ESLPasswordFile)
	}
	return nil
}
