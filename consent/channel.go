package consent

import (
	"context"
	"time"
)

// Sentinel errors a Channel or Control returns; test with errors.Is.
var (
	// ErrHungUp means the caller hung up; the call is over, whatever was asked.
	ErrHungUp = Errorf(ECONFLICT, "caller hung up")
	// ErrChannelGone means the connection to FreeSWITCH for this call is gone (closed, timed out,
	// malformed frame). The call may still be up in FreeSWITCH, which then runs its fallback.
	ErrChannelGone = Errorf(EINTERNAL, "call channel lost")
	// ErrRecordingNotStarted means FreeSWITCH did not confirm a recording start in time.
	ErrRecordingNotStarted = Errorf(EINTERNAL, "recording did not start")
	// ErrNotReady means the control connection to FreeSWITCH is down at the moment.
	ErrNotReady = Errorf(EINTERNAL, "freeswitch control connection not ready")
	// ErrNotLiveCall means FreeSWITCH, asked over the authenticated control connection, has
	// no live channel with that UUID and that caller: whoever handed us the call is not it.
	ErrNotLiveCall = Errorf(ECONFLICT, "not a live freeswitch call")
)

// Channel is one live call as the consent flow drives it; package esl implements it over a
// FreeSWITCH outbound socket. Every method blocks until FreeSWITCH confirmed the step (not just
// accepted the command), honours ctx, and returns ErrHungUp once the caller is gone.
type Channel interface {
	// UUID is the FreeSWITCH channel UUID.
	UUID() string
	// CallerNumber is the raw caller id number. It is personal data: only ever pass it to a
	// Pseudonymizer, never to a log or the store.
	CallerNumber() string
	// Variable returns a channel variable from the call's data, "" when unset.
	Variable(name string) string
	// Answer answers the call.
	Answer(ctx context.Context) error
	// FlushDTMF discards digits buffered before the prompt, so only a key pressed while the
	// notice plays can count.
	FlushDTMF(ctx context.Context) error
	// Play plays (part of) an audio file; keys not in p.Keys are discarded while it plays.
	Play(ctx context.Context, p Playback) (Played, error)
	// Prompt plays a prompt and collects digits (play_and_get_digits).
	Prompt(ctx context.Context, p Prompt) (PromptResult, error)
	// StartRecording starts a stereo recording to path and waits up to timeout for FreeSWITCH's
	// confirmation (RECORD_START for that path); without it, ErrRecordingNotStarted.
	StartRecording(ctx context.Context, path string, timeout time.Duration) error
	// Transfer hands the call on to target (e.g. "6000 XML default").
	Transfer(ctx context.Context, target string) error
	// WaitEnd waits for the end of the call (CHANNEL_HANGUP_COMPLETE) and, if a recording was
	// started, for its RECORD_STOP, at most until ctx ends.
	WaitEnd(ctx context.Context) (CallEnd, error)
	// Close ends our control of the call (exit) and closes the connection.
	Close() error
}

// Playback describes one play of an audio file (FreeSWITCH's playback application).
type Playback struct {
	File string
	// From is the sample of the file to start at (0: its beginning), e.g. Played.Next of the
	// playback this one continues.
	From int64
	// Max, when > 0, ends the playback after about this long. FreeSWITCH reads audio in blocks
	// (16384 samples, 2.048 s at 8 kHz) and plays every block it read, so it plays at least Max
	// and at most one block more, or to the end of the file.
	Max time.Duration
	// Keys are the keys that end the playback early and are reported in Played.Key; every other
	// key the caller presses meanwhile is discarded. "" discards every key.
	Keys string
}

// Played is FreeSWITCH's account of a Playback.
type Played struct {
	Key string // the key that ended it; "" when it ran to its end (or to Max)
	// Duration is how long it played, from FreeSWITCH's own event timestamps (its start to
	// the key or its end), not from callconsent's clock.
	Duration time.Duration
	// Next is the sample where a continuation starts: From plus the samples FreeSWITCH read.
	Next int64
	// Complete is false when FreeSWITCH could not play the file (not found, unreadable).
	Complete bool
}

// Prompt describes one play_and_get_digits.
type Prompt struct {
	File        string        // audio to play (absolute path); "" for a short silence
	InvalidFile string        // played after a key that does not match; "" for silence
	Tries       int           // prompts before giving up
	Timeout     time.Duration // wait for a key after the prompt ended
	Regexp      string        // keys accepted, e.g. ^[12]$
	Variable    string        // channel variable that receives the key
}

// PromptResult is what a prompt collected.
type PromptResult struct {
	Digit   string // the accepted key; "" on timeout or invalid keys only
	Invalid string // the last rejected key, if any
	// KeyAfter is how long the prompt had played when the first key came, from FreeSWITCH's
	// event timestamps; negative when no key came.
	KeyAfter time.Duration
}

// CallEnd is how a call ended, as FreeSWITCH reported it.
type CallEnd struct {
	HangupCause string
	Record      *RecordStop // nil when no RECORD_STOP was seen
}

// RecordStop is FreeSWITCH's account of a finished recording (RECORD_STOP).
type RecordStop struct {
	Path       string
	DurationMS int64
	Bytes      int64
	Cause      string
}

// Control is the inbound control connection to FreeSWITCH, used for what the call's own socket
// cannot do while an application such as a bridge holds the channel.
type Control interface {
	// StopRecording stops the recording to path on a live call (uuid_record stop). It returns
	// nil also when the call or the recording no longer exists: there is nothing left to stop.
	StopRecording(ctx context.Context, callUUID, path string) error
	// CallExists reports whether FreeSWITCH still has the call.
	CallExists(ctx context.Context, callUUID string) (bool, error)
	// ConfirmCall checks that FreeSWITCH has a live channel callUUID whose caller id number
	// is callerNumber (personal data: it goes to FreeSWITCH and nowhere else). It returns
	// ErrNotLiveCall when FreeSWITCH has no such channel or another caller on it, and
	// ErrNotReady while the control connection is down.
	ConfirmCall(ctx context.Context, callUUID, callerNumber string) error
	// Ready reports whether the control connection is up and authenticated.
	Ready() bool
}
