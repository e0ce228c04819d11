package main

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// login signs user in through the login form and waits for the page after it.
func (c *console) login(t *testing.T, ctx context.Context, user, password, wait string) {
	t.Helper()
	if err := chromedp.Do(ctx,
		chromedp.Navigate(c.url+"/login"),
		chromedp.WaitVisible(chromedp.CSS("#user")),
		chromedp.SendKeys(chromedp.CSS("#user"), user),
		chromedp.SendKeys(chromedp.CSS("#password"), password),
		chromedp.Click(chromedp.CSS("#login")),
		chromedp.WaitVisible(chromedp.CSS(wait)),
	); err != nil {
		t.Fatalf("login %s: %v", user, err)
	}
	if password != "" && !strings.Contains(wait, "problem") {
		c.sessionCookie(t, ctx)
	}
}

// text is the text of the first element matching sel.
func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

// fill sets the value of the form field sel.
func fill(sel, value string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Run(ctx, chromedp.Evaluate[bool](fmt.Sprintf(`(document.querySelector(%q).value = %q, true)`, sel, value)))
		return err
	})
}

// search fills in the search form and submits it; wait is what to wait for after.
func search(t *testing.T, ctx context.Context, purpose, reason, wait string) {
	t.Helper()
	if err := chromedp.Do(ctx,
		chromedp.WaitVisible(chromedp.CSS("#search-form")),
		fill("#purpose", purpose),
		fill("#reason", reason),
		chromedp.Click(chromedp.CSS("#search")),
		chromedp.WaitVisible(chromedp.CSS(wait)),
	); err != nil {
		t.Fatalf("search: %v", err)
	}
}
