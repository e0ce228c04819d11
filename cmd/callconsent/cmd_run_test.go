package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/callconsent/callconsent/recordings/recordingstest"
)

// freePort returns a loopback address nothing listens on (a port the kernel just handed out).
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// runRefuses runs `callconsent run` in-process with args and expects it to refuse at once,
// exit 2, before it listens on esl-listen. It returns stderr.
func runRefuses(t *testing.T, dir string, args ...string) string {
	t.Helper()
	listen := freePort(t)
	cfgFile := filepath.Join(dir, "callconsent.yaml")
	if err := os.WriteFile(cfgFile, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	args = append([]string{"--config", cfgFile, "--data-dir", dir,
		"--esl-listen", listen, "--freeswitch", freePort(t)}, args...)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errOut bytes.Buffer
	done := make(chan int, 1)
	go func() { done <- run(ctx, append(args, "run"), &out, &errOut) }()
	select {
	case code := <-done:
		if code != exitUsage {
			t.Errorf("run: exit %d, want 2; stderr %q", code, errOut.String())
		}
		return errOut.String()
	case <-time.After(3 * time.Second):
		if c, err := net.DialTimeout("tcp", listen, time.Second); err == nil {
			c.Close()
			t.Errorf("run listens on %s", listen)
		}
		cancel()
		<-done
		t.Fatalf("run did not refuse to start; stderr %q", errOut.String())
		return ""
	}
}

// TestRunCommand_RefusesUnplayableNotice: run checks the notices as config check does. Before,
// it took any readable file, and policy then showed the hash of audio no caller heard.
func TestRunCommand_RefusesUnplayableNotice(t *testing.T) {
	random := make([]byte, 4096)
	rand.Read(random)
	for name, tc := range map[string]struct {
		content []byte
		want    string
	}{
		"Text":   {[]byte("Denne samtalen kan bli tatt opp. Trykk 1 for ja, 2 for nei.\n"), "not a WAV file"},
		"Random": {random, "not a WAV file"},
		// A real WAV, but not what FreeSWITCH plays natively: config check fails it too.
		"EightBit": {recordingstest.WAV(1, 8000, 8, 800, -1), "PCM 8000 Hz mono 8-bit, 100ms: want 16-bit PCM"},
		"NoAudio":  {recordingstest.WAV(1, 8000, 16, 0, -1), "no audio"},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			notice := filepath.Join(dir, "notice-nb.wav")
			if err := os.WriteFile(notice, tc.content, 0o600); err != nil {
				t.Fatal(err)
			}
			stderr := runRefuses(t, dir, "--notice", "nb=2026-11-26.1:"+notice)
			for _, want := range []string{"callconsent: config: notice.nb.file: " + notice + ": ", tc.want} {
				if !strings.Contains(stderr, want) {
					t.Errorf("stderr %q lacks %q", stderr, want)
				}
			}
			// config check says the same about the file.
			if code, out, _ := runArgs(t, dir, "--notice", "nb=2026-11-26.1:"+notice, "config", "check"); code != exitUsage || !strings.Contains(out, tc.want) {
				t.Errorf("config check: exit %d, output %q; want a FAIL with %q", code, out, tc.want)
			}
		})
	}
	t.Run("InvalidChoicePrompt", func(t *testing.T) {
		dir := t.TempDir()
		prompt := filepath.Join(dir, "invalid-nb.wav")
		os.WriteFile(prompt, []byte("not audio"), 0o600)
		good, _ := filepath.Abs(filepath.Join(repoNotices, "notice-nb.wav"))
		stderr := runRefuses(t, dir, "--notice", "nb=2026-11-26.1:"+good+":"+prompt)
		if !strings.Contains(stderr, "notice.nb.invalid-file: "+prompt) {
			t.Errorf("stderr %q does not name the invalid-choice prompt", stderr)
		}
	})
}
