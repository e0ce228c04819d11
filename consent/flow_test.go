package consent_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/callconsent/callconsent/consent"
	"github.com/callconsent/callconsent/recordings"
	"github.com/callconsent/callconsent/recordings/recordingstest"
)

const testUUID = "260cc426-4b20-4054-b379-5ba800345a1c"

// fakeChannel is a scripted consent.Channel: each Prompt returns the next scripted result.
type fakeChannel struct {
	t        *testing.T
	log      *eventLog
	vars     map[string]string
	prompts  []promptStep
	plays    []playStep // scripted Play results; when they run out: the notice plays, no key
	stall    bool       // Play never completes
	played   []consent.Playback
	onPrompt func(try int)
	startErr error
	wav      bool // write a real WAV on StartRecording
	prompted []consent.Prompt
}

type promptStep struct {
	res consent.PromptResult
	err error
}

type playStep struct {
	res consent.Played
	err error
}

// Test notices last testNoticeLen; the first part of a notice plays firstPart, FreeSWITCH's
// read block (2.048 s) for a MinNotice of 2 s.
const (
	testNoticeLen = 10 * time.Second
	firstPart     = 2048 * time.Millisecond
)

func (c *fakeChannel) UUID() string                    { return testUUID }
func (c *fakeChannel) CallerNumber() string            { return "+47 912 34 567" }
func (c *fakeChannel) Variable(n string) string        { return c.vars[n] }
func (c *fakeChannel) Answer(context.Context) error    { c.log.add("ch:answer"); return nil }
func (c *fakeChannel) FlushDTMF(context.Context) error { c.log.add("ch:flush"); return nil }
func (c *fakeChannel) Close() error                    { c.log.add("ch:close"); return nil }

func (c *fakeChannel) Play(ctx context.Context, p consent.Playback) (consent.Played, error) {
	c.played = append(c.played, p)
	c.log.add("ch:play")
	if c.stall { // FreeSWITCH never completes the playback
		<-ctx.Done()
		return consent.Played{}, ctx.Err()
	}
	if len(c.plays) > 0 {
		s := c.plays[0]
		c.plays = c.plays[1:]
		return s.res, s.err
	}
	if p.From == 0 {
		return consent.Played{Duration: firstPart, Next: 16384, Complete: true}, nil
	}
	return consent.Played{Duration: testNoticeLen - firstPart, Next: 80000, Complete: true}, nil
}

// restKey scripts the two parts of a notice: the first plays whole, the second is ended after
// d by key.
func restKey(key string, d time.Duration) []playStep {
	return []playStep{
		{res: consent.Played{Duration: firstPart, Next: 16384, Complete: true}},
		{res: consent.Played{Key: key, Duration: d, Next: 32768, Complete: true}},
	}
}

func (c *fakeChannel) Prompt(_ context.Context, p consent.Prompt) (consent.PromptResult, error) {
	c.prompted = append(c.prompted, p)
	c.log.add("ch:prompt")
	if c.onPrompt != nil {
		c.onPrompt(len(c.prompted))
	}
	if len(c.prompts) == 0 {
		return consent.PromptResult{KeyAfter: -1}, nil // silence
	}
	s := c.prompts[0]
	c.prompts = c.prompts[1:]
	return s.res, s.err
}

func (c *fakeChannel) StartRecording(_ context.Context, path string, _ time.Duration) error {
	c.log.add("ch:record")
	if c.startErr != nil {
		return c.startErr
	}
	if c.wav {
		os.MkdirAll(filepath.Dir(path), 0o700)
		recordingstest.WriteWAV(c.t, path, 2, 32000, -1)
	}
	return nil
}

func (c *fakeChannel) Transfer(_ context.Context, target string) error {
	c.log.add("ch:transfer:" + target)
	return nil
}

func (c *fakeChannel) WaitEnd(context.Context) (consent.CallEnd, error) {
	c.log.add("ch:end")
	return consent.CallEnd{HangupCause: "NORMAL_CLEARING"}, nil
}

type fakeControl struct {
	log     *eventLog
	confirm func() error // nil: every call is confirmed
}

func (c fakeControl) ConfirmCall(context.Context, string, string) error {
	c.log.add("ctl:confirm")
	if c.confirm != nil {
		return c.confirm()
	}
	return nil
}

