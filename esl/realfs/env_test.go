package realfs

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// EnvRecord, when set to a folder, makes the suite write a transcript of every scenario's
// outbound socket there (see Relay); testdata/esl's m-* transcripts were made this way.
const EnvRecord = "CALLCONSENT_REALFS_RECORD"

// The test notice: 3 s, longer than FreeSWITCH's playback block (2.048 s), so that both
// parts of the flow play: the first min-notice (2 s, the default) with every key discarded,
// then the rest, which 1 or 2 ends.
const (
	noticeLen = 3 * time.Second
	minNotice = 2 * time.Second
	caller    = "+4791234567" // the placeholder identity of testdata/esl
	name      = "Kari Nordmann"
)

// env is one real FreeSWITCH with callconsent attached through a recording relay, and an
// event-socket client of the tests' own.
type env struct {
	t      *testing.T
	sw     *Switch
	fs     *Client
	relay  *Relay
	d      *daemon
	notice string
}

// watched are the events the tests' client keeps (every channel's).
var watched = []string{"CHANNEL_EXECUTE", "CHANNEL_EXECUTE_COMPLETE", "CHANNEL_ANSWER", "DTMF", "RECORD_START", "RECORD_STOP", "CHANNEL_HANGUP_COMPLETE"}

func setup(t *testing.T) *env {
	t.Helper()
	dir, err := Find(".")
	if err != nil {
		t.Skipf("real FreeSWITCH suite skipped: %v (set %s to the folder of the FreeSWITCH build)", err, EnvDir)
	}
	work := t.TempDir()
	eslPort, err1 := FreePort()
	listenPort, err2 := FreePort()
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	e := &env{t: t}
	if e.relay, err = NewRelay("127.0.0.1:"+strconv.Itoa(listenPort), os.Getenv(EnvRecord)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.relay.Close() })
	password := "realfs-" + rand.Text()[:12]
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if e.sw, err = Start(ctx, dir, filepath.Join(work, "fs"), eslPort, password, e.relay.Addr()); err != nil {
		t.Fatalf("%v\n(missing runtime libraries? run %s)", err, filepath.Join(dir, "install-deps.sh"))
	}
	t.Cleanup(func() { e.sw.Kill() })
	e.dial()

	cc := filepath.Join(work, "cc")
	os.MkdirAll(cc, 0o700)
	pwFile := filepath.Join(cc, "esl-password")
	os.WriteFile(pwFile, []byte(password+"\n"), 0o600)
	e.notice = filepath.Join(work, "notice-nb.wav")
	invalid := filepath.Join(work, "invalid-nb.wav")
	writeToneWAV(t, e.notice, noticeLen, 600)
	writeToneWAV(t, invalid, 300*time.Millisecond, 500)
	e.d = &daemon{t: t, bin: callconsentBinary(t), dir: cc, flags: []string{
		"--esl-listen", "127.0.0.1:" + strconv.Itoa(listenPort), "--freeswitch", e.sw.Addr(),
		"--esl-password-file", pwFile, "--notice", "nb=realfs-1:" + e.notice + ":" + invalid,
		"--language", "nb", "--min-notice", minNotice.String(), "--digit-timeout", "1s", "--log-level", "debug"}}
	e.d.start()
	t.Cleanup(func() {
		e.d.stop()
		if t.Failed() {
			t.Logf("callconsent's log:\n%s", e.d.logs)
		}
		for _, pd := range []string{caller, caller[1:], "Kari", "Nordmann"} {
			if strings.Contains(e.d.logs.String(), pd) {
				t.Errorf("callconsent logged the caller's number or name (%q)", pd)
			}
		}
	})
	return e
}

func (e *env) dial() {
	e.t.Helper()
	var err error
	if e.fs, err = Dial(e.sw.Addr(), e.sw.Password, watched...); err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { e.fs.Close() })
}

// call is one loopback call: A is the caller's leg (ours), B the leg callconsent drives.
type call struct {
	e    *env
	t    *testing.T
	A, B string
}

// place originates a call and waits until FreeSWITCH hands its B-leg to the socket
// application; name names its transcript when recording.
func (e *env) place(t *testing.T, name string) *call {
	t.Helper()
	c := &call{e: e, t: t, A: newUUID()}
	e.relay.Name(c.A, name)
	if err := e.fs.Originate(c.A, caller, "origination_caller_id_name='"+name+"'"); err != nil {
		t.Fatal(err)
	}
	ev, err := e.fs.WaitLeg(c.A, 10*time.Second, func(ev Event) bool {
		return ev["variable_origination_uuid"] == c.A && ev["Unique-ID"] != c.A && ev.Name() == "CHANNEL_EXECUTE" && ev["Application"] == "socket"
	})
	if err != nil {
		t.Fatalf("call %s never reached the socket application: %v", name, err)
	}
	c.B = ev["Unique-ID"]
	return c
}

// on waits for an event of the B-leg that matches and returns it.
func (c *call) on(d time.Duration, name string, match func(Event) bool) Event {
	c.t.Helper()
	ev, err := c.e.fs.WaitLeg(c.B, d, func(ev Event) bool {
		return ev["Unique-ID"] == c.B && ev.Name() == name && (match == nil || match(ev))
	})
	if err != nil {
		c.t.Fatalf("%s on %s: %v\nexecuted: %q", name, c.B, err, c.e.sw.Executed(c.B))
	}
	return ev
}

// started waits for the start of an application whose data contains arg.
func (c *call) started(app, arg string) Event {
	c.t.Helper()
	return c.on(15*time.Second, "CHANNEL_EXECUTE", func(ev Event) bool {
		return ev["Application"] == app && strings.Contains(ev["Application-Data"], arg)
	})
}

// noticeRest waits for the rest of the notice to start: keys count from there.
func (c *call) noticeRest() Event { c.t.Helper(); return c.started("playback", "@@") }

// waitForKey waits for the prompt that waits for a key after the notice (try n: n-th prompt).
func (c *call) waitForKey() Event {
	c.t.Helper()
	return c.started("play_and_get_digits", "")
}

func (c *call) key(d string) {
	c.t.Helper()
	if err := c.e.fs.Keys(c.A, d); err != nil {
		c.t.Fatal(err)
	}
}

func (c *call) hangup() {
	c.t.Helper()
	if err := c.e.fs.Hangup(c.A); err != nil {
		c.t.Fatal(err)
	}
}

// executed is what FreeSWITCH's log says it ran on the B-leg, application names only.
func (c *call) executed() []string {
	var apps []string
	for _, x := range c.e.sw.Executed(c.B) {
		name, _, _ := strings.Cut(x, "(")
		apps = append(apps, name)
	}
	return apps
}

// transferred reports whether the B-leg reached the employee: extension 6000 plays its 440 Hz tone.
func (c *call) transferred() bool {
	return slices.ContainsFunc(c.e.sw.Executed(c.B), func(x string) bool { return strings.Contains(x, "440") })
}

func newUUID() string {
	b := make([]byte, 16)
	rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

func contextWithTimeout(d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), d)
}
