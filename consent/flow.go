package consent

import (
	"context"
	"errors"
	"log/slog"
	"time"
)

// Notice is one consent notice an admin configured: the audio FreeSWITCH plays, and the
// version and hash that go into the consent proof so it shows exactly what the caller heard.
type Notice struct {
	Language    string
	File        string // absolute path of the audio file FreeSWITCH plays
	InvalidFile string // played after a wrong key; "" for a short silence
	Version     string
	SHA256      string        // hex SHA-256 of File's bytes, taken when the config was loaded
	Duration    time.Duration // length of the audio, from its header
}

// Keys of the consent prompt: the only accepted digits and what they mean (R-CONSENT-2).
const (
	DigitGrant   = "1"
	DigitDecline = "2"
	DigitRegexp  = "^[12]$"
	// DigitVariable is the channel variable play_and_get_digits writes the key to.
	DigitVariable = "consent_digit"
	// LanguageVariable is the channel variable a dialplan sets to choose the notice language.
	LanguageVariable = "callconsent_lang"
)

// Flow drives one call through the consent prompt (R-CONSENT-1..6): answer, notice, one key,
// a durable decision, and only then, with a grant, a recording; always a transfer to an
// employee. Its fields are set once before the first call and not changed afterwards.
type Flow struct {
	Store      FlowStore
	Control    Control // may be nil in tests; used to stop a recording FreeSWITCH did not confirm
	Pseudonyms *Pseudonymizer
	Notices    map[string]Notice // by language
	Language   string            // default language
	Tries      int
	Timeout    time.Duration // wait for a key after the notice
	// MinNotice is how much of the notice a caller hears before a key counts (R-CONSENT-1:
	// consent is informed): keys pressed earlier are discarded and the notice goes on. At most
	// every notice's Duration.
	MinNotice   time.Duration
	Transfer    string         // employee target, e.g. "6000 XML default"
	Recordings  RecordingFiles // the recordings folder; required
	StartWait   time.Duration  // how long to wait for RECORD_START; 3 s when zero
	StoreWait   time.Duration  // bound on one store write; 5 s when zero
	Live        *LiveCalls
	Now         func() time.Time
	Logger      *slog.Logger
	OnDecision  func(d Decision)       // optional metric hook
	OnRecording func(s RecordingState) // optional metric hook
	OnRefused   func()                 // optional metric hook: a call FreeSWITCH does not know
	// OnDigitToRecord, optional, is told how long it took from the caller's consent key to
	// record_session being sent: the grant's commit and the recording's preparation.
	OnDigitToRecord func(time.Duration)

	// MaxCallDuration is the ceiling of a call's whole life, counted from its hand-over: a call
	// still up then is let go of (its recording stopped, its rows finalised), so that no peer
	// holds a call's goroutines and rows open for ever. 0 means no ceiling.
	MaxCallDuration time.Duration
	// StepSlack is what a playback or a wait for the key may take beyond its audio and its
	// timeout before the flow gives up on it; 30 s when zero.
	StepSlack time.Duration
}

