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
)

const testUUID = "260cc426-4b20-4054-b379-5ba800345a1c"

// fakeChannel is a scripted consent.Channel: each Prompt returns the next scripted result.
type fakeChannel struct {
	t        *testing.T
	log      *eventLog
	vars     map[string]string
	prompts  []promptStep
	onPrompt func(try int)
	startErr error
	wav      bool // write a real WAV on StartRecording
	prompted []consent.Prompt
}

type promptStep struct {
	res consent.PromptResult
	err error
}

func (c *fakeChannel) UUID() string                    { return testUUID }
func (c *fakeChannel) CallerNumber() string            { return "+47 912 34 567" }
func (c *fakeChannel) Variable(n string) string        { return c.vars[n] }
func (c *fakeChannel) Answer(context.Context) error    { c.log.add("ch:answer"); return nil }
func (c *fakeChannel) FlushDTMF(context.Context) error { c.log.add("ch:flush"); return nil }
func (c *fakeChannel) Close() error                    { c.log.add("ch:close"); return nil }

func (c *fakeChannel) Prompt(_ context.Context, p consent.Prompt) (consent.PromptResult, error) {
	c.prompted = append(c.prompted, p)
	c.log.add("ch:prompt")
	if c.onPrompt != nil {
		c.onPrompt(len(c.prompted))
	}
	if len(c.prompts) == 0 {
		return consent.PromptResult{}, nil // silence
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
		writeWAV(c.t, path, 2, 32000, -1)
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

type fakeControl struct{ log *eventLog }

func (c fakeControl) StopRecording(_ context.Context, _, path string) error {
	c.log.add("ctl:stop")
	return nil
}
func (c fakeControl) CallExists(context.Context, string) (bool, error) { return false, nil }
func (c fakeControl) Ready() bool                                      { return true }

func newFlow(t *testing.T, log *eventLog, store consent.Store, logs io.Writer) *consent.Flow {
	p, _ := consent.NewPseudonymizer(bytes.Repeat([]byte{1}, consent.KeySize))
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	return &consent.Flow{
		Store:      store,
		Control:    fakeControl{log},
		Pseudonyms: p,
		Notices: map[string]consent.Notice{
			"nb": {Language: "nb", File: "/n/nb.wav", Version: "v1", SHA256: "aa"},
			"en": {Language: "en", File: "/n/en.wav", Version: "v2", SHA256: "bb"},
		},
		Language:   "nb",
		Tries:      3,
		Timeout:    time.Second,
		Transfer:   "6000 XML default",
		Recordings: t.TempDir(),
		Live:       consent.NewLiveCalls(),
		Now:        func() time.Time { return now },
		Logger:     slog.New(slog.NewTextHandler(logs, nil)),
	}
}

func digit(d string) promptStep { return promptStep{res: consent.PromptResult{Digit: d}} }

func TestFlow(t *testing.T) {
	for _, tt := range []struct {
		name     string
		prompts  []promptStep
		vars     map[string]string
		fail     map[string]error
		startErr error
		decision consent.Decision
		tries    int
		rec      consent.RecordingState // "" = no recording row
		want     []string               // events in order
	}{
		{name: "Consent", prompts: []promptStep{digit("1")}, decision: consent.DecisionGranted, tries: 1, rec: consent.RecordingComplete,
			want: []string{"store:call", "ch:answer", "ch:flush", "ch:prompt", "store:decide:granted", "store:recording:pending", "ch:record", "store:recording:recording", "ch:transfer:6000 XML default", "ch:end", "store:end", "store:recording:complete", "ch:close"}},
		{name: "InvalidThenConsent", prompts: []promptStep{{res: consent.PromptResult{Invalid: "3"}}, digit("1")}, decision: consent.DecisionGranted, tries: 2, rec: consent.RecordingComplete},
		{name: "Decline", prompts: []promptStep{digit("2")}, decision: consent.DecisionDeclined, tries: 1,
			want: []string{"store:call", "ch:answer", "ch:flush", "ch:prompt", "store:decide:declined", "ch:transfer:6000 XML default", "ch:end", "store:end", "ch:close"}},
		{name: "NoInput", decision: consent.DecisionNoInput, tries: 3,
			want: []string{"store:call", "ch:answer", "ch:flush", "ch:prompt", "ch:prompt", "ch:prompt", "store:decide:no-input", "ch:transfer:6000 XML default", "ch:end", "store:end", "ch:close"}},
		{name: "OnlyInvalid", prompts: []promptStep{{res: consent.PromptResult{Invalid: "9"}}, {res: consent.PromptResult{Invalid: "*"}}, {res: consent.PromptResult{Invalid: "0"}}}, decision: consent.DecisionNoInput, tries: 3},
		{name: "HangupDuringPrompt", prompts: []promptStep{{err: consent.ErrHungUp}}, decision: consent.DecisionAbandoned,
			want: []string{"store:call", "ch:answer", "ch:flush", "ch:prompt", "store:decide:abandoned", "ch:end", "store:end", "ch:close"}},
		{name: "ChannelLost", prompts: []promptStep{{err: consent.ErrChannelGone}}, decision: consent.DecisionError},
		{name: "EnglishNotice", vars: map[string]string{"callconsent_lang": "en"}, prompts: []promptStep{digit("2")}, decision: consent.DecisionDeclined, tries: 1},
		{name: "ErrStoreCall", fail: map[string]error{"CreateCall": errors.New("disk full")},
			want: []string{"ch:transfer:6000 XML default", "ch:close"}},
		{name: "ErrStoreGrant", prompts: []promptStep{digit("1")}, fail: map[string]error{"DecideCall:granted": errors.New("database is locked")}, decision: consent.DecisionError,
			want: []string{"store:call", "ch:answer", "ch:flush", "ch:prompt", "store:decide:error", "ch:transfer:6000 XML default", "ch:end", "store:end", "ch:close"}},
		// Grant and recording row are one transaction: if the row cannot be stored, neither is
		// the grant, and the call goes on unrecorded with decision error.
		{name: "ErrStoreRecording", prompts: []promptStep{digit("1")}, fail: map[string]error{"CreateRecording": errors.New("disk full")}, decision: consent.DecisionError,
			want: []string{"store:call", "ch:answer", "ch:flush", "ch:prompt", "store:decide:error", "ch:transfer:6000 XML default", "ch:end", "store:end", "ch:close"}},
		{name: "ErrRecordNotStarted", prompts: []promptStep{digit("1")}, startErr: consent.ErrRecordingNotStarted, decision: consent.DecisionGranted, tries: 1, rec: consent.RecordingFailed,
			want: []string{"store:call", "ch:answer", "ch:flush", "ch:prompt", "store:decide:granted", "store:recording:pending", "ch:record", "ctl:stop", "store:recording:failed", "ch:transfer:6000 XML default", "ch:end", "store:end", "ch:close"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			log := &eventLog{}
			store := newMemStore(log)
			for k, v := range tt.fail {
				store.fail[k] = v
			}
			var logs bytes.Buffer
			f := newFlow(t, log, store, &logs)
			ch := &fakeChannel{t: t, log: log, vars: tt.vars, prompts: tt.prompts, startErr: tt.startErr, wav: true}
			f.Handle(context.Background(), ch)

			if tt.want != nil && !slices.Equal(log.list(), tt.want) {
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
				for _, p := range ch.prompted {
					if p.File != n.File || p.Regexp != "^[12]$" || p.Tries != 1 {
						t.Errorf("prompt %+v", p)
					}
				}
			}
			if got := c.Recording; (got == nil) != (tt.rec == "") || got != nil && got.State != tt.rec {
				t.Errorf("recording %+v, want state %q", got, tt.rec)
			}
			if c.CallerPseudonym == "" || strings.Contains(c.CallerPseudonym, "912") {
				t.Errorf("caller pseudonym %q", c.CallerPseudonym)
			}
			if strings.Contains(logs.String(), "912") {
				t.Errorf("caller number in logs: %s", logs.String())
			}
		})
	}
}

// A withdrawal that lands while the caller is still choosing forbids the recording.
func TestFlowWithdrawnBeforeRecording(t *testing.T) {
	log := &eventLog{}
	store := newMemStore(log)
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
