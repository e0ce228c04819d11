package realfs

import (
	"net"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/callconsent/callconsent/esl"
)

// overMaxCalls: with max-calls 1 and one caller at the notice, the next caller reaches the
// employee at once, unrecorded and without a row, through callconsent's own transfer: the
// socket application runs the queued transfer when callconsent closes the socket (before the
// socket application completes), not the dialplan's fallback after it. The first caller goes
// on as ever.
func (e *env) overMaxCalls(t *testing.T) {
	flags := e.d.flags
	if err := e.d.stop(); err != nil {
		t.Fatal(err)
	}
	e.d.flags = append(slices.Clone(flags), "--max-calls", "1")
	e.d.start()

	first := e.place(t, "")
	first.started("playback", "{timeout=")
	second := e.place(t, "")
	transfer := second.on(10*time.Second, "CHANNEL_EXECUTE", func(ev Event) bool { return ev["Application"] == "transfer" })
	socketDone := second.on(10*time.Second, "CHANNEL_EXECUTE_COMPLETE", func(ev Event) bool { return ev["Application"] == "socket" })
	if seq(transfer) > seq(socketDone) {
		t.Errorf("the transfer ran after the socket application ended (the dialplan's fallback), not callconsent's")
	}
	second.on(10*time.Second, "CHANNEL_EXECUTE", func(ev Event) bool {
		return ev["Application"] == "playback" && strings.Contains(ev["Application-Data"], "440")
	})
	if got := second.executed(); len(got) < 2 || got[0] != "socket" || got[1] != "transfer" || slices.Contains(got, "record_session") {
		t.Errorf("FreeSWITCH executed %q on the call over the limit: want socket, then transfer at once", got)
	}
	second.hangup()
	if out, err := e.d.cli("calls", "show", second.B); err == nil || !strings.Contains(out, "not found") {
		t.Errorf("the call over the limit has a row: %v\n%s", err, out)
	}
	if out, _ := e.d.cli("status"); !strings.Contains(out, "callconsent_calls_over_limit_total 1\n") {
		t.Errorf("status does not count the call over the limit:\n%s", out)
	}

	// With every slot for replies taken by peers that never answer, a call over the limit is
	// sent the transfer and closed at once: FreeSWITCH still runs the transfer.
	for range esl.OverflowSlots {
		nc, err := net.Dial("tcp", e.d.listen())
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
	}
	third := e.place(t, "")
	transfer = third.on(10*time.Second, "CHANNEL_EXECUTE", func(ev Event) bool { return ev["Application"] == "transfer" })
	socketDone = third.on(10*time.Second, "CHANNEL_EXECUTE_COMPLETE", func(ev Event) bool { return ev["Application"] == "socket" })
	if seq(transfer) > seq(socketDone) {
		t.Errorf("with every slot busy, the transfer ran after the socket application ended (the dialplan's fallback)")
	}
	if got := third.executed(); len(got) < 2 || got[1] != "transfer" {
		t.Errorf("FreeSWITCH executed %q on the call over the limit with every slot busy", got)
	}
	third.hangup()

	first.noticeRest()
	first.key("2")
	first.on(10*time.Second, "CHANNEL_EXECUTE", func(ev Event) bool { return ev["Application"] == "transfer" })
	time.Sleep(500 * time.Millisecond)
	first.hangup()
	if row := e.d.final(t, first.B); row.Decision != "declined" {
		t.Errorf("the call within the limit: %+v", row)
	}
	if err := e.d.stop(); err != nil { // its log may be read once it has stopped
		t.Error(err)
	}
	if !strings.Contains(e.d.logs.String(), "every slot busy") {
		t.Errorf("the third call was not turned away with every slot busy")
	}
	e.d.flags = flags
	e.d.start()
}

// listen is the daemon's own outbound listener (FreeSWITCH reaches it through the relay).
func (d *daemon) listen() string {
	i := slices.Index(d.flags, "--esl-listen")
	return d.flags[i+1]
}

func seq(ev Event) int64 {
	n, _ := strconv.ParseInt(ev["Event-Sequence"], 10, 64)
	return n
}
