package realfs

import (
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestRealFreeSWITCH runs callconsent, the built binary, against a real FreeSWITCH 1.11 and
// drives loopback calls through it: each scenario asserts the stored decision and proof, what
// FreeSWITCH executed (its own log) and the files on disk.
func TestRealFreeSWITCH(t *testing.T) {
	e := setup(t)
	t.Run("calls", func(t *testing.T) {
		t.Run("Consent", e.consent)
		t.Run("DeclineAfterNotice", e.declineAfterNotice)
		t.Run("WrongKeyThenConsent", e.wrongKeyThenConsent)
		t.Run("NoInput", e.noInput)
		t.Run("HangupDuringNotice", e.hangupDuringNotice)
		t.Run("KeyAtAnswer", e.keyAtAnswer)
		t.Run("SeveralAtOnce", e.severalAtOnce)
		t.Run("WithdrawLive", e.withdrawLive)
	})
	t.Run("CallconsentStoppedDuringNotice", e.daemonStopped)
	t.Run("FreeSWITCHRestart", e.freeswitchRestart)
	t.Run("OverMaxCalls", e.overMaxCalls)
}

// wantApps are the applications FreeSWITCH runs for callconsent on a call that consents
// during the rest of the notice, after the dialplan's socket and before the employee's
// extension.
var wantApps = []string{"answer", "flush_dtmf", "set", "playback", "set", "playback", "record_session", "unset", "transfer"}

// The caller presses 1 while the rest of the notice plays; the call is recorded in stereo:
// the caller's 800 Hz beeps on the left, the employee's 440 Hz tone on the right.
func (e *env) consent(t *testing.T) {
	t.Parallel()
	c := e.place(t, "m-consent")
	c.noticeRest()
	time.Sleep(400 * time.Millisecond)
	c.key("1")
	start := c.on(10*time.Second, "RECORD_START", nil)
	time.Sleep(4 * time.Second) // the caller talks to the employee
	c.hangup()
	row := e.d.final(t, c.B)
	if row.Decision != "granted" || row.Proof == nil || row.Proof.Digit != "1" || row.Proof.Tries != 1 {
		t.Fatalf("row %+v proof %+v", row, row.Proof)
	}
	// The first part plays 2.048 s (FreeSWITCH's read block), then 0.4 s of the rest.
	if h := row.Proof.HeardMS; h < 2400 || h > 2800 {
		t.Errorf("heard %d ms, want about 2450", h)
	}
	if got := c.executed(); len(got) < len(wantApps)+1 || !slices.Equal(got[1:len(wantApps)+1], wantApps) {
		t.Errorf("FreeSWITCH executed %q, want %q first", got, wantApps)
	}
	if !c.transferred() {
		t.Error("the caller never reached the employee")
	}
	if row.Recording == nil || row.Recording.State != "complete" || start["Record-File-Path"] != row.Recording.Path {
		t.Fatalf("recording %+v, RECORD_START for %q", row.Recording, start["Record-File-Path"])
	}
	fi, err := os.Stat(row.Recording.Path)
	if err != nil || fi.Size() != row.Recording.Bytes {
		t.Fatalf("file %v (%v), row says %d bytes", fi, err, row.Recording.Bytes)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("finished recording has mode %04o, want 0600 (R-SEC-5)", fi.Mode().Perm())
	}
	channels, en := channelEnergy(t, row.Recording.Path, 800, 440)
	if channels != 2 || !(en[0][0] > 10*en[0][1]) || !(en[1][1] > 10*en[1][0]) {
		t.Errorf("%d channels, energy at [800 Hz, 440 Hz]: left %v, right %v; want the caller left, the employee right", channels, en[0], en[1])
	}
	if d := row.Recording.DurationMS; d < 3500 || d > 5500 {
		t.Errorf("recording lasts %d ms, want about 4 s", d)
	}
}

// The caller lets the notice end and presses 2 while callconsent waits for the key.
func (e *env) declineAfterNotice(t *testing.T) {
	t.Parallel()
	c := e.place(t, "m-decline")
	c.waitForKey()
	time.Sleep(300 * time.Millisecond)
	c.key("2")
	c.on(10*time.Second, "CHANNEL_EXECUTE", func(ev Event) bool { return ev["Application"] == "transfer" })
	time.Sleep(time.Second)
	c.hangup()
	row := e.d.final(t, c.B)
	if row.Decision != "declined" || row.Proof.Tries != 1 || row.Proof.HeardMS < noticeLen.Milliseconds()-100 || row.Recording != nil {
		t.Errorf("row %+v proof %+v", row, row.Proof)
	}
	if slices.Contains(c.executed(), "record_session") || !c.transferred() {
		t.Errorf("FreeSWITCH executed %q", c.executed())
	}
}

// A wrong key after the notice: the invalid-choice prompt, the notice again, then 1.
func (e *env) wrongKeyThenConsent(t *testing.T) {
	t.Parallel()
	c := e.place(t, "m-wrong-key-then-consent")
	c.waitForKey()
	time.Sleep(200 * time.Millisecond)
	c.key("3")
	c.started("play_and_get_digits", e.notice) // try 2 plays the notice again
	time.Sleep(500 * time.Millisecond)
	c.key("1")
	c.on(10*time.Second, "RECORD_START", nil)
	time.Sleep(1500 * time.Millisecond)
	c.hangup()
	row := e.d.final(t, c.B)
	if row.Decision != "granted" || row.Proof.Tries != 2 || row.Recording == nil || row.Recording.State != "complete" {
		t.Errorf("row %+v proof %+v recording %+v", row, row.Proof, row.Recording)
	}
	// The whole notice once, then about 0.5 s of it again.
	if h := row.Proof.HeardMS; h < 3300 || h > 3900 {
		t.Errorf("heard %d ms, want about 3500", h)
	}
}

// Silence until callconsent gives up: three tries, not recorded, transferred all the same.
func (e *env) noInput(t *testing.T) {
	t.Parallel()
	c := e.place(t, "m-no-input")
	c.on(40*time.Second, "CHANNEL_EXECUTE", func(ev Event) bool { return ev["Application"] == "transfer" })
	time.Sleep(500 * time.Millisecond)
	c.hangup()
	row := e.d.final(t, c.B)
	if row.Decision != "no-input" || row.Proof.Tries != 3 || row.Recording != nil {
		t.Errorf("row %+v proof %+v", row, row.Proof)
	}
	if n := strings.Count(strings.Join(c.executed(), ","), "play_and_get_digits"); n != 3 || slices.Contains(c.executed(), "record_session") {
		t.Errorf("FreeSWITCH executed %q: want three prompts and no recording", c.executed())
	}
}

// The caller hangs up while the notice's first part plays.
func (e *env) hangupDuringNotice(t *testing.T) {
	t.Parallel()
	c := e.place(t, "m-hangup-during-notice")
	c.started("playback", "{timeout=")
	time.Sleep(time.Second)
	c.hangup()
	row := e.d.final(t, c.B)
	if row.Decision != "abandoned" || row.Proof != nil || row.Recording != nil {
		t.Errorf("row %+v", row)
	}
	if slices.Contains(c.executed(), "record_session") {
		t.Errorf("FreeSWITCH executed %q", c.executed())
	}
}

// A key pressed right at answer (l-key-at-answer: FreeSWITCH delivers it after flush_dtmf to
// whatever runs next) is discarded; the caller's real 1, after the notice, counts, and the
// proof shows at least min-notice heard.
func (e *env) keyAtAnswer(t *testing.T) {
	t.Parallel()
	c := e.place(t, "m-key-at-answer")
	c.on(5*time.Second, "CHANNEL_ANSWER", nil)
	c.key("1")
	first := c.on(5*time.Second, "DTMF", nil)
	c.waitForKey()
	c.key("1")
	c.on(10*time.Second, "RECORD_START", nil)
	time.Sleep(1500 * time.Millisecond)
	c.hangup()
	row := e.d.final(t, c.B)
	if row.Decision != "granted" || row.Proof.HeardMS < minNotice.Milliseconds() {
		t.Fatalf("row %+v proof %+v: the key at answer counted", row, row.Proof)
	}
	// FreeSWITCH took the key (its DTMF event) before the rest of the notice began: while the
	// first part played, which discards every key.
	rest := c.on(time.Second, "CHANNEL_EXECUTE", func(ev Event) bool { return strings.Contains(ev["Application-Data"], "@@") })
	if !first.Stamp().Before(rest.Stamp()) {
		t.Errorf("the key at answer reached FreeSWITCH at %s, after the rest of the notice began (%s)", first.Stamp(), rest.Stamp())
	}
}

// Six callers at once, each with its own choice.
func (e *env) severalAtOnce(t *testing.T) {
	t.Parallel()
	keys := []string{"1", "2", "1", "2", "1", ""}
	var wg sync.WaitGroup
	for i, k := range keys {
		wg.Go(func() {
			c := e.place(t, "")
			if k == "" {
				c.started("playback", "{timeout=")
				time.Sleep(500 * time.Millisecond)
				c.hangup()
			} else {
				c.noticeRest()
				time.Sleep(time.Duration(100*i) * time.Millisecond)
				c.key(k)
				c.on(10*time.Second, "CHANNEL_EXECUTE", func(ev Event) bool { return ev["Application"] == "transfer" })
				time.Sleep(1500 * time.Millisecond)
				c.hangup()
			}
			row := e.d.final(t, c.B)
			want := map[string]string{"1": "granted", "2": "declined", "": "abandoned"}[k]
			recorded := slices.Contains(c.executed(), "record_session")
			if row.Decision != want || recorded != (k == "1") {
				t.Errorf("call %d (%q): decision %s, recorded %v", i, k, row.Decision, recorded)
			}
		})
	}
	wg.Wait()
}

// The caller withdraws while talking to the employee (R-WITHDRAW-2): the CLI, as an admin
// runs it, reaches the daemon; FreeSWITCH stops writing (RECORD_STOP), the file is gone within
// a second and nothing of the call is recorded again.
func (e *env) withdrawLive(t *testing.T) {
	t.Parallel()
	c := e.place(t, "m-withdraw-live")
	c.noticeRest()
	c.key("1")
	start := c.on(10*time.Second, "RECORD_START", nil)
	path := start["Record-File-Path"]
	time.Sleep(2 * time.Second)
	began := time.Now()
	out, err := e.d.cli("withdraw", "--call", c.B, "--reason", "ticket 4711")
	if err != nil {
		t.Fatalf("withdraw: %v\n%s", err, out)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) || time.Since(began) > time.Second {
		t.Errorf("after %s the file is still there (%v)", time.Since(began), err)
	}
	c.on(5*time.Second, "RECORD_STOP", func(ev Event) bool { return ev["Record-File-Path"] == path })
	time.Sleep(1500 * time.Millisecond)
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("FreeSWITCH wrote the file again: %v", err)
	}
	c.hangup()
	row := e.d.final(t, c.B)
	if row.WithdrawnAt == "" || row.Recording == nil || row.Recording.State != "deleted" {
		t.Errorf("row %+v recording %+v", row, row.Recording)
	}
	if n := strings.Count(strings.Join(c.executed(), ","), "record_session"); n != 1 {
		t.Errorf("%d record_session, want 1", n)
	}
}