// Handle drives one call from hand-over to hang-up. It never returns early in a way that
// leaves the caller without a transfer, unless the caller hung up or the channel is gone (then
// FreeSWITCH's dialplan fallback takes the call on).
func (f *Flow) Handle(ctx context.Context, ch Channel) {
	uuid := ch.UUID()
	log := f.Logger.With("call", uuid)
	defer ch.Close()
	if !ValidUUID(uuid) || !f.Live.Add(uuid) {
		log.Error("call refused: bad or duplicate channel uuid; transferring unrecorded")
		f.transfer(ctx, ch, log)
		return
	}
	defer f.Live.Remove(uuid)
	if f.MaxCallDuration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, f.MaxCallDuration)
		defer cancel()
	}

	notice := f.notice(ch.Variable(LanguageVariable))
	call := &Call{
		UUID:            uuid,
		CallerPseudonym: f.Pseudonyms.Pseudonym(ch.CallerNumber()),
		Language:        notice.Language,
		StartedAt:       f.Now().UTC(),
		Decision:        DecisionPending,
	}
	actx, stop := context.WithCancel(context.WithoutCancel(ctx))
	askCtx, refuted := context.WithCancel(ctx)
	defer refuted()
	admission := f.admit(actx, ch, refuted)
	d, proof, err := f.ask(askCtx, ch, notice)
	if aerr := f.admitted(admission, stop); aerr != nil {
		// Without a confirmed call we can neither honour nor prove a choice.
		f.refuse(ctx, ch, aerr, err, log)
		return
	}
	hungUp := errors.Is(err, ErrHungUp)
	if hungUp {
		call.EndedAt = f.Now().UTC() // ended before its choice: one commit holds all of it
	}
	var rec *Recording
	if d == DecisionGranted {
		rec = f.prepareRecording(ch.UUID(), log)
	}
	call.Decision, call.Proof = d, proof
	werr := f.write(ctx, func(ctx context.Context) error {
		if rec != nil {
			return f.Store.StoreGrant(ctx, call, rec)
		}
		return f.Store.StoreDecision(ctx, call)
	})
	if werr != nil {
		log.Error("store decision failed; transferring unrecorded", "decision", d, "err", werr)
		d, proof, rec = DecisionError, nil, nil
		call.Decision, call.Proof = d, nil
		if f.write(ctx, func(ctx context.Context) error { return f.Store.StoreDecision(ctx, call) }) != nil {
			// No row: there is no end to stamp either. The caller goes on, unrecorded.
			f.count(d)
			f.transfer(ctx, ch, log)
			return
		}
	}
	f.count(d)
	if err != nil && !hungUp {
		log.Error("consent not obtained; transferring unrecorded", "err", err)
	}
	log.Info("consent decided", "decision", d, "tries", tries(proof), "heard_ms", heardMS(proof))
	if hungUp {
		return
	}
	if errors.Is(err, ErrChannelGone) {
		f.end(ctx, ch, call, nil, log)
		return
	}
	if rec != nil {
		f.record(ctx, ch, rec, proof.DecidedAt, log)
	}
	f.transfer(ctx, ch, log)
	f.end(ctx, ch, call, rec, log)
}

// ask answers the call and plays the notice until a valid key or the tries run out. Only a
// choice made after hearing the notice is informed consent (R-CONSENT-1): the first MinNotice
// of the notice plays with every key discarded (a key pressed at answer reaches FreeSWITCH after
// flush_dtmf and would otherwise be taken by the first prompt before a sample of it played), the
// rest goes on and takes 1 or 2; after it, each try waits for a key.
func (f *Flow) ask(ctx context.Context, ch Channel, n Notice) (Decision, *Proof, error) {
	if err := ch.Answer(ctx); err != nil {
		return failed(err), nil, err
	}
	if err := ch.FlushDTMF(ctx); err != nil {
		return failed(err), nil, err
	}
	var heard time.Duration
	key, err := f.hear(ctx, ch, n, &heard)
	if err != nil {
		return failed(err), nil, err
	}
	p := Prompt{InvalidFile: n.InvalidFile, Tries: 1, Timeout: f.Timeout, Regexp: DigitRegexp, Variable: DigitVariable}
	for try := 1; try <= f.Tries; try++ {
		if key == "" {
			// One try per prompt so that the proof knows exactly how many prompts the caller heard.
			// The first try's notice has played already: it only waits for the key.
			p.File = ""
			if try > 1 {
				p.File = n.File
			}
			sctx, cancel := f.step(ctx, n.Duration+f.Timeout)
			res, err := ch.Prompt(sctx, p)
			cancel()
			if err != nil {
				return failed(err), nil, err
			}
			if p.File != "" {
				heard += notHeardPast(res.KeyAfter, n.Duration)
			}
			key = res.Digit
		}
		switch key {
		case DigitGrant:
			return DecisionGranted, f.proof(n, key, try, heard), nil
		case DigitDecline:
			return DecisionDeclined, f.proof(n, key, try, heard), nil
		}
		key = ""
	}
	return DecisionNoInput, f.proof(n, "", f.Tries, heard), nil
}

// playSlack absorbs FreeSWITCH's 20 ms media ticks in the event timestamps that measure how
// long a playback ran.
const playSlack = 60 * time.Millisecond

