package main

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
)

// download runs the actions that start a download in the tab and returns the file's bytes
// once Chromium has it whole.
func download(t *testing.T, ctx context.Context, start ...chromedp.Action[chromedp.Void]) []byte {
	t.Helper()
	dir := t.TempDir()
	progress := chromedp.BrowserEvents(ctx, browser.DownloadProgress)
	events := true
	if _, err := chromedp.CallBrowser(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: dir, EventsEnabled: &events,
		BrowserContextID: chromedp.FromContext(ctx).BrowserContextID,
	}); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, start...); err != nil {
		t.Fatal(err)
	}
	for ev, err := range progress {
		if err != nil {
			t.Fatalf("download: %v", err)
		}
		switch ev.State {
		case browser.DownloadProgressStateCompleted:
			b, err := os.ReadFile(filepath.Join(dir, ev.GUID))
			if err != nil {
				t.Fatal(err)
			}
			return b
		case browser.DownloadProgressStateCanceled:
			t.Fatal("download canceled")
		}
	}
	t.Fatal("no download")
	return nil
}

// unzip returns the files of a ZIP archive by name.
func unzip(t *testing.T, b []byte) map[string][]byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("not a ZIP archive (%d bytes, %q…): %v", len(b), b[:min(len(b), 40)], err)
	}
	out := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		out[f.Name], err = io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// cli runs a callconsent command in this process on the console's data folder.
func (c *console) cli(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	none := filepath.Join(t.TempDir(), "none.yaml")
	os.WriteFile(none, nil, 0o600)
	var out, errb bytes.Buffer
	code := run(c.ctx, append([]string{"--data-dir", c.dir, "--config", none}, args...), &out, &errb)
	return code, out.String(), errb.String()
}

const trainingReason = "example for the december onboarding course"

// testTrainingExport: a line manager with a training grant mutes ranges on the export page and
// downloads the export; its WAV is byte for byte the CLI's export of the same call with the
// same ranges.
func (c *console) testTrainingExport(t *testing.T) {
	ctx := newTab(t)
	c.login(t, ctx, "mona", managerPW, "#search-form")
	search(t, ctx, "training", trainingReason, "#results")
	call := c.granted[0]
	const mutes = "caller:0.5-1.25\n2-2.5"
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`form[action="/calls/`+call.UUID+`"] button`)),
		chromedp.WaitVisible(chromedp.CSS("#export-open")),
		chromedp.Click(chromedp.CSS("#export-open")),
		chromedp.WaitVisible(chromedp.CSS("#mutes")),
		fill("#mutes", mutes),
	); err != nil {
		t.Fatal(err)
	}
	files := unzip(t, download(t, ctx, chromedp.Click(chromedp.CSS("#export"))))
	var wav, sidecar []byte
	for name, b := range files {
		switch {
		case strings.HasSuffix(name, ".wav"):
			wav = b
		case strings.HasSuffix(name, ".json"):
			sidecar = b
		}
	}
	if len(files) != 2 || wav == nil || sidecar == nil {
		t.Fatalf("the download holds %d files, want the WAV and its sidecar", len(files))
	}
	var sc struct {
		ExportID string           `json:"export_id"`
		Muted    []map[string]any `json:"muted"`
	}
	if err := json.Unmarshal(sidecar, &sc); err != nil || sc.ExportID == "" || len(sc.Muted) != 3 { // both channels of 2-2.5, the caller's of 0.5-1.25
		t.Fatalf("sidecar %s: %v", sidecar, err)
	}
	pw := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(pw, []byte(managerPW+"\n"), 0o600)
	out := filepath.Join(t.TempDir(), "cli.wav")
	code, _, stderr := c.cli(t, "export", call.UUID, "--as", "mona", "--password-file", pw, "--purpose", "training",
		"--reason", trainingReason, "--out", out, "--mute", "caller:0.5-1.25", "--mute", "2-2.5")
	if code != 0 {
		t.Fatalf("cli export: exit %d: %s", code, stderr)
	}
	cliWAV, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(wav, cliWAV) {
		t.Fatalf("the web's export (%d bytes) differs from the CLI's (%d bytes)", len(wav), len(cliWAV))
	}
	if n := c.auditCount(t, "export", "ok", ""); n != 2 {
		t.Errorf("%d export entries, want 2 (web and CLI)", n)
	}
}

