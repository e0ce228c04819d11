package esl

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/callconsent/callconsent/consent"
)

// promptSettle is how long Prompt waits for hangup evidence when play_and_get_digits ended
// without a read_result, the mark of an app interrupted rather than finished.
const promptSettle = 300 * time.Millisecond

// silence is what plays where a prompt or invalid-input file is "": pagd needs a file.
const silence = "silence_stream://250"

// Prompt implements consent.Channel with play_and_get_digits. The result is read from that
// app's own EXECUTE_COMPLETE (matched by Application-UUID), which carries the variables; the
// first DTMF event after its CHANNEL_EXECUTE tells, in FreeSWITCH's time, how much of the
// prompt had played when the key came.
func (ch *channel) Prompt(ctx context.Context, p consent.Prompt) (consent.PromptResult, error) {
	file, invalid := cmp.Or(p.File, silence), cmp.Or(p.InvalidFile, silence)
	for what, v := range map[string]string{"prompt file": file, "invalid file": invalid, "prompt variable": p.Variable, "prompt regexp": p.Regexp} {
		if err := checkArg(what, v, false); err != nil {
			return consent.PromptResult{}, consent.Errorf(consent.EINVALID, "%v", err)
		}
	}
	if p.Tries < 1 || p.Timeout < time.Millisecond {
		return consent.PromptResult{}, consent.Errorf(consent.EINVALID, "prompt needs tries >= 1 and a timeout")
	}
	ms := p.Timeout.Milliseconds()
	arg := fmt.Sprintf("1 1 %d %d # %s %s %s %s %d", p.Tries, ms, file, invalid, p.Variable, p.Regexp, ms)
	r, err := ch.execute(ctx, "play_and_get_digits", arg, 0)
	if err != nil {
		return consent.PromptResult{}, err
	}
	done := r.done
	if !done.has("variable_read_result") {
		// Interrupted: the hangup that interrupted it may still be on its way.
		timer := time.NewTimer(promptSettle)
		defer timer.Stop()
		_ = ch.wait(ctx, timer.C, func() bool { return ch.hungUp })
	}
	if ch.isHungUp() {
		return consent.PromptResult{}, fmt.Errorf("play_and_get_digits: %w", consent.ErrHungUp)
	}
	res := consent.PromptResult{KeyAfter: r.keyAfter()}
	if v := done.get("variable_" + p.Variable); done.get("variable_read_result") == "success" && v != "_undef_" {
		res.Digit = v
	}
	if v := done.get("variable_" + p.Variable + "_invalid"); v != "_undef_" {
		res.Invalid = v
	}
	return res, nil
}

// terminatorsVar is the channel variable FreeSWITCH's playback reads, at every key, to decide
// whether the key ends the playback ("none", "any" or a list of keys; "*" when unset).
const terminatorsVar = "playback_terminators"

// Play implements consent.Channel with FreeSWITCH's playback application: `{timeout=<ms>}`
// before the file bounds it (FreeSWITCH plays every block of 16384 samples it read, so at least
// that long), `@@<sample>` after it starts there, and playback_terminators decides which keys
// end it; playback drops every other key. The set of playback_terminators is sent together
// with the playback: set completes at once, so FreeSWITCH starts the playback in the same media
// tick, without a gap in the audio and without a moment in which a key could reach the socket
// application's park loop.
func (ch *channel) Play(ctx context.Context, p consent.Playback) (consent.Played, error) {
	if err := checkArg("playback file", p.File, false); err != nil {
		return consent.Played{}, consent.Errorf(consent.EINVALID, "%v", err)
	}
	if strings.ContainsAny(p.File, "{}@") || p.From < 0 || p.Max < 0 || strings.Trim(p.Keys, "0123456789*#") != "" {
		return consent.Played{}, consent.Errorf(consent.EINVALID, "playback of %q from %d for %s ending on %q: not a playable request", p.File, p.From, p.Max, p.Keys)
	}
	arg := p.File
	if p.From > 0 {
		arg += "@@" + strconv.FormatInt(p.From, 10)
	}
	if p.Max > 0 {
		arg = "{timeout=" + strconv.FormatInt(max(p.Max.Milliseconds(), 1), 10) + "}" + arg
	}
	id, err := ch.sendExecute(ctx, "set", terminatorsVar+"="+cmp.Or(p.Keys, "none"))
	if err != nil {
		return consent.Played{}, ch.translate("set", err)
	}
	defer ch.forget(id)
	ch.mu.Lock()
	ch.termsSet = true
	ch.mu.Unlock()
	r, err := ch.execute(ctx, "playback", arg, 0)
	if err != nil {
		return consent.Played{}, err
	}
	out := consent.Played{
		Duration: r.elapsed(),
		Next:     p.From + atoi64(r.done.get("variable_playback_samples")),
		Complete: r.done.get("Application-Response") == "FILE PLAYED",
	}
	if k := r.done.get("variable_playback_terminator_used"); k != "" && strings.Contains(p.Keys, k) {
		out.Key = k
	}
	return out, nil
}

