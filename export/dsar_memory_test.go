package export_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/callconsent/callconsent/consent"
	"github.com/callconsent/callconsent/consent/sqlite"
	"github.com/callconsent/callconsent/export"
	"github.com/callconsent/callconsent/recordings"
)

// helperEnv carries a job to TestDSARHelperProcess, which writes one archive in a process of
// its own so that its peak memory (getrusage's maxrss) is the writer's alone.
const helperEnv = "CALLCONSENT_DSAR_HELPER"

// helperJob is what the helper process archives.
type helperJob struct {
	DB, RecDir, Notice, Pseudonym, Out string
}

// TestDSAR_ConstantMemory archives 200 recordings of 10 MB each (2 GB) and 2 of them, each in
// a process of its own, and compares their peak resident memory: the archive streams, so the
// 2 GB one must not need more than a few MB above the small one. The sources are sparse files
// (no disk used); the archives are real files, removed as soon as they are checked.
func TestDSAR_ConstantMemory(t *testing.T) {
	const size = 10 << 20
	w := newWorld(t)
	me, few := strings.Repeat("ab", 32), strings.Repeat("cd", 32)
	mk := func(caller string, n int) {
		for range n {
			c := w.call(caller, consent.DecisionGranted, "2026-11-26.1", 0)
			path := recordings.Path(w.recDir, c.UUID, c.StartedAt)
			if err := os.Truncate(path, size); err != nil {
				t.Fatal(err)
			}
		}
	}
	mk(me, 200)
	mk(few, 2)
	run := func(pseudonym string) (rssKB int64, archive int64) {
		out := filepath.Join(t.TempDir(), "a.zip")
		job, _ := json.Marshal(helperJob{DB: w.db.Path(), RecDir: w.recDir, Notice: w.notices[0].Path, Pseudonym: pseudonym, Out: out})
		cmd := exec.Command(os.Args[0], "-test.run=^TestDSARHelperProcess$", "-test.count=1")
		cmd.Env = append(os.Environ(), helperEnv+"="+string(job))
		start := time.Now()
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("helper: %v\n%s", err, b)
		}
		fi, err := os.Stat(out)
		if err != nil {
			t.Fatal(err)
		}
		os.Remove(out)
		rss := cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss
		t.Logf("archive of %d MB: %s, peak RSS %d MB", fi.Size()>>20, time.Since(start).Round(time.Millisecond), rss>>10)
		return rss, fi.Size()
	}
	small, _ := run(few)
	large, bytes := run(me)
	if bytes < 200*size {
		t.Fatalf("archive of %d bytes; want at least %d", bytes, 200*size)
	}
	if large > small+16<<10 {
		t.Errorf("peak RSS %d MB for 2 GB of audio, %d MB for 20 MB: memory grows with the archive", large>>10, small>>10)
	}
}

// TestDSARHelperProcess is TestDSAR_ConstantMemory's process; it does nothing in a normal run.
func TestDSARHelperProcess(t *testing.T) {
	env := os.Getenv(helperEnv)
	if env == "" {
		return
	}
	var job helperJob
	if err := json.Unmarshal([]byte(env), &job); err != nil {
		t.Fatal(err)
	}
	db := sqlite.NewDB(job.DB)
	if err := db.OpenReadOnly(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	src := export.Sources{Store: db, Audit: &fakeAudit{}, RecordingsDir: job.RecDir,
		Notices: []export.NoticeFile{{Language: "nb", Version: "2026-11-26.1", Path: job.Notice}}}
	a, err := export.Prepare(context.Background(), src, export.Request{CallerPseudonym: job.Pseudonym, By: "so", Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Write(context.Background(), job.Out, nil); err != nil {
		t.Fatal(err)
	}
	fmt.Println("archived", a.Summary().Recordings)
}
