package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/callconsent/callconsent/consent"
	"github.com/callconsent/callconsent/consent/sqlite/sqlitetest"
	"github.com/callconsent/callconsent/esl/fakefs"
)

// A caller withdraws while still talking to the employee (R-WITHDRAW-2): the CLI reaches the
// daemon over the control socket, FreeSWITCH gets uuid_record stop, the partial file is gone
// within a second, and no second record_session ever follows.
func TestE2E_WithdrawLiveCall(t *testing.T) {
	h := startHarness(t, fakefs.Config{})
	uuid := "4f8c2a10-4444-4c3b-9a3e-0d5b7e9c2f11"
	done := h.startCall(fakefs.CallSpec{UUID: uuid, Script: []fakefs.Step{pressAfterNotice("1")}, HangupAfterTransfer: 2500 * time.Millisecond})
	rec := h.waitRecording(uuid)
	time.Sleep(1100 * time.Millisecond) // past RECORD_MIN_SEC, so FreeSWITCH keeps the partial file

	var out bytes.Buffer
	start := time.Now()
	err := runWithdraw(h.ctx, h.cfg, withdrawOptions{Call: uuid, Reason: "ticket 4711", Output: outputJSON}, &out)
	took := time.Since(start)
	if err != nil {
		t.Fatalf("withdraw: %v\n%s", err, out.String())
	}
	if _, err := os.Stat(rec.Path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("recording still on disk after withdraw: %v", err)
	}
	if took > time.Second {
		t.Errorf("withdraw took %v, want < 1 s", took)
	}
	var res consent.WithdrawResult
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatal(err)
	}
	if !res.DaemonSide || res.Live != 1 || res.Stopped != 1 || res.Files != 1 || res.Bytes == 0 || len(res.Calls) != 1 {
		t.Errorf("result %+v", res)
	}
	stop := "api uuid_record " + uuid + " stop " + rec.Path
	found := false
	for _, c := range h.fs.Commands() {
		found = found || c.Side == "inbound" && c.Line == stop
	}
	if !found {
		t.Errorf("FreeSWITCH never got %q", stop)
	}

	call := <-done
	c := h.finalCall(uuid)
	n := 0
	for _, a := range call.Apps {
		if a == "record_session" {
			n++
		}
	}
	if n != 1 || !strings.Contains(strings.Join(call.Apps, ","), "transfer") {
		t.Errorf("executed %q: want one record_session and a transfer", call.Apps)
	}
	if !c.Withdrawn() || c.Recording.State != consent.RecordingDeleted {
		t.Errorf("call after withdrawal: withdrawn %v, recording %+v", c.Withdrawn(), c.Recording)
	}
	if _, err := os.Stat(rec.Path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("recording came back after the call ended: %v", err)
	}
	if ts := sqlitetest.Tombstones(t, h.cfg.DB); len(ts) != 1 || ts[0].Reason != consent.ReasonWithdrawal || ts[0].CallUUID != uuid {
		t.Errorf("tombstones %+v", ts)
	}
}

// Withdrawal by caller number finds every call of that caller, however the number was
// written, and deletes their audio; other callers keep theirs.
func TestE2E_WithdrawByCaller(t *testing.T) {
	h := startHarness(t, fakefs.Config{})
	consentCall := func(number string) (string, string) {
		res := h.call(fakefs.CallSpec{CallerIDNumber: number, Script: []fakefs.Step{pressAfterNotice("1")}, HangupAfterTransfer: minRecording})
		c := h.finalCall(res.UUID)
		if c.Recording == nil || c.Recording.State != consent.RecordingComplete {
			t.Fatalf("no complete recording: %+v", c.Recording)
		}
		return res.UUID, c.Recording.Path
	}
	_, p1 := consentCall("+4791234567")
	_, p2 := consentCall("0047 912 34 567")
	_, other := consentCall("+4798765432")

	var out bytes.Buffer
	stdin := strings.NewReader("+47 912-34-567\n")
	if err := runWithdraw(h.ctx, h.cfg, withdrawOptions{Caller: "-", Reason: "ticket 4712", stdin: stdin}, &out); err != nil {
		t.Fatalf("withdraw: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "calls:     2") || !strings.Contains(out.String(), "2 file(s)") {
		t.Errorf("output:\n%s", out.String())
	}
	for _, p := range []string{p1, p2} {
		if _, err := os.Stat(p); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s survived the withdrawal", p)
		}
	}
	if _, err := os.Stat(other); err != nil {
		t.Errorf("another caller's recording was deleted: %v", err)
	}
	// Not "912" alone: a random UUID holds it now and then (cf3f42dd-…-b573f912c640 did).
	if o := out.String(); strings.Contains(o, "91234567") || strings.Contains(o, "912 34") || strings.Contains(o, "912-34") {
		t.Errorf("output repeats the caller number:\n%s", out.String())
	}
}