func (c fakeControl) StopRecording(_ context.Context, _, path string) error {
	c.log.add("ctl:stop")
	return nil
}
func (c fakeControl) CallExists(context.Context, string) (bool, error) { return false, nil }
func (c fakeControl) Ready() bool                                      { return true }

func newFlow(t *testing.T, log *eventLog, store consent.FlowStore, logs io.Writer) *consent.Flow {
	p, _ := consent.NewPseudonymizer(bytes.Repeat([]byte{1}, consent.KeySize))
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	return &consent.Flow{
		Store:      store,
		Control:    fakeControl{log: log},
		Pseudonyms: p,
		Notices: map[string]consent.Notice{
			"nb": {Language: "nb", File: "/n/nb.wav", Version: "v1", SHA256: "aa", Duration: testNoticeLen},
			"en": {Language: "en", File: "/n/en.wav", Version: "v2", SHA256: "bb", Duration: testNoticeLen},
		},
		Language:   "nb",
		Tries:      3,
		Timeout:    time.Second,
		MinNotice:  2 * time.Second,
		Transfer:   "6000 XML default",
		Recordings: recordings.NewFolder(t.TempDir()),
		Live:       consent.NewLiveCalls(),
		Now:        func() time.Time { return now },
		Logger:     slog.New(slog.NewTextHandler(logs, nil)),
	}
}

// inOrder drops the step that runs beside the notice (confirming the call with FreeSWITCH),
// whose place among the notice's steps is up to the scheduler.
func inOrder(events []string) []string {
	return slices.DeleteFunc(slices.Clone(events), func(e string) bool { return e == "ctl:confirm" })
}

func digit(d string) promptStep {
	return promptStep{res: consent.PromptResult{Digit: d, KeyAfter: 300 * time.Millisecond}}
}

