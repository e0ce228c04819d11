package main

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"time"

	"github.com/callconsent/callconsent/access"
	"github.com/callconsent/callconsent/consent"
	"github.com/callconsent/callconsent/control"
	"github.com/callconsent/callconsent/esl"
	"github.com/callconsent/callconsent/metrics"
	"github.com/callconsent/callconsent/notices"
	"github.com/callconsent/callconsent/recordings"
	"github.com/callconsent/callconsent/retention"
	"github.com/callconsent/callconsent/web"
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
	ctlSocket  *control.Server // the unix control socket the CLI talks to (control_wiring.go)
	outbound   *esl.OutboundServer
	reconciler *consent.Reconciler
	metrics    *metrics.Registry // every component reports here (metrics.go)
	sweeper    *retention.Sweeper
	withdrawer *consent.Withdrawer
	access     *access.Service // audit of control-socket withdrawals, the audit check (access_wiring.go)
	auditCheck *auditCheck     // the audit log's verification and pruning on a schedule (audit_check.go)
	integrity  *integrityCheck // the database's integrity check on a schedule (integrity.go)
	started    time.Time
	recordings *recordings.Folder
	closers    []func() error // in reverse order of opening

	holdings      *holdings          // census of the recordings folder (metrics_census.go)
	readiness     *metrics.Readiness // /readyz (metrics_ready.go)
	metricsServer *metrics.Server    // metrics-listen; nil when off
	web           *web.Server        // web-listen, the console (web_wiring.go); nil when off
	webBackend    *webAccess         // the console's access service and queries; nil when off

	// wrapStore, when set (tests), wraps the store the flow and reconcile write through, to
	// observe commits or to fail.
	wrapStore func(callStore) callStore
	// procNet, when set (tests), replaces /proc/net for the check of FreeSWITCH's port owner.
	procNet string
	// reconcileEvery is the period of the reconcile loop; zero means a minute (tests shorten it).
	reconcileEvery time.Duration
	// integrityEvery is the period of the database's integrity check; zero means a day.
	integrityEvery time.Duration
	// auditCheckEvery is the period of the audit log's verification; zero means an hour.
	auditCheckEvery time.Duration
	// panics counts the panics the loops recovered from (panics.go).
	panics panicLog
}