// testDSAR: the security officer downloads a caller's access archive by number; it holds that
// caller's calls and not the number.
func (c *console) testDSAR(t *testing.T) {
	ctx := newTab(t)
	c.login(t, ctx, "olga", officerPW, "#users")
	if err := chromedp.Do(ctx,
		chromedp.Navigate(c.url+"/dsar"),
		chromedp.WaitVisible(chromedp.CSS("#dsar-form")),
		fill("#dnumber", "+47 91 23 45 67"),
		fill("#dreason", "access request by letter, case 2026-118"),
	); err != nil {
		t.Fatal(err)
	}
	screenshot(t, ctx, "web-dsar")
	files := unzip(t, download(t, ctx, chromedp.Click(chromedp.CSS("#dsar"))))
	var m struct {
		Calls []struct {
			UUID string `json:"uuid"`
		} `json:"calls"`
	}
	if err := json.Unmarshal(files["manifest.json"], &m); err != nil {
		t.Fatalf("manifest.json: %v", err)
	}
	if len(m.Calls) != 2 {
		t.Errorf("%d calls in the archive, want the caller's 2", len(m.Calls))
	}
	for name, b := range files {
		for _, n := range callerData {
			if bytes.Contains(b, []byte(n)) {
				t.Errorf("%s holds caller data %q", name, n)
			}
		}
	}
	if n := c.auditCount(t, "dsar", "ok", ""); n != 1 {
		t.Errorf("%d dsar entries, want 1", n)
	}
}

// testWithdraw: the security officer withdraws a caller's calls by number on the caller's
// behalf; the daemon deletes the audio at once, and the officer's request is audited.
func (c *console) testWithdraw(t *testing.T) {
	ctx := newTab(t)
	c.login(t, ctx, "olga", officerPW, "#users")
	call := c.granted[1] // the call of +47 22 33 44 55
	if err := chromedp.Do(ctx,
		chromedp.Navigate(c.url+"/withdraw"),
		chromedp.WaitVisible(chromedp.CSS("#withdraw-form")),
		fill("#wnumber", "+47 22 33 44 55"),
		fill("#wreason", "caller asked by phone, ticket 5120"),
		chromedp.Click(chromedp.CSS("#withdraw")),
		chromedp.WaitVisible(chromedp.CSS("#withdraw-result")),
	); err != nil {
		t.Fatal(err)
	}
	if got := text(t, ctx, "#withdraw-result"); !strings.Contains(got, "1 call(s) withdrawn") || !strings.Contains(got, "1 file(s) deleted") || !strings.Contains(got, call.UUID) {
		t.Errorf("withdrawal result: %q", got)
	}
	screenshot(t, ctx, "web-withdraw")
	if _, err := os.Stat(call.Recording.Path); !os.IsNotExist(err) {
		t.Errorf("the recording is still there: %v", err)
	}
	if n := c.auditCount(t, "withdraw", "ok", call.UUID); n < 1 {
		t.Error("the officer's withdrawal is not in the audit log")
	}
}

// testWithdrawExported: a call with training exports withdrawn by its id; the page lists the
// copies to have removed (the web's and the CLI's export of TrainingExport).
func (c *console) testWithdrawExported(t *testing.T) {
	ctx := newTab(t)
	c.login(t, ctx, "olga", officerPW, "#users")
	call := c.granted[0]
	if err := chromedp.Do(ctx,
		chromedp.Navigate(c.url+"/withdraw"),
		chromedp.WaitVisible(chromedp.CSS("#withdraw-form")),
		fill("#wcall", strings.ToUpper(call.UUID)),
		fill("#wreason", "caller asked by letter, ticket 5121"),
		chromedp.Click(chromedp.CSS("#withdraw")),
		chromedp.WaitVisible(chromedp.CSS("#copies")),
	); err != nil {
		t.Fatal(err)
	}
	n, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#copies li").length`))
	if got := text(t, ctx, "#copies"); n != 2 || !strings.Contains(got, "mona") {
		t.Errorf("%d training copies listed, want the 2 mona made: %q", n, got)
	}
}