// callconsent stops while a caller hears the notice: the caller is not dropped but reaches
// the employee unrecorded, through callconsent's own transfer or the dialplan's fallback.
func (e *env) daemonStopped(t *testing.T) {
	c := e.place(t, "m-callconsent-stopped")
	c.started("playback", "{timeout=")
	time.Sleep(500 * time.Millisecond)
	if err := e.d.stop(); err != nil {
		t.Errorf("callconsent stop: %v", err)
	}
	c.on(10*time.Second, "CHANNEL_EXECUTE", func(ev Event) bool {
		return ev["Application"] == "playback" && strings.Contains(ev["Application-Data"], "440")
	})
	if slices.Contains(c.executed(), "record_session") {
		t.Errorf("FreeSWITCH executed %q", c.executed())
	}
	c.hangup()
	e.d.start()
	// Its row says no consent was obtained; no recording. Reconcile, once connected, gives the
	// call the end no flow saw (final waits for it).
	if row := e.d.final(t, c.B); row.Decision == "granted" || row.Recording != nil {
		t.Errorf("row %+v recording %+v", row, row.Recording)
	}
}

// FreeSWITCH crashes and comes back: callconsent reconnects its control connection and takes
// the next call as ever.
func (e *env) freeswitchRestart(t *testing.T) {
	if err := e.sw.Kill(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := contextWithTimeout(time.Minute)
	defer cancel()
	if err := e.sw.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	e.dial()
	deadline := time.Now().Add(45 * time.Second)
	for {
		if out, err := e.d.cli("status"); err == nil {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("callconsent did not reconnect: %v\n%s", err, out)
		}
		time.Sleep(250 * time.Millisecond)
	}
	c := e.place(t, "m-after-restart")
	c.noticeRest()
	c.key("1")
	c.on(10*time.Second, "RECORD_START", nil)
	time.Sleep(1500 * time.Millisecond)
	c.hangup()
	if row := e.d.final(t, c.B); row.Decision != "granted" || row.Recording == nil || row.Recording.State != "complete" {
		t.Errorf("row %+v recording %+v", row, row.Recording)
	}
}
