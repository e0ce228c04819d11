package esl

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/callconsent/callconsent/consent"
	"github.com/percipia/eslgo/command/call"
)

// channel implements consent.Channel over one outbound socket. Events update its state flags on
// the connection's reader goroutine; methods wait on those flags, never on event order (bug 5):
// CHANNEL_HANGUP may come after CHANNEL_HANGUP_COMPLETE (transcript d2).
type channel struct {
	c    *conn
	log  *slog.Logger
	opts *OutboundServer // timeouts

	uuid string   // canonical (lower-case) channel UUID, as the domain knows the call
	fsID string   // FreeSWITCH's own spelling of it, for commands and for matching events
	data callData // what is read later of the connect reply (CHANNEL_DATA), values still encoded

	mu             sync.Mutex
	changed        chan struct{} // closed and replaced on every state change
	hungUp         bool
	hangupComplete bool
	hangupCause    string
	runs           map[string]*run      // Application-UUID of our executes -> how it ran
	current        *run                 // our execute that started and has not completed
	termsSet       bool                 // we changed playback_terminators: restore it before transfer
	recordings     map[string]*recState // by path: only those of our own record_session
	lastRecording  string

	closeOnce sync.Once
}

var _ consent.Channel = (*channel)(nil)

func newChannel(opts *OutboundServer, log *slog.Logger) *channel {
	return &channel{
		opts:       opts,
		log:        log,
		changed:    make(chan struct{}),
		runs:       map[string]*run{},
		recordings: map[string]*recState{},
	}
}

// handleEvent runs on the reader goroutine, in arrival order.
func (ch *channel) handleEvent(e event) {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	if id := e.get("Unique-ID"); id != "" && ch.fsID != "" && id != ch.fsID {
		return // another leg's event: never ours to act on
	}
	wasHungUp := ch.hungUp
	name := e.name()
	// Every channel event carries the channel's state at firing time, so the EXECUTE_COMPLETE of
	// an interrupted prompt already says "hangup" even when CHANNEL_HANGUP itself comes late.
	if name == "CHANNEL_HANGUP" || name == "CHANNEL_HANGUP_COMPLETE" || e.get("Answer-State") == "hangup" {
		ch.hungUp = true
		if c := e.get("Hangup-Cause"); c != "" && ch.hangupCause == "" {
			ch.hangupCause = c
		}
	}
	switch name {
	case "CHANNEL_HANGUP_COMPLETE":
		ch.hangupComplete = true
	case "CHANNEL_EXECUTE":
		if r := ch.runs[e.get("Application-UUID")]; r != nil && r.startLocal.IsZero() {
			r.start, r.startLocal = e.stamp(), time.Now()
			ch.current = r
		}
		return // nobody waits for a start
	case "DTMF":
		if r := ch.current; r != nil && r.key == "" {
			r.key, r.keyAt, r.keyLocal = e.get("DTMF-Digit"), e.stamp(), time.Now()
		}
		return
	case "CHANNEL_EXECUTE_COMPLETE":
		if r := ch.runs[e.get("Application-UUID")]; r != nil && r.done == nil {
			r.done, r.end, r.endLocal = &e, e.stamp(), time.Now()
			if ch.current == r {
				ch.current = nil
			}
		}
	case "RECORD_START", "RECORD_STOP":
		if !ch.recordEventLocked(name, e) && ch.hungUp == wasHungUp {
			return // another path's: nobody waits for it
		}
	default:
		if ch.hungUp == wasHungUp {
			return
		}
	}
	ch.broadcastLocked()
}

func (ch *channel) broadcastLocked() {
	close(ch.changed)
	ch.changed = make(chan struct{})
}

// wait blocks until cond (called with ch.mu held) reports true, ctx ends, timeout fires (nil
// means none) or the connection dies. It returns nil when cond held, errWaitTimeout, ctx.Err()
// or errConnGone. Events read before the connection died are already applied, so cond is
// checked once more after the end.
func (ch *channel) wait(ctx context.Context, timeout <-chan time.Time, cond func() bool) error {
	for {
		ch.mu.Lock()
		ok, changed := cond(), ch.changed
		ch.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		case <-timeout:
			return errWaitTimeout
		case <-ch.c.done:
			ch.mu.Lock()
			ok := cond()
			ch.mu.Unlock()
			if ok {
				return nil
			}
			return fmt.Errorf("%w: %v", errConnGone, ch.c.err)
		}
	}
}

var errWaitTimeout = errors.New("esl: wait timeout")

// errRefused is an execute FreeSWITCH answered with -ERR: the app was not queued.
var errRefused = errors.New("freeswitch refused")

// translate maps connection errors to the domain's sentinels; a hangup seen meanwhile wins,
// because it is the more precise account of why the step failed.
func (ch *channel) translate(op string, err error) error {
	if err == nil {
		return nil
	}
	ch.mu.Lock()
	hungUp := ch.hungUp
	ch.mu.Unlock()
	switch {
	case hungUp:
		return fmt.Errorf("%s: %w", op, consent.ErrHungUp)
	case errors.Is(err, errConnGone):
		return fmt.Errorf("%s: %w (%v)", op, consent.ErrChannelGone, err)
	}
	return fmt.Errorf("%s: %w", op, err)
}

// isHungUp reports the flag under the lock.
func (ch *channel) isHungUp() bool {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	return ch.hungUp
}

// UUID implements consent.Channel.
func (ch *channel) UUID() string { return ch.uuid }

