package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/callconsent/callconsent/consent"
	"github.com/callconsent/callconsent/recordings"
)

const (
	uuidGranted  = "6f1c2a4e-9d3b-4c7a-8e21-0b5d7f3a9c11"
	uuidDeclined = "0a6b7c8d-1e2f-4a5b-8c6d-7e8f9a0b1c2d"
	uuidNoInput  = "9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b"
	noticeSum    = "b086a40e374868aacda110a0565b4c83f01c3971c50a048cf1c74c1726cda005"
)

var day = time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)

// testConfig returns a valid configuration with everything below a fresh temporary folder.
func testConfig(t *testing.T, args ...string) *Config {
	t.Helper()
	args = append([]string{"--data-dir", t.TempDir()}, args...)
	cfg, err := LoadConfig("", false, testFlags(t, args...))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// seedCalls stores three calls on consecutive days through the real store: a grant with a
// complete recording (day 1), a decline (day 2), a no-input that was later withdrawn (day 3).
// It returns the caller pseudonym of the granted call.
func seedCalls(t *testing.T, cfg *Config) string {
	t.Helper()
	ctx := context.Background()
	st, err := openStore(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	db := st.DB
	caller := st.Pseudonyms.Pseudonym("+47 22 33 44 55")
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	for i, c := range []struct {
		uuid   string
		d      consent.Decision
		digit  string
		caller string
	}{
		{uuidGranted, consent.DecisionGranted, "1", caller},
		{uuidDeclined, consent.DecisionDeclined, "2", st.Pseudonyms.Pseudonym("004791234567")},
		{uuidNoInput, consent.DecisionNoInput, "", consent.AnonymousPseudonym},
	} {
		start := day.Add(time.Duration(i)*24*time.Hour + 9*time.Hour)
		must(db.CreateCall(ctx, &consent.Call{UUID: c.uuid, CallerPseudonym: c.caller, Language: "nb", StartedAt: start}))
		proof := &consent.Proof{DecidedAt: start.Add(20 * time.Second), Digit: c.digit,
			Tries: i + 1, NoticeVersion: "2026-11-26.1", NoticeSHA256: noticeSum, Language: "nb", HeardMS: 72_340}
		if c.d == consent.DecisionGranted {
			must(db.Grant(ctx, c.uuid, proof, &consent.Recording{CallUUID: uuidGranted, State: consent.RecordingPending,
				StartedAt: day.Add(9*time.Hour + 21*time.Second), Path: recordings.Path(cfg.RecordingsDir, uuidGranted, day)}))
		} else {
			must(db.DecideCall(ctx, c.uuid, c.d, proof))
		}
		must(db.EndCall(ctx, c.uuid, start.Add(5*time.Minute)))
	}
	must(db.UpdateRecording(ctx, uuidGranted, consent.RecordingRecording, consent.RecordingUpdate{}))
	must(db.UpdateRecording(ctx, uuidGranted, consent.RecordingComplete, consent.RecordingUpdate{
		EndedAt: day.Add(9*time.Hour + 86*time.Second), DurationMS: 65_000, Bytes: 2_080_044}))
	_, err = db.Withdraw(ctx, consent.Withdrawal{CallUUID: uuidNoInput, At: day.Add(80 * time.Hour), Reason: "test"})
	must(err)
	return caller
}

func listCalls(t *testing.T, cfg *Config, opts callsListOptions) string {
	t.Helper()
	var out bytes.Buffer
	if opts.Output == "" {
		opts.Output = outputTable
	}
	if err := runCallsList(context.Background(), cfg, opts, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

func TestRunCallsList(t *testing.T) {
	// A query on a folder where nothing was stored yet lists no calls and creates nothing: not
	// the database, not the key (a query opens the database read-only).
	t.Run("MissingDatabase", func(t *testing.T) {
		cfg := testConfig(t)
		var out, logs bytes.Buffer
		if err := runCallsList(context.Background(), cfg, callsListOptions{Output: outputJSON}, &out, &logs); err != nil || out.String() != "[]\n" {
			t.Fatalf("output %q (%v), want %q", out.String(), err, "[]\n")
		}
		if want := "callconsent: no database at " + cfg.DB + " yet, so no calls (check --db or --data-dir if there should be)\n"; logs.String() != want {
			t.Errorf("stderr %q, want %q", logs.String(), want)
		}
		err := runCallsShow(context.Background(), cfg, callsShowOptions{}, uuidGranted, io.Discard)
		if want := "call " + uuidGranted + " not found: there is no database at " + cfg.DB + " yet (check --db or --data-dir)"; consent.ErrorCode(err) != consent.ENOTFOUND || consent.ErrorMessage(err) != want {
			t.Errorf("calls show: %v, want ENOTFOUND %q", err, want)
		}
		if entries, _ := os.ReadDir(filepath.Dir(cfg.DB)); len(entries) != 0 {
			t.Errorf("a query created %v", entries)
		}
	})

	// A query changes no call; its one write is its audit entry (issue 9: the host operator's
	// reads of personal data are audited, actor the OS account), made before it prints.
	t.Run("ReadOnlyButAudited", func(t *testing.T) {
		cfg := testConfig(t)
		seedCalls(t, cfg)
		before := listCalls(t, cfg, callsListOptions{Output: outputJSON})
		if err := runCallsShow(context.Background(), cfg, callsShowOptions{Reason: "ticket 12"}, uuidGranted, io.Discard); err != nil {
			t.Fatal(err)
		}
		if after := listCalls(t, cfg, callsListOptions{Output: outputJSON}); after != before {
			t.Errorf("a query changed the calls:\n%s\n%s", before, after)
		}
		audit := auditTable(t, cfg.DB)
		if n := strings.Count(audit, " host-read "); n != 3 || !strings.Contains(audit, "ticket 12") || !strings.Contains(audit, uuidGranted) {
			t.Errorf("want 3 host-read entries, one with the reason, naming the call:\n%s", audit)
		}
	})

	cfg := testConfig(t)
	caller := seedCalls(t, cfg)

	t.Run("Table", func(t *testing.T) {
		out := listCalls(t, cfg, callsListOptions{})
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if len(lines) != 4 || !strings.HasPrefix(lines[0], "UUID") {
			t.Fatalf("want header and 3 rows:\n%s", out)
		}
		if !strings.HasPrefix(lines[1], uuidNoInput) || !strings.HasPrefix(lines[3], uuidGranted) {
			t.Errorf("want newest first:\n%s", out)
		}
		for _, want := range []string{"2026-03-10 09:00:00", caller[:12], "granted", "complete", "1m5s", "nb/2026-11-26.1", "no-input (withdrawn)"} {
			if !strings.Contains(out, want) {
				t.Errorf("table lacks %q:\n%s", want, out)
			}
		}
		if strings.Contains(out, caller) || strings.Contains(out, "22334455") || strings.Contains(out, "22 33") {
			t.Errorf("table shows a full pseudonym or a number:\n%s", out)
		}
	})

	t.Run("JSON", func(t *testing.T) {
		var calls []callJSON
		if err := json.Unmarshal([]byte(listCalls(t, cfg, callsListOptions{Output: outputJSON})), &calls); err != nil {
			t.Fatal(err)
		}
		if len(calls) != 3 {
			t.Fatalf("got %d calls", len(calls))
		}
		g := calls[2]
		if g.UUID != uuidGranted || g.CallerPseudonym != caller || g.Proof == nil || g.Proof.Digit != "1" ||
			g.Proof.NoticeSHA256 != noticeSum || g.Recording == nil || g.Recording.DurationMS != 65_000 || g.WithdrawnAt != nil {
			t.Errorf("granted call = %+v", g)
		}
		if calls[0].WithdrawnAt == nil || calls[0].Recording != nil {
			t.Errorf("no-input call = %+v", calls[0])
		}
	})

	t.Run("Filters", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			opts callsListOptions
			want []string
		}{
			{"Decision", callsListOptions{Decision: "declined"}, []string{uuidDeclined}},
			{"Since", callsListOptions{Since: timeFlag{day.Add(24 * time.Hour)}}, []string{uuidNoInput, uuidDeclined}},
			{"UntilExclusive", callsListOptions{Until: timeFlag{day.Add(33 * time.Hour)}}, []string{uuidGranted}},
			{"Limit", callsListOptions{Limit: 1}, []string{uuidNoInput}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				tc.opts.Output = outputJSON
				var calls []callJSON
				json.Unmarshal([]byte(listCalls(t, cfg, tc.opts)), &calls)
				var got []string
				for _, c := range calls {
					got = append(got, c.UUID)
				}
				if strings.Join(got, ",") != strings.Join(tc.want, ",") {
					t.Errorf("got %v, want %v", got, tc.want)
				}
			})
		}
	})

	t.Run("ErrInvalid", func(t *testing.T) {
		for _, opts := range []callsListOptions{
			{Decision: "yes"},
			{Limit: -1},
			{Since: timeFlag{day}, Until: timeFlag{day}},
		} {
			err := runCallsList(context.Background(), cfg, opts, &bytes.Buffer{}, io.Discard)
			if consent.ErrorCode(err) != consent.EINVALID {
				t.Errorf("%+v: err = %v, want EINVALID", opts, err)
			}
		}
	})
}

func TestRunCallsShow(t *testing.T) {
	cfg := testConfig(t)
	caller := seedCalls(t, cfg)
	ctx := context.Background()

	t.Run("OK", func(t *testing.T) {
		var out bytes.Buffer
		if err := runCallsShow(ctx, cfg, callsShowOptions{Output: outputTable}, uuidGranted, &out); err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{caller, noticeSum, "proof: digit:", "proof: tries:", "1m5s", "complete", "1m12.34s (by FreeSWITCH",
			filepath.Join(cfg.RecordingsDir, "2026", "03", "10", uuidGranted+".wav")} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("output lacks %q:\n%s", want, out.String())
			}
		}
		// The employee is not captured (FreeSWITCH's transfer does not say who answered): no
		// line may suggest otherwise.
		if strings.Contains(out.String(), "agent") {
			t.Errorf("output shows an agent, which is never captured:\n%s", out.String())
		}
	})
	t.Run("Withdrawn", func(t *testing.T) {
		var out bytes.Buffer
		if err := runCallsShow(ctx, cfg, callsShowOptions{Output: outputTable}, uuidNoInput, &out); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out.String(), "withdrawal reason:") || !strings.Contains(out.String(), " test\n") {
			t.Errorf("no withdrawal reason in:\n%s", out.String())
		}
	})
	t.Run("JSON", func(t *testing.T) {
		var out bytes.Buffer
		if err := runCallsShow(ctx, cfg, callsShowOptions{Output: outputJSON}, uuidNoInput, &out); err != nil {
			t.Fatal(err)
		}
		var c callJSON
		if err := json.Unmarshal(out.Bytes(), &c); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(out.String(), "agent") {
			t.Errorf("JSON has an agent field, which is never captured: %s", out.String())
		}
		if c.Decision != "no-input" || c.CallerPseudonym != consent.AnonymousPseudonym || c.WithdrawnAt == nil || c.Proof.Tries != 3 ||
			c.Proof.HeardMS != 72_340 || c.WithdrawalReason == "" {
			t.Errorf("call = %+v", c)
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		err := runCallsShow(ctx, cfg, callsShowOptions{}, "00000000-0000-4000-8000-000000000000", &bytes.Buffer{})
		if consent.ErrorCode(err) != consent.ENOTFOUND {
			t.Errorf("err = %v, want ENOTFOUND", err)
		}
	})
	t.Run("ErrInvalidUUID", func(t *testing.T) {
		fresh := testConfig(t)
		err := runCallsShow(ctx, fresh, callsShowOptions{}, "../../etc/passwd", &bytes.Buffer{})
		if consent.ErrorCode(err) != consent.EINVALID {
			t.Errorf("err = %v, want EINVALID", err)
		}
		if _, err := os.Stat(fresh.DB); err == nil {
			t.Errorf("a rejected argument created the database")
		}
	})
}

