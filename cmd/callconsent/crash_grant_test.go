package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/callconsent/callconsent/esl/fakefs"
)

// show is `calls show UUID --output json`; ok is false when it failed.
func (d *binDaemon) show(uuid string) (c callJSON, ok bool) {
	out, err := d.cli("calls", "show", uuid, "--output", "json")
	return c, err == nil && json.Unmarshal([]byte(out), &c) == nil
}

// A granted call costs two commits: the grant (with the call's row and the pending recording)
// before record_session, and the end with the recording's final state at the hang-up. The
// daemon is killed (SIGKILL) between the two, while FreeSWITCH records: the grant and the
// recording's row are on disk, the file is FreeSWITCH's, and nothing else. The caller's call
// goes on without the daemon and ends; at the next start, reconcile asks FreeSWITCH, which no
// longer has the call, and rebuilds what the hang-up commit would have held from the WAV: the
// recording complete with its duration and size, the file 0600, and the call's end.
func TestCrash_BetweenGrantAndHangup(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the daemon")
	}
	fs := fakefs.New(fakefs.Config{Password: testPassword, HeartbeatInterval: 200 * time.Millisecond, RecordFlushInterval: 20 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(&syncBuffer{}, nil))})
	failOn(t, fs.Open(context.Background()))
	t.Cleanup(func() { fs.Close() })
	d := startBinary(t, fs.Addr(), 1024, 1024)

	const uuid = "4f8c2a10-c4a5-4c3b-9a3e-0d5b7e9c2f11"
	done := make(chan fakefs.CallResult, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		res, _ := fs.Call(ctx, d.addr, fakefs.CallSpec{UUID: uuid, Script: []fakefs.Step{pressAfterNotice("1")}, HangupAfterTransfer: 2 * time.Second})
		done <- res
	}()

	// The grant is committed and FreeSWITCH writes the file: kill the daemon now.
	var before callJSON
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		c, ok := d.show(uuid)
		if ok && c.Recording != nil {
			if _, err := os.Stat(c.Recording.Path); err == nil {
				before = c
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no granted call with a recording being written in 10 s:\n%s", d.logs)
		}
	}
	failOn(t, syscall.Kill(d.pid, syscall.SIGKILL))
	d.cmd.Wait()
	if before.Decision != "granted" || before.Recording.State != "pending" || before.EndedAt != nil {
		t.Fatalf("before the kill: %+v, recording %+v; want granted, pending, no end", before, before.Recording)
	}

	// The caller talks on and hangs up; FreeSWITCH finishes the file without the daemon.
	select {
	case res := <-done:
		if len(res.Recordings) != 1 {
			t.Fatalf("FreeSWITCH recorded %v", res.Recordings)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the call did not end")
	}
	c, _ := d.show(uuid)
	if c.Recording == nil || c.Recording.State != "pending" || c.EndedAt != nil {
		t.Fatalf("after the kill, no daemon: %+v, recording %+v; want pending, no end", c, c.Recording)
	}
	fi, err := os.Stat(c.Recording.Path)
	failOn(t, err)

	d.launch() // connected: reconcile runs after the connect
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if c, _ = d.show(uuid); c.Recording != nil && c.Recording.State == "complete" && c.EndedAt != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("reconcile did not finish the call in 10 s: %+v, recording %+v\n%s", c, c.Recording, d.logs)
		}
	}
	if c.Decision != "granted" || c.Recording.Bytes != fi.Size() || c.Recording.DurationMS < 1500 {
		t.Errorf("rebuilt from the WAV: %+v, recording %+v; want granted, %d bytes, about 2 s", c, c.Recording, fi.Size())
	}
	if fi, err := os.Stat(c.Recording.Path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("recording after reconcile: %v, mode %v; want 0600", err, fi.Mode().Perm())
	}
}
