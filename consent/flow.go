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
	SHA256      string // hex SHA-256 of File's bytes, taken when the config was loaded
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
	Store       Store
	Control     Control // may be nil in tests; used to stop a recording FreeSWITCH did not confirm
	Pseudonyms  *Pseudonymizer
	Notices     map[string]Notice // by language
	Language    string            // default language
	Tries       int
	Timeout     time.Duration // wait for a key after the notice
	Transfer    string        // employee target, e.g. "6000 XML default"
	Recordings  string        // recordings folder (absolute)
	StartWait   time.Duration // how long to wait for RECORD_START; 3 s when zero
	StoreWait   time.Duration // bound on one store write; 5 s when zero
	Live        *LiveCalls
	MakeDir     func(dir string) error // creates a recording's day folder; nil: FreeSWITCH does
	Now         func() time.Time
	Logger      *slog.Logger
	OnDecision  func(d Decision)       // optional metric hook
	OnRecording func(s RecordingState) // optional metric hook
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

	notice := f.notice(ch.Variable(LanguageVariable))
	call := &Call{
		UUID:            uuid,
		CallerPseudonym: f.Pseudonyms.Pseudonym(ch.CallerNumber()),
		Language:        notice.Language,
		StartedAt:       f.Now().UTC(),
		Decision:        DecisionPending,
	}
	if err := f.write(ctx, func(ctx context.Context) error { return f.Store.CreateCall(ctx, call) }); err != nil {
		// Without a row we can neither honour nor prove a choice: do not ask, do not record.
		log.Error("store call failed; transferring unrecorded", "err", err)
		f.count(DecisionError)
		f.transfer(ctx, ch, log)
		return
	}
	d, proof, err := f.ask(ctx, ch, notice)
	var rec *Recording
	if d == DecisionGranted {
		rec = f.prepareRecording(ch.UUID(), log)
	}
	werr := f.write(ctx, func(ctx context.Context) error {
		if rec != nil {
			return f.Store.Grant(ctx, uuid, proof, rec)
		}
		return f.Store.DecideCall(ctx, uuid, d, proof)
	})
	if werr != nil {
		log.Error("store decision failed; transferring unrecorded", "decision", d, "err", werr)
		d, proof, rec = DecisionError, nil, nil
		_ = f.write(ctx, func(ctx context.Context) error { return f.Store.DecideCall(ctx, uuid, d, nil) })
	}
	f.count(d)
	log.Info("consent decided", "decision", d, "tries", tries(proof))
	if errors.Is(err, ErrHungUp) || errors.Is(err, ErrChannelGone) {
		f.end(ctx, ch, call, nil, log)
		return
	}
	if rec != nil {
		f.record(ctx, ch, rec, log)
	}
	f.transfer(ctx, ch, log)
	f.end(ctx, ch, call, rec, log)
}

// ask answers the call and plays the notice until a valid key or the tries run out. A key
// pressed before the notice starts is discarded (flush_dtmf): only a choice made while or after
// hearing the notice is informed consent.
func (f *Flow) ask(ctx context.Context, ch Channel, n Notice) (Decision, *Proof, error) {
	if err := ch.Answer(ctx); err != nil {
		return failed(err), nil, err
	}
	if err := ch.FlushDTMF(ctx); err != nil {
		return failed(err), nil, err
	}
	p := Prompt{File: n.File, InvalidFile: n.InvalidFile, Tries: 1, Timeout: f.Timeout, Regexp: DigitRegexp, Variable: DigitVariable}
	for try := 1; try <= f.Tries; try++ {
		// One try per prompt so that the proof knows exactly how many prompts the caller heard.
		res, err := ch.Prompt(ctx, p)
		if err != nil {
			return failed(err), nil, err
		}
		var d Decision
		switch res.Digit {
		case DigitGrant:
			d = DecisionGranted
		case DigitDecline:
			d = DecisionDeclined
		default:
			continue
		}
		return d, f.proof(n, res.Digit, try), nil
	}
	return DecisionNoInput, f.proof(n, "", f.Tries), nil
}

func (f *Flow) proof(n Notice, digit string, try int) *Proof {
	return &Proof{DecidedAt: f.Now().UTC(), Digit: digit, Tries: try, NoticeVersion: n.Version, NoticeSHA256: n.SHA256, Language: n.Language}
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

func (f *Flow) notice(lang string) Notice {
	if n, ok := f.Notices[lang]; ok && lang != "" {
		return n
	}
	return f.Notices[f.Language]
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