// recState is what FreeSWITCH reported of a recording this channel started. Only the paths of
// our own record_session are tracked: RECORD_* events for any other path are a peer's noise and
// cost nothing (they once filled a map each, without bound: a million RECORD_STOPs with
// distinct paths grew the daemon from 13 MB to 805 MB).
type recState struct {
	started bool
	stop    *consent.RecordStop
}

// recordEventLocked applies a RECORD_START or RECORD_STOP to the recording of its path, if it
// is one of ours, and reports whether it was.
func (ch *channel) recordEventLocked(name string, e event) bool {
	path := e.get("Record-File-Path")
	r := ch.recordings[path]
	if r == nil {
		return false
	}
	if name == "RECORD_START" {
		r.started = true
		ch.lastRecording = path // even a start confirmed too late is a recording WaitEnd reports
		return true
	}
	r.stop = &consent.RecordStop{
		Path:       path,
		DurationMS: atoi64(e.get("variable_record_ms")),
		Bytes:      atoi64(e.get("variable_record_file_size")),
		Cause:      e.get("Record-Completion-Cause"),
	}
	return true
}

// StartRecording implements consent.Channel: record_session, then RECORD_START for exactly this
// path, the one confirmation FreeSWITCH gives (a failed start is only logged on its side).
func (ch *channel) StartRecording(ctx context.Context, path string, timeout time.Duration) error {
	if err := checkArg("recording path", path, false); err != nil {
		return consent.Errorf(consent.EINVALID, "%v", err)
	}
	ch.mu.Lock()
	if ch.recordings[path] == nil {
		ch.recordings[path] = &recState{}
	}
	ch.mu.Unlock()
	id, err := ch.sendExecute(ctx, "record_session", path+" {RECORD_STEREO=true,RECORD_MIN_SEC=1}")
	if err != nil {
		// Once the command may have reached FreeSWITCH (ctx ended or its deadline passed while
		// the reply was due), the recording may run: stop it. Not when it was never written, nor
		// when FreeSWITCH refused it (-ERR: the app was not queued).
		if !errors.Is(err, errNotSent) && !errors.Is(err, errRefused) && !errors.Is(err, consent.ErrHungUp) {
			ch.stopUnconfirmed(path)
		}
		return ch.translate("record_session", err)
	}
	defer ch.forget(id)
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	err = ch.wait(ctx, timer.C, func() bool { return ch.recordings[path].started || ch.hungUp })
	ch.mu.Lock()
	started := ch.recordings[path].started
	ch.mu.Unlock()
	switch {
	case started:
		// Confirmed; a hangup right after is WaitEnd's business (RECORD_STOP follows).
		return nil
	case errors.Is(err, errWaitTimeout):
		ch.log.Warn("esl recording not confirmed", logKeyUUID, ch.uuid)
		ch.stopUnconfirmed(path)
		return fmt.Errorf("record_session: %w", consent.ErrRecordingNotStarted)
	case err == nil: // woke on the hangup
		return fmt.Errorf("record_session: %w", consent.ErrHungUp)
	}
	// ctx ended (daemon shutdown) or the connection died: stop the recording all the same; on a
	// dead connection the attempt fails at once without writing anything.
	ch.stopUnconfirmed(path)
	return ch.translate("record_session", err)
}

// stopUnconfirmed asks FreeSWITCH to stop a recording we gave up waiting for: without a
// confirmed start the caller's consent flow treats it as absent, so it must not run on quietly.
// Best effort: the control connection's uuid_record stop remains the backstop. It runs under a
// fresh short context, because the caller's may be the very one whose end made us give up.
func (ch *channel) stopUnconfirmed(path string) {
	ctx, cancel := context.WithTimeout(context.Background(), ch.opts.commandTimeout())
	defer cancel()
	if id, err := ch.sendExecute(ctx, "stop_record_session", path); err == nil {
		ch.forget(id)
	}
}

// WaitEnd implements consent.Channel: CHANNEL_HANGUP_COMPLETE, then a short grace for the
// RECORD_STOP of the recording, which may arrive around it (its order is not guaranteed).
func (ch *channel) WaitEnd(ctx context.Context) (consent.CallEnd, error) {
	if err := ch.wait(ctx, nil, func() bool { return ch.hangupComplete }); err != nil {
		if errors.Is(err, errConnGone) {
			return consent.CallEnd{}, fmt.Errorf("wait end: %w (%v)", consent.ErrChannelGone, err)
		}
		return consent.CallEnd{}, fmt.Errorf("wait end: %w", err)
	}
	timer := time.NewTimer(ch.opts.recordStopGrace())
	defer timer.Stop()
	// Whatever ends the grace (timeout, connection end, ctx) we report what we have.
	_ = ch.wait(ctx, timer.C, func() bool {
		return ch.lastRecording == "" || ch.recordings[ch.lastRecording].stop != nil
	})
	ch.mu.Lock()
	defer ch.mu.Unlock()
	end := consent.CallEnd{HangupCause: ch.hangupCause}
	if ch.lastRecording != "" {
		end.Record = ch.recordings[ch.lastRecording].stop
	}
	return end, nil
}