func TestFlow(t *testing.T) {
	for _, tt := range []struct {
		name      string
		prompts   []promptStep
		vars      map[string]string
		fail      map[string]error
		duplicate bool // a row with the call's UUID is stored just before the grant
		plays     []playStep
		startErr  error
		decision  consent.Decision
		tries     int
		heard     time.Duration          // 0: not checked
		rec       consent.RecordingState // "" = no recording row
		commits   int                    // commits the call cost; 0: not checked
		want      []string               // events in order
	}{
		{name: "ConsentDuringNotice", plays: restKey("1", 1500*time.Millisecond), decision: consent.DecisionGranted, tries: 1, heard: firstPart + 1500*time.Millisecond, rec: consent.RecordingComplete,
			want: []string{"ch:answer", "ch:flush", "ch:play", "ch:play", "store:decide:granted", "store:recording:pending", "ch:record", "ch:transfer:6000 XML default", "ch:end", "store:end", "store:recording:complete", "ch:close"}, commits: 2},
		{name: "ConsentAfterNotice", prompts: []promptStep{digit("1")}, decision: consent.DecisionGranted, tries: 1, heard: testNoticeLen, rec: consent.RecordingComplete,
			want: []string{"ch:answer", "ch:flush", "ch:play", "ch:play", "ch:prompt", "store:decide:granted", "store:recording:pending", "ch:record", "ch:transfer:6000 XML default", "ch:end", "store:end", "store:recording:complete", "ch:close"}, commits: 2},
		{name: "InvalidThenConsent", prompts: []promptStep{{res: consent.PromptResult{Invalid: "3", KeyAfter: 100 * time.Millisecond}}, digit("1")}, decision: consent.DecisionGranted, tries: 2, heard: testNoticeLen + 300*time.Millisecond, rec: consent.RecordingComplete},
		{name: "DeclineDuringNotice", plays: restKey("2", 500*time.Millisecond), decision: consent.DecisionDeclined, tries: 1, heard: firstPart + 500*time.Millisecond,
			want: []string{"ch:answer", "ch:flush", "ch:play", "ch:play", "store:decide:declined", "ch:transfer:6000 XML default", "ch:end", "store:end", "ch:close"}, commits: 2},
		{name: "NoInput", decision: consent.DecisionNoInput, tries: 3, heard: 3 * testNoticeLen,
			want: []string{"ch:answer", "ch:flush", "ch:play", "ch:play", "ch:prompt", "ch:prompt", "ch:prompt", "store:decide:no-input", "ch:transfer:6000 XML default", "ch:end", "store:end", "ch:close"}, commits: 2},
		{name: "OnlyInvalid", prompts: []promptStep{{res: consent.PromptResult{Invalid: "9"}}, {res: consent.PromptResult{Invalid: "*"}}, {res: consent.PromptResult{Invalid: "0"}}}, decision: consent.DecisionNoInput, tries: 3},
		{name: "HangupDuringNotice", plays: []playStep{{err: consent.ErrHungUp}}, decision: consent.DecisionAbandoned,
			want: []string{"ch:answer", "ch:flush", "ch:play", "store:decide:abandoned", "store:end", "ch:close"}, commits: 1},
		{name: "HangupDuringPrompt", prompts: []promptStep{{err: consent.ErrHungUp}}, decision: consent.DecisionAbandoned,
			want: []string{"ch:answer", "ch:flush", "ch:play", "ch:play", "ch:prompt", "store:decide:abandoned", "store:end", "ch:close"}, commits: 1},
		{name: "ChannelLost", plays: []playStep{restKey("", 0)[0], {err: consent.ErrChannelGone}}, decision: consent.DecisionError},
		// FreeSWITCH could not play the notice, or played less of it than the caller must hear
		// (the file on disk is not the audio whose hash the proof would name): no choice can be
		// taken, the caller goes on unrecorded.
		{name: "NoticeNotPlayed", plays: []playStep{{res: consent.Played{Complete: false}}}, decision: consent.DecisionError,
			want: []string{"ch:answer", "ch:flush", "ch:play", "store:decide:error", "ch:transfer:6000 XML default", "ch:end", "store:end", "ch:close"}},
		{name: "NoticeCutShort", plays: []playStep{{res: consent.Played{Duration: 300 * time.Millisecond, Next: 2400, Complete: true}}}, decision: consent.DecisionError,
			want: []string{"ch:answer", "ch:flush", "ch:play", "store:decide:error", "ch:transfer:6000 XML default", "ch:end", "store:end", "ch:close"}},
		{name: "EnglishNotice", vars: map[string]string{"callconsent_lang": "en"}, plays: restKey("2", time.Second), decision: consent.DecisionDeclined, tries: 1},
		// Without the call's row no choice can be honoured or proven: the call goes on
		// unrecorded, and nothing is stored.
		{name: "ErrStoreCall", plays: restKey("2", time.Second), fail: map[string]error{"StoreDecision:declined": errors.New("disk full"), "StoreDecision:error": errors.New("disk full")},
			want: []string{"ch:answer", "ch:flush", "ch:play", "ch:play", "ch:transfer:6000 XML default", "ch:close"}},
		{name: "ErrStoreGrant", plays: restKey("1", time.Second), fail: map[string]error{"StoreGrant": errors.New("database is locked")}, decision: consent.DecisionError,
			want: []string{"ch:answer", "ch:flush", "ch:play", "ch:play", "store:decide:error", "ch:transfer:6000 XML default", "ch:end", "store:end", "ch:close"}},
		// A call UUID stored before (a replay, or a bug) leaves the grant unstored, and with it
		// the recording: the call goes on unrecorded, and the row that was there is not touched.
		{name: "ErrStoreDuplicate", plays: restKey("1", time.Second), duplicate: true,
			want: []string{"ch:answer", "ch:flush", "ch:play", "ch:play", "ch:transfer:6000 XML default", "ch:close"}},
		{name: "ErrRecordNotStarted", plays: restKey("1", time.Second), startErr: consent.ErrRecordingNotStarted, decision: consent.DecisionGranted, tries: 1, rec: consent.RecordingFailed,
			want: []string{"ch:answer", "ch:flush", "ch:play", "ch:play", "store:decide:granted", "store:recording:pending", "ch:record", "ctl:stop", "ch:transfer:6000 XML default", "ch:end", "store:end", "store:recording:failed", "ch:close"}, commits: 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			log := &eventLog{}
			store := newLoggedStore(t, log)
			for k, v := range tt.fail {
				store.fail[k] = v
			}
			if tt.duplicate {
				store.beforeGrant = func(ctx context.Context, id string) {
					if err := store.DB.CreateCall(ctx, &consent.Call{UUID: id, CallerPseudonym: "p", StartedAt: time.Now()}); err != nil {
						t.Error(err)
					}
				}
			}
			var logs bytes.Buffer
			f := newFlow(t, log, store, &logs)
			ch := &fakeChannel{t: t, log: log, vars: tt.vars, prompts: tt.prompts, plays: tt.plays, startErr: tt.startErr, wav: true}
			f.Handle(context.Background(), ch)

			if tt.commits > 0 && store.commits != tt.commits {
				t.Errorf("%d commits, want %d: %q", store.commits, tt.commits, log.list())
			}
			if tt.want != nil && !slices.Equal(inOrder(log.list()), tt.want) {
				t.Errorf("events:\n got %q\nwant %q", log.list(), tt.want)
			}
			if i := slices.Index(log.list(), "ch:record"); i >= 0 && slices.Index(log.list(), "store:decide:granted") > i {
				t.Error("record_session before the grant was committed")
			}
			if tt.decision == "" {
				return
			}
			c, err := store.FindCall(context.Background(), testUUID)
			if err != nil {
				t.Fatal(err)
			}
			if c.Decision != tt.decision {
				t.Errorf("decision %s, want %s", c.Decision, tt.decision)
			}
			if tt.tries > 0 {
				lang := "nb"
				if tt.vars["callconsent_lang"] == "en" {
					lang = "en"
				}
				n := f.Notices[lang]
				if c.Proof == nil || c.Proof.Tries != tt.tries || c.Proof.NoticeVersion != n.Version || c.Proof.NoticeSHA256 != n.SHA256 || c.Proof.Language != lang || c.Proof.DecidedAt.IsZero() {
					t.Errorf("proof %+v, want tries %d and notice %+v", c.Proof, tt.tries, n)
				}
				for i, p := range ch.prompted {
					// The first try's notice has played: its prompt only waits for the key.
					if file := map[bool]string{true: "", false: n.File}[i == 0]; p.File != file || p.Regexp != "^[12]$" || p.Tries != 1 {
						t.Errorf("prompt %d %+v", i+1, p)
					}
				}
				// The notice: its first MinNotice with every key discarded, then the rest,
				// continued where the first part stopped, which 1 or 2 ends.
				wantPlays := []consent.Playback{{File: n.File, Max: 2 * time.Second}, {File: n.File, From: 16384, Keys: "12"}}
				if !slices.Equal(ch.played, wantPlays) {
					t.Errorf("played %+v, want %+v", ch.played, wantPlays)
				}
				if tt.heard > 0 && c.Proof.HeardMS != tt.heard.Milliseconds() {
					t.Errorf("heard %d ms, want %d", c.Proof.HeardMS, tt.heard.Milliseconds())
				}
			}
			if got := c.Recording; (got == nil) != (tt.rec == "") || got != nil && got.State != tt.rec {
				t.Errorf("recording %+v, want state %q", got, tt.rec)
			}
			if c.CallerPseudonym == "" || strings.Contains(c.CallerPseudonym, "91234567") {
				t.Errorf("caller pseudonym %q", c.CallerPseudonym)
			}
			// The number's digits, not "912" alone: a 64-digit hex pseudonym holds that one time in 70.
			if l := logs.String(); strings.Contains(l, "91234567") || strings.Contains(l, "912 34") {
				t.Errorf("caller number in logs: %s", logs.String())
			}
		})
	}
}