// CallerNumber implements consent.Channel. It is personal data: never log it.
func (ch *channel) CallerNumber() string {
	if v := ch.data.get("Channel-Caller-ID-Number"); v != "" {
		return v
	}
	return ch.data.get("Caller-Caller-ID-Number")
}

// Variable implements consent.Channel from the connect reply's variable_* headers.
func (ch *channel) Variable(name string) string { return ch.data.get(variablePrefix + name) }

const variablePrefix = "variable_"

// sendExecute sends one execute with a fresh Event-UUID and registers that id, so that its
// EXECUTE_COMPLETE (which echoes it as Application-UUID) can be matched whatever the order.
func (ch *channel) sendExecute(ctx context.Context, app, arg string) (string, error) {
	if ch.isHungUp() {
		return "", consent.ErrHungUp
	}
	id := newUUID()
	ch.mu.Lock()
	ch.runs[id] = &run{}
	ch.mu.Unlock()
	f, err := ch.c.send(ctx, ch.opts.commandTimeout(), &call.Execute{UUID: ch.fsID, AppName: app, AppArgs: arg, AppUUID: id})
	if err != nil {
		ch.forget(id)
		return "", err
	}
	if !f.ok() {
		ch.forget(id)
		return "", fmt.Errorf("%w: %s", errRefused, f.replyText())
	}
	ch.log.Debug("esl execute sent", "app", app)
	return id, nil
}

func (ch *channel) forget(id string) {
	ch.mu.Lock()
	if ch.current == ch.runs[id] {
		ch.current = nil
	}
	delete(ch.runs, id)
	ch.mu.Unlock()
}

// execute runs app and waits for its EXECUTE_COMPLETE or the hangup, whichever comes first.
// The run it returns is a copy, safe to read without the lock. An app that completes at once
// (answer, flush_dtmf, transfer) is given limit: a peer that leaves it running longer, while it
// may well answer every liveness probe, is not a FreeSWITCH that serves this call, and the
// socket is closed (FreeSWITCH's dialplan fallback then takes the call on). A limit of 0 leaves
// the wait to ctx: a playback lasts as long as its audio.
func (ch *channel) execute(ctx context.Context, app, arg string, limit time.Duration) (run, error) {
	id, err := ch.sendExecute(ctx, app, arg)
	if err != nil {
		return run{}, ch.translate(app, err)
	}
	defer ch.forget(id)
	var timeout <-chan time.Time
	if limit > 0 {
		t := time.NewTimer(limit)
		defer t.Stop()
		timeout = t.C
	}
	var r run
	err = ch.wait(ctx, timeout, func() bool { r = *ch.runs[id]; return r.done != nil || ch.hungUp })
	switch {
	case err == nil && r.done != nil && r.done.get("Answer-State") != "hangup":
		// The app finished while the call was up; a hangup right after does not undo it.
		return r, nil
	case err == nil:
		err = consent.ErrHungUp
	case errors.Is(err, errWaitTimeout):
		ch.log.Warn("esl application not completed in time: closing the call's socket", logKeyUUID, ch.uuid, "app", app, "limit", limit)
		ch.c.fail(fmt.Errorf("%w: %s", errAppTimeout, app))
		err = fmt.Errorf("%w: %w", errConnGone, errAppTimeout)
	}
	return r, ch.translate(app, err)
}

// errAppTimeout closes a connection whose peer did not complete an application that completes
// at once, within OutboundServer.AppTimeout.
var errAppTimeout = errors.New("esl: application not completed in time")

// Answer implements consent.Channel.
func (ch *channel) Answer(ctx context.Context) error {
	_, err := ch.execute(ctx, "answer", "", ch.opts.appTimeout())
	return err
}

// FlushDTMF implements consent.Channel.
func (ch *channel) FlushDTMF(ctx context.Context) error {
	_, err := ch.execute(ctx, "flush_dtmf", "", ch.opts.appTimeout())
	return err
}

// Transfer implements consent.Channel; transfer's EXECUTE_COMPLETE confirms it. A
// playback_terminators we set for the notice is put back first, so that the employee's side of
// the dialplan plays its prompts as it expects to.
func (ch *channel) Transfer(ctx context.Context, target string) error {
	if err := checkArg("transfer target", target, true); err != nil {
		return consent.Errorf(consent.EINVALID, "%v", err)
	}
	ch.mu.Lock()
	restore := ch.termsSet
	ch.mu.Unlock()
	if restore {
		app, arg := "unset", terminatorsVar
		if v, ok := ch.data.raw(variablePrefix + terminatorsVar); ok && checkArg("terminators", decodeValue(v), false) == nil {
			app, arg = "set", terminatorsVar+"="+decodeValue(v)
		}
		if id, err := ch.sendExecute(ctx, app, arg); err == nil {
			defer ch.forget(id) // set completes at once: the transfer runs right after it
		}
	}
	// From here on the call is in conversation: a few events until the hang-up. Marked before
	// the transfer is sent, so that the reader gives its buffer back right after the transfer's
	// EXECUTE_COMPLETE, not only after the next event, which may be the hang-up (idle_read.go).
	ch.c.quiet()
	_, err := ch.execute(ctx, "transfer", target, ch.opts.appTimeout())
	return err
}

// Close implements consent.Channel: exit with a short deadline, then close. Idempotent.
func (ch *channel) Close() error {
	ch.closeOnce.Do(func() { ch.c.exit(ch.opts.exitTimeout()) })
	return nil
}

func atoi64(s string) int64 {
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}
