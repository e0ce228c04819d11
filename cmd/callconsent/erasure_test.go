package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/callconsent/callconsent/consent"
	"github.com/callconsent/callconsent/esl/fakefs"
)

// Tests of the issue "Erasure must never silently fail" (R-WITHDRAW-1/2, R-RETAIN-1/4): a
// withdrawal is committed whatever happens to the audio, one stuck file blocks only itself,
// guards never hold retention back in silence, and a dry run changes nothing.

// consentCall places a call whose caller presses 1 and returns it once its recording is done.
func (h *harness) consentCall() *consent.Call {
	h.t.Helper()
	res := h.call(fakefs.CallSpec{Script: []fakefs.Step{pressAfterNotice("1")}, HangupAfterTransfer: minRecording})
	c := h.finalCall(res.UUID)
	if c.Recording == nil || c.Recording.State != consent.RecordingComplete {
		h.t.Fatalf("no complete recording: %+v", c.Recording)
	}
	return c
}

// findCall reads a call from the database in the harness's data folder, with or without the
// daemon running.
func findCall(t *testing.T, cfg *Config, uuid string) *consent.Call {
	t.Helper()
	st, err := openStore(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	c, err := st.DB.FindCall(context.Background(), uuid)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func fileExists(t *testing.T, path string) bool {
	t.Helper()
	_, err := os.Lstat(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	return err == nil
}

// A withdrawal while the recordings folder is missing is committed all the same, directly and
// through the daemon: exit 4 with "consent withdrawn; 1 file(s) await deletion: <why>", the
// call marked withdrawn, its recording committed for deletion; the next sweep that can deletes
// it, with its tombstone (R-WITHDRAW-1).
func TestWithdraw_RecordingsFolderMissing(t *testing.T) {
	for _, viaDaemon := range []bool{false, true} {
		name := map[bool]string{false: "Directly", true: "ThroughDaemon"}[viaDaemon]
		t.Run(name, func(t *testing.T) {
			h := startHarness(t, fakefs.Config{})
			c := h.consentCall()
			if !viaDaemon {
				h.d.Close()
			}
			away := h.cfg.RecordingsDir + ".away"
			if err := os.Rename(h.cfg.RecordingsDir, away); err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			err := runWithdraw(h.ctx, h.cfg, withdrawOptions{Call: c.UUID, Reason: "ticket 4714"}, &out)
			msg := consent.ErrorMessage(err)
			if exitCode(err, true) != exitConflict || !strings.HasPrefix(msg, "consent withdrawn; 1 file(s) await deletion: recordings folder missing or unreadable") {
				t.Fatalf("exit %d, error %q; want exit 4 and consent withdrawn with 1 file awaiting deletion\n%s", exitCode(err, true), msg, out.String())
			}
			if !strings.Contains(out.String(), "consent withdrawn") || !strings.Contains(out.String(), "waiting:   1 file(s)") {
				t.Errorf("output:\n%s", out.String())
			}
			h.d.Close()
			got := findCall(t, h.cfg, c.UUID)
			if !got.Withdrawn() || got.Recording.State != consent.RecordingDeleting {
				t.Fatalf("withdrawal not committed: withdrawn %v, recording %s", got.Withdrawn(), got.Recording.State)
			}

			if err := os.Rename(away, h.cfg.RecordingsDir); err != nil {
				t.Fatal(err)
			}
			if err := runSweep(h.ctx, h.cfg, sweepOptions{}, io.Discard, io.Discard); err != nil {
				t.Fatalf("sweep once the folder is back: %v", err)
			}
			if fileExists(t, c.Recording.Path) || findCall(t, h.cfg, c.UUID).Recording.State != consent.RecordingDeleted {
				t.Fatal("the withdrawn recording was not deleted by the next sweep")
			}
		})
	}
}

// An unknown call UUID is one clear "not found" line (exit 3), directly and through the
// daemon; nothing says "withdrawn".
func TestWithdraw_UnknownCall(t *testing.T) {
	unknown := "00000000-0000-4000-8000-000000000000"
	t.Run("Directly", func(t *testing.T) {
		code, stdout, stderr := runArgs(t, t.TempDir(), "withdraw", "--call", unknown, "--reason", "x")
		want := "callconsent: withdraw: call " + unknown + " not found; nothing withdrawn\n"
		if code != exitNotFound || stdout != "" || stderr != want {
			t.Fatalf("exit %d, stdout %q, stderr %q; want exit 3, nothing on stdout, stderr %q", code, stdout, stderr, want)
		}
	})
	t.Run("ThroughDaemon", func(t *testing.T) {
		h := startHarness(t, fakefs.Config{})
		for _, o := range []outputFormat{outputTable, outputJSON} {
			var out bytes.Buffer
			err := runWithdraw(h.ctx, h.cfg, withdrawOptions{Call: unknown, Reason: "x", Output: o}, &out)
			if exitCode(err, true) != exitNotFound || out.Len() != 0 || !strings.Contains(errorText(err), "not found") {
				t.Fatalf("%s: exit %d, error %v, output %q", o, exitCode(err, true), err, out.String())
			}
		}
	})
}

// One file that cannot be deleted blocks only itself (R-RETAIN-4). Its withdrawal is committed
// and exits 4 naming the path; the daemon still starts; status shows the alarm with the path
// and exits 5; an unrelated withdrawal and a dry run work; a sweep deletes what it can and
// exits 4 naming the path; once the file can go, the next sweep deletes it.
func TestStuckFile_BlocksOnlyItself(t *testing.T) {
	h := startHarness(t, fakefs.Config{})
	stuck, other := h.consentCall(), h.consentCall()
	h.d.Close()
	rel, _ := filepath.Rel(h.cfg.RecordingsDir, stuck.Recording.Path)
	// A file that cannot be unlinked, also for root (who writes to every folder): a folder
	// that is not empty has taken the recording's name.
	if err := os.Remove(stuck.Recording.Path); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(stuck.Recording.Path, "x"), 0o700); err != nil {
		t.Fatal(err)
	}

	var out bytes.Buffer
	err := runWithdraw(h.ctx, h.cfg, withdrawOptions{Call: stuck.UUID, Reason: "ticket 1"}, &out)
	if exitCode(err, true) != exitConflict || !strings.Contains(errorText(err), "consent withdrawn; 1 file(s) await deletion: "+rel) {
		t.Fatalf("withdraw of the stuck file: exit %d, %v\n%s", exitCode(err, true), err, out.String())
	}

	// The daemon starts, and reports the stuck file as an alarm.
	d := newDaemon(h.cfg, slog.New(slog.NewTextHandler(h.logs, nil)))
	if err := d.Open(h.ctx); err != nil {
		t.Fatalf("run with one stuck file: %v", err)
	}
	defer d.Close()
	out.Reset()
	err = runStatus(h.ctx, h.cfg, statusOptions{}, &out)
	if exitCode(err, true) != exitAlarm || !strings.Contains(out.String(), "ALARM stuck-files") || !strings.Contains(out.String(), rel) {
		t.Fatalf("status with a stuck file: exit %d, %v\n%s", exitCode(err, true), err, out.String())
	}

	// An unrelated withdrawal goes through the daemon and deletes its file.
	out.Reset()
	if err := runWithdraw(h.ctx, h.cfg, withdrawOptions{Call: other.UUID, Reason: "ticket 2"}, &out); err != nil {
		t.Fatalf("unrelated withdrawal: %v\n%s", err, out.String())
	}
	if fileExists(t, other.Recording.Path) {
		t.Fatal("unrelated withdrawal did not delete its file")
	}
	d.Close()

	if err := runSweep(h.ctx, h.cfg, sweepOptions{DryRun: true}, io.Discard, io.Discard); err != nil {
		t.Fatalf("dry run with a stuck file: %v", err)
	}
	out.Reset()
	err = runSweep(h.ctx, h.cfg, sweepOptions{}, &out, io.Discard)
	if exitCode(err, true) != exitConflict || !strings.Contains(errorText(err), rel) || !strings.Contains(out.String(), rel) {
		t.Fatalf("sweep with a stuck file: exit %d, %v\n%s", exitCode(err, true), err, out.String())
	}

	if err := os.RemoveAll(stuck.Recording.Path); err != nil {
		t.Fatal(err)
	}
	if err := runSweep(h.ctx, h.cfg, sweepOptions{}, io.Discard, io.Discard); err != nil {
		t.Fatalf("sweep after the repair: %v", err)
	}
	if s := findCall(t, h.cfg, stuck.UUID).Recording.State; s != consent.RecordingDeleted {
		t.Fatalf("stuck recording is %s after the repair", s)
	}
}
