package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/callconsent/callconsent/consent"
	"github.com/callconsent/callconsent/consent/sqlite/sqlitetest"
	"github.com/callconsent/callconsent/esl/fakefs"
	"github.com/callconsent/callconsent/retention"
)

// A withdrawal killed (SIGKILL) at each step of the deletion protocol leaves nothing behind once
// the daemon or the next sweep starts (R-RETAIN-4): the file is gone, the row is deleted and
// has exactly one tombstone, and no row is left in deleting. The killed process is the
// callconsent binary built with the failpoints tag, withdrawing directly (no daemon runs).
func TestWithdrawCrashSafe(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary with -tags " + retention.FailpointTag)
	}
	bin := filepath.Join(t.TempDir(), "callconsent")
	if out, err := exec.Command("go", "build", "-tags", retention.FailpointTag, "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build -tags %s: %v\n%s", retention.FailpointTag, err, out)
	}
	h := startHarness(t, fakefs.Config{})
	failpoints := []string{retention.FailAfterMark, retention.FailAfterUnlink, retention.FailAfterFsync}
	calls := map[string]*consent.Call{}
	for _, fp := range failpoints {
		res := h.call(fakefs.CallSpec{Script: []fakefs.Step{pressAfterNotice("1")}, HangupAfterTransfer: minRecording})
		calls[fp] = h.finalCall(res.UUID)
	}
	h.d.Close() // the CLI deletes directly, in a process we can kill
	cfgFile := filepath.Join(t.TempDir(), "callconsent.yaml")
	if err := os.WriteFile(cfgFile, nil, 0o600); err != nil {
		t.Fatal(err)
	}

	for _, fp := range failpoints {
		c := calls[fp]
		cmd := exec.Command(bin, "--config", cfgFile, "--data-dir", h.dir, "withdraw", "--call", c.UUID, "--reason", "crash test")
		cmd.Env = append(os.Environ(), retention.FailpointEnv+"="+fp)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
			t.Fatalf("%s: withdraw was not killed at the failpoint: %v\n%s", fp, err, out.String())
		}
		restartAndCheck(t, h.cfg, c.UUID, fp)
	}
}

// restartAndCheck opens store and sweeper as run and sweep do after a crash (Open finishes
// committed deletions) and checks the withdrawn call's recording is gone, once.
func restartAndCheck(t *testing.T, cfg *Config, uuid, fp string) {
	t.Helper()
	ctx := context.Background()
	st, err := openStore(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	sw, err := openSweeper(ctx, cfg, st.DB, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer sw.Close()
	c, err := st.DB.FindCall(ctx, uuid)
	if err != nil {
		t.Fatal(err)
	}
	if !c.Withdrawn() || c.Recording.State != consent.RecordingDeleted {
		t.Errorf("%s: withdrawn %v, recording %s", fp, c.Withdrawn(), c.Recording.State)
	}
	if _, err := os.Stat(c.Recording.Path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("%s: recording survived the crash and restart", fp)
	}
	n := 0
	for _, tomb := range sqlitetest.Tombstones(t, st.DB.Path()) {
		if tomb.CallUUID == uuid && tomb.Reason == consent.ReasonWithdrawal {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%s: %d withdrawal tombstones, want 1", fp, n)
	}
	if left, err := st.DB.FindRecordings(ctx, consent.RecordingFilter{States: []consent.RecordingState{consent.RecordingDeleting}}); err != nil || len(left) != 0 {
		t.Errorf("%s: rows left in deleting: %d (err %v)", fp, len(left), err)
	}
}