// A withdrawal that lands while the caller is still choosing forbids the recording.
func TestFlowWithdrawnBeforeRecording(t *testing.T) {
	log := &eventLog{}
	store := newLoggedStore(t, log)
	f := newFlow(t, log, store, io.Discard)
	ch := &fakeChannel{t: t, log: log, prompts: []promptStep{digit("1")}}
	ch.onPrompt = func(int) { f.Live.Withdraw(testUUID) }
	f.Handle(context.Background(), ch)
	if slices.Contains(log.list(), "ch:record") {
		t.Errorf("recorded a withdrawn call: %q", log.list())
	}
	if !slices.Contains(log.list(), "ch:transfer:6000 XML default") {
		t.Error("withdrawn call not transferred")
	}
}

// A notice no longer than MinNotice plays whole in its first part; the call then only waits
// for the key, and the proof counts the whole notice as heard.
func TestFlowShortNotice(t *testing.T) {
	log := &eventLog{}
	store := newLoggedStore(t, log)
	f := newFlow(t, log, store, io.Discard)
	n := f.Notices["nb"]
	n.Duration = 1500 * time.Millisecond
	f.Notices["nb"] = n
	ch := &fakeChannel{t: t, log: log, prompts: []promptStep{digit("2")},
		plays: []playStep{{res: consent.Played{Duration: 1500 * time.Millisecond, Next: 12000, Complete: true}}}}
	f.Handle(context.Background(), ch)
	c, err := store.FindCall(context.Background(), testUUID)
	if err != nil || c.Decision != consent.DecisionDeclined || c.Proof.HeardMS != 1500 {
		t.Fatalf("call %+v proof %+v (%v)", c, c.Proof, err)
	}
	if len(ch.played) != 1 || len(ch.prompted) != 1 || ch.prompted[0].File != "" {
		t.Errorf("played %+v, prompted %+v: want the notice once, then a wait for the key", ch.played, ch.prompted)
	}
}