// Without a daemon the CLI deletes directly, and says so.
func TestWithdrawWithoutDaemon(t *testing.T) {
	h := startHarness(t, fakefs.Config{})
	res := h.call(fakefs.CallSpec{Script: []fakefs.Step{pressAfterNotice("1")}, HangupAfterTransfer: minRecording})
	c := h.finalCall(res.UUID)
	h.d.Close()
	var out bytes.Buffer
	if err := runWithdraw(h.ctx, h.cfg, withdrawOptions{Call: res.UUID, Reason: "ticket 4713"}, &out); err != nil {
		t.Fatalf("withdraw: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "no daemon is running") || !strings.Contains(out.String(), "1 file(s)") {
		t.Errorf("output:\n%s", out.String())
	}
	if _, err := os.Stat(c.Recording.Path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("recording survived: %v", err)
	}
	for _, bad := range []withdrawOptions{{Reason: "x"}, {Call: res.UUID}, {Call: "nope", Reason: "x"}, {Call: res.UUID, Caller: "1", Reason: "x"}} {
		if err := runWithdraw(h.ctx, h.cfg, bad, &out); consent.ErrorCode(err) != consent.EINVALID {
			t.Errorf("%+v: %v, want invalid", bad, err)
		}
	}
	if err := runWithdraw(h.ctx, h.cfg, withdrawOptions{Call: "00000000-0000-4000-8000-000000000000", Reason: "x"}, &out); consent.ErrorCode(err) != consent.ENOTFOUND {
		t.Errorf("unknown call: %v, want not found", err)
	}
}

// A channel whose UUID FreeSWITCH spells in upper case (an originate with an upper-case
// origination_uuid) is one call with one lower-case row and path; commands about it go back to
// FreeSWITCH in its own spelling, since FreeSWITCH looks channels up case-sensitively; and the
// CLI finds it whichever way the UUID is typed.
func TestE2E_UpperCaseChannelUUID(t *testing.T) {
	h := startHarness(t, fakefs.Config{})
	upper := "4F8C2A10-5555-4C3B-9A3E-0D5B7E9C2F11"
	lower := strings.ToLower(upper)
	done := h.startCall(fakefs.CallSpec{UUID: upper, Script: []fakefs.Step{pressAfterNotice("1")}, HangupAfterTransfer: 2500 * time.Millisecond})
	rec := h.waitRecording(lower)
	if !strings.HasSuffix(rec.Path, "/"+lower+".wav") {
		t.Errorf("recording path %s, want the lower-case uuid", rec.Path)
	}
	var show bytes.Buffer
	if err := runCallsShow(h.ctx, h.cfg, callsShowOptions{Output: outputJSON}, upper, &show); err != nil || !strings.Contains(show.String(), lower) {
		t.Errorf("calls show %s: %v\n%s", upper, err, show.String())
	}
	time.Sleep(1100 * time.Millisecond)
	var out bytes.Buffer
	if err := runWithdraw(h.ctx, h.cfg, withdrawOptions{Call: upper, Reason: "ticket 4714", Output: outputJSON}, &out); err != nil {
		t.Fatalf("withdraw: %v\n%s", err, out.String())
	}
	var res consent.WithdrawResult
	if err := json.Unmarshal(out.Bytes(), &res); err != nil || res.Live != 1 || res.Stopped != 1 || res.Files != 1 {
		t.Errorf("withdraw result %+v (%v)", res, err)
	}
	stop := "api uuid_record " + upper + " stop " + rec.Path
	found := false
	for _, c := range h.fs.Commands() {
		found = found || c.Side == "inbound" && c.Line == stop
	}
	if !found {
		t.Errorf("FreeSWITCH never got %q", stop)
	}
	<-done
	c := h.finalCall(lower)
	if !c.Withdrawn() || c.Recording.State != consent.RecordingDeleted {
		t.Errorf("call after withdrawal: %+v / %+v", c, c.Recording)
	}
	calls, err := h.d.store.DB.FindCalls(h.ctx, consent.CallFilter{})
	if err != nil || len(calls) != 1 {
		t.Errorf("%d rows for one call (%v)", len(calls), err)
	}
	h.waitFor("the spelling forgotten after the call", func() bool { return h.d.outbound.IDs.Len() == 0 })
}