func newDaemon(cfg *Config, logger *slog.Logger) *daemon {
	return &daemon{cfg: cfg, log: logger, live: consent.NewLiveCalls(), metrics: metrics.New(),
		holdings: newHoldings(cfg.RecordingsDir, logger)}
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
	if err := d.listenControl(); err != nil {
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

	if d.access, err = openAccess(ctx, d.cfg, d.store.DB, d.log); err != nil {
		return err
	}

	ids := esl.NewChannelIDs()
	d.control = esl.NewControl(d.cfg.FreeSWITCH, password, d.log)
	d.control.IDs = ids
	d.control.Owner, d.control.OnRefused = d.cfg.eslOwnerCheck(d.log, d.procNet), d.metrics.ESLPeerRefused
	d.recordings = recordings.NewFolder(d.cfg.RecordingsDir)
	d.reconciler = &consent.Reconciler{Store: d.writeStore(), Control: d.control, Recordings: d.recordings, Live: d.live,
		Now: time.Now, Logger: d.log.With("system", "reconcile"), OnPanic: d.counted(loopReconcile)}
	d.control.OnConnect = d.reconcile
	d.flow = d.newFlow()
	d.outbound = esl.NewOutboundServer(d.cfg.ESLListen, d.handleCall, d.log)
	d.outbound.IDs = ids
	if err := d.settleLeftovers(ctx); err != nil {
		return err
	}

	if err := d.openRetention(ctx); err != nil {
		return err
	}
	if err := d.openAuditCheck(ctx); err != nil {
		return err
	}
	if err := d.openIntegrityCheck(ctx); err != nil {
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
	if err := d.openWeb(ctx); err != nil {
		return err
	}
	if err := d.serveControl(ctx); err != nil {
		return err
	}
	if err := d.openMetrics(ctx); err != nil {
		return err
	}
	d.startReconcileLoop(ctx, cmp.Or(d.reconcileEvery, time.Minute))
	d.started = time.Now().UTC()
	d.log.Info("callconsent running", "esl_listen", d.outbound.Addr().String(), "freeswitch", d.cfg.FreeSWITCH,
		"db", d.cfg.DB, "recordings", d.cfg.RecordingsDir, "max_calls", maxCalls, "metrics", d.describeMetrics(), "web", d.describeWeb())
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
	return &consent.Flow{
		Store:       d.writeStore(),
		Control:     d.control,
		Pseudonyms:  d.store.Pseudonyms,
		Notices:     ns,
		Language:    d.cfg.Language,
		Tries:       d.cfg.Tries,
		Timeout:     d.cfg.DigitTimeout,
		MinNotice:   d.cfg.MinNotice,
		Transfer:    d.cfg.Transfer,
		Recordings:  d.recordings,
		Live:        d.live,
		Now:         time.Now,
		Logger:      d.log.With("system", "flow"),
		OnDecision:  d.metrics.Decision,
		OnRecording: d.metrics.RecordingTransition,
		OnRefused:   d.metrics.CallRefused,

		OnDigitToRecord: d.metrics.DigitToRecord,
	}
}

// handleCall drives one call (consent.Flow.Handle). A panic in it is recovered here, logged
// and counted, and the daemon goes on with the other calls. The flow's deferred steps have
// closed the call's socket by then, so FreeSWITCH's dialplan fallback takes the caller on to
// the employee: unrecorded, or recorded still if a recording had started with a stored grant
// (reconcile finalises it once the call is over).
func (d *daemon) handleCall(ctx context.Context, ch consent.Channel) {
	err := consent.CatchPanic(func() error { d.flow.Handle(ctx, ch); return nil })
	var pe *consent.PanicError
	if errors.As(err, &pe) {
		d.recovered(loopCall, pe, "call", ch.UUID())
	}
}

// settleLeftovers runs at start, before the first call and without FreeSWITCH: the calls the
// process before left pending are abandoned now (their sockets died with it, and FreeSWITCH's
// dialplan fallback took those callers on, unrecorded), and the start is stored, so that
// `calls list` marks the recordings that process left live as unconfirmed until reconcile,
// once FreeSWITCH answers, finalises them.
func (d *daemon) settleLeftovers(ctx context.Context) error {
	if err := d.store.DB.MarkDaemonStart(ctx, time.Now()); err != nil {
		return err
	}
	res, err := d.reconciler.AbandonPending(ctx)
	if err != nil {
		return fmt.Errorf("calls left pending: %w", err)
	}
	if res.Abandoned > 0 || res.Failed > 0 {
		d.log.Info("calls left pending by the previous run marked abandoned (FreeSWITCH's fallback took them, unrecorded)",
			"abandoned", res.Abandoned, "failed", res.Failed)
	}
	return nil
}

// callStore is what the flow and reconcile write through.
type callStore interface {
	consent.FlowStore
	consent.ReconcileStore
}

// writeStore is the store the flow and reconcile write through: the database, its commits
// timed for the metrics, wrapped by wrapStore in tests.
func (d *daemon) writeStore() callStore {
	var s callStore = timedStore{d.store.DB, d.metrics}
	if d.wrapStore != nil {
		return d.wrapStore(s)
	}
	return s
}

// reconcile runs after every control (re)connect and every minute: what happened while we
// could not ask FreeSWITCH is settled now. A panic in it is recovered, logged and counted
// (one row's panic only leaves that row: consent.Reconciler).
func (d *daemon) reconcile(ctx context.Context) {
	var res consent.ReconcileResult
	err := consent.CatchPanic(func() (err error) { res, err = d.reconciler.Run(ctx); return err })
	var pe *consent.PanicError
	switch {
	case errors.As(err, &pe):
		d.recovered(loopReconcile, pe)
	case err != nil:
		d.log.Error("reconcile failed", "err", err)
	default:
		d.log.Info("reconciled", "finalised", res.Finalised, "abandoned", res.Abandoned, "ended", res.Ended,
			"still_live", res.StillLive, "failed", res.Failed)
	}
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