// hear plays the notice once: its first MinNotice with every key discarded, then the rest,
// which 1 or 2 ends. It returns that key ("" when the notice ran out) and adds what played to
// heard. A first part that played less than it must (FreeSWITCH could not read the file, or the
// file is not the audio whose hash the proof would name) is an error: the caller did not hear
// the notice, so no choice can be taken.
func (f *Flow) hear(ctx context.Context, ch Channel, n Notice, heard *time.Duration) (string, error) {
	sctx, cancel := f.step(ctx, n.Duration)
	first, err := ch.Play(sctx, Playback{File: n.File, Max: f.MinNotice})
	cancel()
	if err != nil {
		return "", err
	}
	*heard += first.Duration
	if want := min(f.MinNotice, n.Duration); !first.Complete || first.Duration < want-playSlack {
		return "", Errorf(EINTERNAL, "notice did not play: FreeSWITCH played %d ms of the %d ms due", first.Duration.Milliseconds(), want.Milliseconds())
	}
	if first.Duration >= n.Duration-playSlack {
		return "", nil // the notice is shorter than MinNotice, and was played whole
	}
	sctx, cancel = f.step(ctx, n.Duration)
	rest, err := ch.Play(sctx, Playback{File: n.File, From: first.Next, Keys: DigitGrant + DigitDecline})
	cancel()
	if err != nil {
		return "", err
	}
	*heard += rest.Duration
	return rest.Key, nil
}

// step bounds one step of the prompt by what it can take (the notice, the wait for the key)
// plus StepSlack: a FreeSWITCH that never completes a playback must not hold the call until
// MaxCallDuration. A step that runs out ends the asking with decision error; the caller is
// transferred.
func (f *Flow) step(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	slack := f.StepSlack
	if slack == 0 {
		slack = 30 * time.Second
	}
	return context.WithTimeout(ctx, d+slack)
}

// notHeardPast is how much of a notice of length d a prompt played before a key that came
// after (negative: no key, the notice played whole).
func notHeardPast(after, d time.Duration) time.Duration {
	if after < 0 || after > d {
		return d
	}
	return after
}

func (f *Flow) proof(n Notice, digit string, try int, heard time.Duration) *Proof {
	return &Proof{DecidedAt: f.Now().UTC(), Digit: digit, Tries: try, NoticeVersion: n.Version, NoticeSHA256: n.SHA256,
		Language: n.Language, HeardMS: heard.Milliseconds()}
}

// failed maps a channel error before a decision to the decision it stands for: a hang-up is
// abandoned, anything else means we could not obtain one.
func failed(err error) Decision {
	if errors.Is(err, ErrHungUp) {
		return DecisionAbandoned
	}
	return DecisionError
}

func tries(p *Proof) int {
	if p == nil {
		return 0
	}
	return p.Tries
}

func heardMS(p *Proof) int64 {
	if p == nil {
		return 0
	}
	return p.HeardMS
}

func (f *Flow) notice(lang string) Notice {
	if n, ok := f.Notices[lang]; ok && lang != "" {
		return n
	}
	return f.Notices[f.Language]
}

// refuse ends a call that was not admitted: nothing is recorded or stored, and the caller,
// if there is one, goes on to an employee.
func (f *Flow) refuse(ctx context.Context, ch Channel, why, askErr error, log *slog.Logger) {
	switch {
	case errors.Is(why, ErrNotLiveCall):
		log.Warn("call refused: FreeSWITCH has no such live call; nothing stored or recorded", "err", why)
		if f.OnRefused != nil {
			f.OnRefused()
		}
	default:
		log.Error("call not admitted; transferring unrecorded", "err", why)
		f.count(DecisionError)
	}
	if !errors.Is(askErr, ErrHungUp) && !errors.Is(askErr, ErrChannelGone) {
		f.transfer(ctx, ch, log)
	}
}

func (f *Flow) count(d Decision) {
	if f.OnDecision != nil {
		f.OnDecision(d)
	}
}

// write runs one store write with its own deadline and without the caller's cancellation: a
// daemon shutting down still finishes the step a call is in, and a decision half-taken is worse
// than a slow stop.
func (f *Flow) write(ctx context.Context, fn func(context.Context) error) error {
	wait := f.StoreWait
	if wait == 0 {
		wait = 5 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), wait)
	defer cancel()
	return fn(ctx)
}

func (f *Flow) transfer(ctx context.Context, ch Channel, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := ch.Transfer(ctx, f.Transfer); err != nil && !errors.Is(err, ErrHungUp) {
		log.Error("transfer failed", "err", err)
	}
}