// TestCallsList_SaysWhenCut: a list cut short by --limit says so on stderr, in both formats,
// and a list that shows everything says nothing.
func TestCallsList_SaysWhenCut(t *testing.T) {
	dir := t.TempDir()
	cfg, err := LoadConfig("", false, testFlags(t, "--data-dir", dir))
	if err != nil {
		t.Fatal(err)
	}
	seedCalls(t, cfg)
	const note = "callconsent: showing the newest 2 calls; more match: --limit 0 shows all, --since and --until narrow the range\n"
	for _, tc := range []struct {
		args       []string
		rows       int
		wantStderr string
	}{
		{[]string{"calls", "list", "--limit", "2"}, 2, note},
		{[]string{"calls", "list", "--limit", "2", "--output", "json"}, 2, note},
		{[]string{"calls", "list", "--limit", "3"}, 3, ""},
		{[]string{"calls", "list", "--limit", "0"}, 3, ""},
	} {
		code, stdout, stderr := runArgs(t, dir, tc.args...)
		rows := 0
		for _, u := range []string{uuidGranted, uuidDeclined, uuidNoInput} {
			rows += strings.Count(stdout, u)
		}
		if code != exitOK || stderr != tc.wantStderr || rows != tc.rows {
			t.Errorf("%v: exit %d, %d rows, stderr %q; want 0, %d rows, %q\n%s", tc.args, code, rows, stderr, tc.rows, tc.wantStderr, stdout)
		}
	}
}
