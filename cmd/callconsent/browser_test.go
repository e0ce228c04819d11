package main

import (
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/callconsent/callconsent/access"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

const (
	qaPurpose = "quality-assurance"
	qaReason  = "complaint 4711 about the agent's tone"
)

// playerState is what the audio element says of itself.
type playerState struct {
	Ready int     `json:"ready"`
	Time  float64 `json:"time"`
}

func TestBrowser(t *testing.T) {
	newTab(t) // skips without Chromium, before the daemon starts
	c := startConsole(t)

	t.Run("Login", func(t *testing.T) {
		ctx := newTab(t)
		c.login(t, ctx, "mona", "wrong password here", "#problem")
		if got := text(t, ctx, "#problem"); !strings.Contains(got, "Wrong user name or password") {
			t.Errorf("wrong password: %q", got)
		}
		screenshot(t, ctx, "web-login")
		// Three failures in a row: the right password must wait, and is told so.
		c.svc.Login(c.ctx, "mona", "wrong again")
		c.svc.Login(c.ctx, "mona", "and wrong again")
		c.login(t, ctx, "mona", managerPW, "#problem")
		if got := text(t, ctx, "#problem"); !strings.Contains(got, "Too many failed sign-ins") {
			t.Errorf("throttled, right password: %q", got)
		}
		c.clock.Advance(access.FailureDelay(3) + time.Second)
		c.login(t, ctx, "lars", lockedPW, "#problem")
		if got := text(t, ctx, "#problem"); !strings.Contains(got, "locked") {
			t.Errorf("locked account, right password: %q", got)
		}
		// By keyboard alone: the user field has the focus, Tab goes to the password, Enter
		// signs in.
		if err := chromedp.Do(ctx,
			chromedp.Navigate(c.url+"/login"),
			chromedp.WaitVisible(chromedp.CSS("#user")),
			chromedp.KeyEvent("mona"),
			chromedp.KeyEvent(kb.Tab),
			chromedp.KeyEvent(managerPW),
			chromedp.KeyEvent(kb.Enter),
			chromedp.WaitVisible(chromedp.CSS("#search-form")),
		); err != nil {
			t.Fatalf("sign in by keyboard: %v", err)
		}
		if got := text(t, ctx, ".who"); !strings.Contains(got, "mona") {
			t.Errorf("signed in as %q", got)
		}
		first := c.sessionCookie(t, ctx)
		if !first.HTTPOnly || first.SameSite != network.CookieSameSiteStrict || first.Path != "/" {
			t.Errorf("session cookie: HttpOnly %v, SameSite %q, Path %q", first.HTTPOnly, first.SameSite, first.Path)
		}
		c.login(t, ctx, "mona", managerPW, "#search-form")
		if again := c.sessionCookie(t, ctx); again.Value == first.Value {
			t.Error("a new sign-in kept the session id")
		}
		// The language switch: Norwegian from then on, kept in a cookie.
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`button[name="lang"]`)), chromedp.WaitVisible(chromedp.CSS(`button[value="en"]`))); err != nil {
			t.Fatal(err)
		}
		if got := text(t, ctx, "h1"); got != "Søk i samtaler" {
			t.Errorf("after choosing Norsk: %q", got)
		}
	})

	t.Run("SearchNeedsReason", func(t *testing.T) {
		ctx := newTab(t)
		c.login(t, ctx, "mona", managerPW, "#search-form")
		before := c.auditCount(t, "search", "denied", "")
		search(t, ctx, qaPurpose, "", "#problem")
		if got := text(t, ctx, "#problem"); !strings.Contains(got, "reason") {
			t.Errorf("search without a reason: %q", got)
		}
		n, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#results tbody tr").length`))
		if n != 0 {
			t.Errorf("%d results shown without a reason", n)
		}
		if after := c.auditCount(t, "search", "denied", ""); after != before+1 {
			t.Errorf("denied searches audited: %d → %d, want one more", before, after)
		}
	})

	t.Run("SearchAndListen", func(t *testing.T) {
		ctx := newTab(t)
		c.login(t, ctx, "mona", managerPW, "#search-form")
		search(t, ctx, qaPurpose, qaReason, "#results")
		rows, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#results tbody tr").length`))
		if rows != 3 {
			t.Fatalf("%d results, want the 3 calls", rows)
		}
		screenshot(t, ctx, "web-search")
		call := c.granted[0]
		if err := chromedp.Do(ctx,
			chromedp.Click(chromedp.CSS(fmt.Sprintf(`form[action="/calls/%s"] button`, call.UUID))),
			chromedp.WaitVisible(chromedp.CSS("#proof")),
		); err != nil {
			t.Fatal(err)
		}
		if got := text(t, ctx, "#proof"); !strings.Contains(got, call.Proof.NoticeVersion) || !strings.Contains(got, "pressed 1 (consent given)") {
			t.Errorf("proof in words: %q", got)
		}
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#listen")), chromedp.WaitVisible(chromedp.CSS("#player"))); err != nil {
			t.Fatal(err)
		}
		var state playerState
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById("player").play().then(() => true)`, chromedp.EvalAwaitPromise)); err != nil {
			t.Fatalf("play: %v", err)
		}
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) {
			state, _ = chromedp.Run(ctx, chromedp.Evaluate[playerState](`({ready: document.getElementById("player").readyState, time: document.getElementById("player").currentTime})`))
			if state.Ready >= 2 && state.Time > 0.3 {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if state.Ready < 2 || state.Time <= 0.3 {
			t.Fatalf("the player did not play: readyState %d, currentTime %.2f", state.Ready, state.Time)
		}
		// Seek: another range request of the same listen.
		chromedp.Run(ctx, chromedp.Evaluate[float64](`document.getElementById("player").currentTime = 0.1`))
		screenshot(t, ctx, "web-call")
		if n := c.auditCount(t, "listen", "ok", call.UUID); n != 1 {
			t.Errorf("%d listen entries for one listen with seeking, want 1", n)
		}
		// The training export's page: a range drawn on the timeline lands in the typed field.
		if err := chromedp.Do(ctx,
			chromedp.Click(chromedp.CSS("#export-open")),
			chromedp.WaitVisible(chromedp.CSS("#track")),
		); err != nil {
			t.Fatal(err)
		}
		box, err := chromedp.Run(ctx, chromedp.Evaluate[[]float64](`(r => [r.left, r.top, r.width, r.height])(document.getElementById("track").getBoundingClientRect())`))
		if err != nil {
			t.Fatal(err)
		}
		y := box[1] + box[3]/2
		if err := chromedp.Do(ctx,
			chromedp.MouseEvent(input.DispatchMouseEventTypeMousePressed, box[0]+box[2]*0.25, y, chromedp.ButtonLeft),
			chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, box[0]+box[2]*0.4, y, chromedp.ButtonLeft),
			chromedp.MouseEvent(input.DispatchMouseEventTypeMouseReleased, box[0]+box[2]*0.5, y, chromedp.ButtonLeft),
		); err != nil {
			t.Fatal(err)
		}
		mutes, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("mutes").value`))
		secs := float64(call.Recording.DurationMS) / 1000
		var a, b float64
		if _, err := fmt.Sscanf(mutes, "%g-%g", &a, &b); err != nil || math.Abs(a-secs*0.25) > 0.1 || math.Abs(b-secs*0.5) > 0.1 {
			t.Errorf("drawn range %q, want about %.2f-%.2f", mutes, secs*0.25, secs*0.5)
		}
		screenshot(t, ctx, "web-export")
		if os.Getenv("CALLCONSENT_SCREENSHOTS") != "" { // the search again, on a phone
			chromedp.Do(ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2)), chromedp.Navigate(c.url+"/search"))
			search(t, ctx, qaPurpose, qaReason, "#results")
			screenshot(t, ctx, "web-search-phone")
		}
	})

	t.Run("TrainingExport", c.testTrainingExport)
	t.Run("DSAR", c.testDSAR)
	t.Run("Withdraw", c.testWithdraw)
	t.Run("WithdrawExported", c.testWithdrawExported)

	t.Run("CrossOriginRefused", func(t *testing.T) {
		ctx := newTab(t)
		c.login(t, ctx, "olga", officerPW, "#users")
		// A page on another port of the same host: same site, another origin. Its form would
		// carry olga's SameSite=Strict cookie; the console refuses it by its origin.
		evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprintf(w, `<!doctype html><form method="post" action="%s/users/mona/disable"><input name="reason" value="taken over by another site"></form>
<script>document.forms[0].submit()</script>`, c.url)
		}))
		defer evil.Close()
		if err := chromedp.Do(ctx, chromedp.Navigate(evil.URL), chromedp.WaitVisible(chromedp.CSS("#problem"))); err != nil {
			t.Fatal(err)
		}
		if got := text(t, ctx, "#problem"); !strings.Contains(got, "another web page") {
			t.Errorf("cross-origin post: %q", got)
		}
		users, err := c.svc.Users(c.ctx, c.officer)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range users {
			if u.Name == "mona" && u.Disabled {
				t.Fatal("a cross-origin form disabled mona")
			}
		}
	})

	t.Run("PasswordReset", func(t *testing.T) {
		off, mgr := newTab(t), newTab(t)
		c.login(t, off, "olga", officerPW, "#users")
		const given, own = "given by olga this morning", "chosen by herself alone"
		if err := chromedp.Do(off,
			chromedp.SendKeys(chromedp.CSS("#pw-mona"), given),
			chromedp.Click(chromedp.CSS(`form[action="/users/mona/password"] button`)),
			chromedp.WaitVisible(chromedp.CSS("#notice")),
		); err != nil {
			t.Fatal(err)
		}
		// mona signs in with it: no session, the form to set her own instead.
		c.login(t, mgr, "mona", given, "#problem")
		if err := chromedp.Do(mgr, chromedp.WaitVisible(chromedp.CSS(`#password-form[action="/password/new"]`))); err != nil {
			t.Fatal(err)
		}
		if got := text(t, mgr, "#problem"); !strings.Contains(got, "set by the security officer") {
			t.Errorf("sign-in with the given password: %q", got)
		}
		screenshot(t, mgr, "web-password")
		if err := chromedp.Do(mgr,
			chromedp.SendKeys(chromedp.CSS("#current"), given),
			chromedp.SendKeys(chromedp.CSS("#new"), own),
			chromedp.SendKeys(chromedp.CSS("#again"), own),
			chromedp.Click(chromedp.CSS("#setpassword")),
		); err != nil {
			t.Fatal(err)
		}
		search(t, mgr, qaPurpose, qaReason, "#results")
		c.sessionCookie(t, mgr)
		// Back to the password the later steps sign in with, through the header's page.
		if err := chromedp.Do(mgr,
			chromedp.Click(chromedp.CSS("#password-link")),
			chromedp.WaitVisible(chromedp.CSS("#password-form")),
			chromedp.SendKeys(chromedp.CSS("#current"), own),
			chromedp.SendKeys(chromedp.CSS("#new"), managerPW),
			chromedp.SendKeys(chromedp.CSS("#again"), managerPW),
			chromedp.Click(chromedp.CSS("#setpassword")),
			chromedp.WaitVisible(chromedp.CSS("#notice")),
		); err != nil {
			t.Fatal(err)
		}
		if got := text(t, mgr, "#notice"); !strings.Contains(got, "Your password was changed") {
			t.Errorf("after the change: %q", got)
		}
		c.sessionCookie(t, mgr)
	})

	t.Run("RevokeRefusesOtherSession", func(t *testing.T) {
		mgr, off := newTab(t), newTab(t)
		c.login(t, mgr, "mona", managerPW, "#search-form")
		search(t, mgr, qaPurpose, qaReason, "#results")
		c.login(t, off, "olga", officerPW, "#users")
		screenshot(t, off, "web-users")
		sel := fmt.Sprintf(`form[action="/grants/%d/revoke"]`, c.grantID)
		if err := chromedp.Do(off,
			chromedp.Navigate(c.url+"/grants"),
			chromedp.WaitVisible(chromedp.CSS(sel)),
		); err != nil {
			t.Fatal(err)
		}
		screenshot(t, off, "web-grants")
		if err := chromedp.Do(off,
			chromedp.SendKeys(chromedp.CSS(sel+" input"), "mona moved to another team today"),
			chromedp.Click(chromedp.CSS(sel+" button")),
			chromedp.WaitVisible(chromedp.CSS("#notice")),
		); err != nil {
			t.Fatal(err)
		}
		search(t, mgr, qaPurpose, qaReason, "#problem")
		if got := text(t, mgr, "#problem"); !strings.Contains(got, "revoked") {
			t.Errorf("search after the revocation: %q", got)
		}
		if err := chromedp.Do(off, chromedp.Navigate(c.url+"/audit"), chromedp.WaitVisible(chromedp.CSS("#chain"))); err != nil {
			t.Fatal(err)
		}
		if got := text(t, off, "#chain"); !strings.Contains(got, "intact") {
			t.Errorf("chain verification: %q", got)
		}
		screenshot(t, off, "web-audit")
	})

	t.Run("NoSecretsInLogs", func(t *testing.T) {
		logs := c.logs.String()
		for _, secret := range append([]string{officerPW, managerPW, lockedPW, "given by olga this morning", "chosen by herself alone", "not the password", "wrong password here", "22334455", "22 33 44 55"}, c.sessionIDs...) {
			if strings.Contains(logs, secret) {
				t.Errorf("the log holds a password or a session id (%.6s…)", secret)
			}
		}
	})

	t.Run("ExpiredSession", func(t *testing.T) {
		ctx := newTab(t)
		c.login(t, ctx, "olga", officerPW, "#users")
		c.clock.Advance(access.DefaultIdleTimeout + time.Minute)
		if err := chromedp.Do(ctx, chromedp.Navigate(c.url+"/grants"), chromedp.WaitVisible(chromedp.CSS("#login-form"))); err != nil {
			t.Fatal(err)
		}
		if got := text(t, ctx, "#problem"); !strings.Contains(got, "Your session has ended") {
			t.Errorf("after the idle timeout: %q", got)
		}
	})
}
