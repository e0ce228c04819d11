package main

import (
	"io"
	"os"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// isTerminal reports whether w is a terminal. Progress is drawn only there: a pipe, a log file
// or a test buffer gets no carriage returns and escape codes.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// progressBar is a progress bar on the operator's terminal. A nil *progressBar, which
// newProgressBar returns when the output is not a terminal, does nothing.
type progressBar struct{ bar *progressbar.ProgressBar }

// newProgressBar returns a bar of max steps labelled desc on w, or nil when w is no terminal.
func newProgressBar(w io.Writer, max int, desc string) *progressBar {
	if !isTerminal(w) {
		return nil
	}
	return drawProgressBar(w, max, desc)
}

// drawProgressBar draws on w whatever it is; tests use it to see what a terminal shows.
func drawProgressBar(w io.Writer, max int, desc string) *progressBar {
	return &progressBar{progressbar.NewOptions(max,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(desc),
		progressbar.OptionSetWidth(30),
		progressbar.OptionShowCount(),
		progressbar.OptionSetElapsedTime(true),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionSetRenderBlankState(true),
	)}
}

// Set moves the bar to n.
func (p *progressBar) Set(n int) {
	if p != nil {
		p.bar.Set(n)
	}
}

// Add moves the bar n steps on.
func (p *progressBar) Add(n int) {
	if p != nil {
		p.bar.Add(n)
	}
}

// Describe changes the label.
func (p *progressBar) Describe(desc string) {
	if p != nil {
		p.bar.Describe(desc)
	}
}

// ChangeMax changes the number of steps, for work whose size is known only once it started.
func (p *progressBar) ChangeMax(max int) {
	if p != nil {
		p.bar.ChangeMax(max)
	}
}

// Show draws the bar now, as it stands, while it has not moved yet (the bar otherwise draws
// at most every 100 ms).
func (p *progressBar) Show() {
	if p != nil {
		p.bar.RenderBlank()
	}
}

// Finish clears the bar from the terminal, so that the report that follows stands alone.
func (p *progressBar) Finish() {
	if p != nil {
		p.bar.Finish()
		p.bar.Clear()
	}
}

// aboveBar is a log writer for a command that draws a bar on the same terminal: each line it
// writes first clears the bar, which draws itself again below at its next step, so that a log
// line never lands in the middle of the bar.
type aboveBar struct {
	mu  sync.Mutex
	w   io.Writer
	bar *progressBar
}

func (a *aboveBar) Write(p []byte) (int, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.bar != nil {
		a.bar.bar.Clear()
	}
	return a.w.Write(p)
}