// Any local account can connect to the outbound port and play FreeSWITCH handing over a call
// with a UUID and caller of its choosing. FreeSWITCH, asked over the authenticated control
// connection, does not know it: no row is stored, nothing is recorded.
func TestFlowRefusesCallFreeSWITCHDoesNotKnow(t *testing.T) {
	log := &eventLog{}
	store := newLoggedStore(t, log)
	f := newFlow(t, log, store, io.Discard)
	f.Control = fakeControl{log: log, confirm: func() error { return consent.ErrNotLiveCall }}
	refused := 0
	f.OnRefused = func() { refused++ }
	ch := &fakeChannel{t: t, log: log, plays: restKey("1", time.Second)}
	f.Handle(context.Background(), ch)
	if _, err := store.FindCall(context.Background(), testUUID); consent.ErrorCode(err) != consent.ENOTFOUND {
		t.Errorf("a refused call has a row: %v", err)
	}
	if slices.Contains(log.list(), "ch:record") || refused != 1 {
		t.Errorf("events %q, refused %d", log.list(), refused)
	}
}

// While the control connection is down the call may well be real: the flow asks again, and
// once FreeSWITCH confirms the call, it goes on as any other.
func TestFlowConfirmsOnceControlIsBack(t *testing.T) {
	log := &eventLog{}
	store := newLoggedStore(t, log)
	f := newFlow(t, log, store, io.Discard)
	asked := 0
	f.Control = fakeControl{log: log, confirm: func() error {
		if asked++; asked < 3 {
			return consent.ErrNotReady
		}
		return nil
	}}
	f.Handle(context.Background(), &fakeChannel{t: t, log: log, plays: restKey("2", time.Second)})
	c, err := store.FindCall(context.Background(), testUUID)
	if err != nil || c.Decision != consent.DecisionDeclined || asked != 3 {
		t.Fatalf("call %+v (%v) after %d questions", c, err, asked)
	}
}

// If FreeSWITCH cannot be asked before the choice is due, the call is not confirmed: no row,
// no recording, but the caller still reaches an employee.
func TestFlowNotConfirmedInTime(t *testing.T) {
	log := &eventLog{}
	store := newLoggedStore(t, log)
	f := newFlow(t, log, store, io.Discard)
	f.StoreWait = 300 * time.Millisecond
	f.Control = fakeControl{log: log, confirm: func() error { return consent.ErrNotReady }}
	start := time.Now()
	f.Handle(context.Background(), &fakeChannel{t: t, log: log, plays: restKey("1", time.Second)})
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("the flow waited %s for a confirmation", took)
	}
	if _, err := store.FindCall(context.Background(), testUUID); consent.ErrorCode(err) != consent.ENOTFOUND {
		t.Errorf("an unconfirmed call has a row: %v", err)
	}
	if l := log.list(); slices.Contains(l, "ch:record") || !slices.Contains(l, "ch:transfer:6000 XML default") {
		t.Errorf("events %q: want a transfer and no recording", l)
	}
}

// A FreeSWITCH that never completes a playback holds the call only for the notice's length
// plus StepSlack, not until MaxCallDuration: the decision is error and the caller transferred.
func TestFlowStepDeadline(t *testing.T) {
	log := &eventLog{}
	store := newLoggedStore(t, log)
	f := newFlow(t, log, store, io.Discard)
	n := f.Notices["nb"]
	n.Duration = 100 * time.Millisecond
	f.Notices["nb"], f.MinNotice, f.StepSlack = n, 50*time.Millisecond, 200*time.Millisecond
	start := time.Now()
	f.Handle(context.Background(), &fakeChannel{t: t, log: log, stall: true})
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("a stalled playback held the call %s", took)
	}
	c, err := store.FindCall(context.Background(), testUUID)
	if err != nil || c.Decision != consent.DecisionError || !slices.Contains(log.list(), "ch:transfer:6000 XML default") {
		t.Errorf("call %+v (%v), events %q", c, err, log.list())
	}
}
