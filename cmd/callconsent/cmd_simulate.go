package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/callconsent/callconsent/consent"
	"github.com/callconsent/callconsent/esl/fakefs"
	"github.com/callconsent/callconsent/esl/fakefs/callmix"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// simulateOptions are the flags of `callconsent simulate`.
type simulateOptions struct {
	Calls          int
	Concurrency    int
	Mix            string
	Listen, Dial   string
	Talk, Prompt   time.Duration
	ConnectTimeout time.Duration
	Output         outputFormat
}

// AddFlags registers simulate's flags.
func (o *simulateOptions) AddFlags(fs *pflag.FlagSet) {
	fs.IntVar(&o.Calls, "calls", 100, "number of calls to place")
	fs.IntVar(&o.Concurrency, "concurrency", 10, "calls in flight at once")
	fs.StringVar(&o.Mix, "mix", "consent=60,decline=20,no-input=10,hangup=10", "caller kinds and weights: consent, decline, no-input, invalid (a wrong key, then 1), early (1 at answer: must not count), hangup")
	fs.StringVar(&o.Listen, "listen", "", "address the fake FreeSWITCH listens on for callconsent's control connection (default: the freeswitch setting)")
	fs.StringVar(&o.Dial, "dial", "", "address of callconsent's outbound-socket listener that calls dial (default: the esl-listen setting)")
	fs.DurationVar(&o.Talk, "talk", 1200*time.Millisecond, "how long a transferred caller talks to the employee before hanging up")
	fs.DurationVar(&o.Prompt, "prompt", 100*time.Millisecond, "how long the fake plays the rest of a notice and every other prompt; the first min-notice always plays in full")
	fs.DurationVar(&o.ConnectTimeout, "connect-timeout", 45*time.Second, "how long to wait for callconsent's control connection")
	addOutputFlag(fs, &o.Output)
}

// Bounds of simulate's flags: a plan of --calls entries is made up front, every call in flight
// holds two sockets, and a prompt or talk time beyond them is a typo, not a test.
const (
	maxSimCalls       = 1_000_000
	maxSimConcurrency = 5000
	maxSimPrompt      = time.Minute
	maxSimWait        = 10 * time.Minute
)

// validate checks the flags' ranges, each error naming the flag and its range.
func (o simulateOptions) validate() error {
	switch {
	case o.Calls < 1 || o.Calls > maxSimCalls:
		return invalidf("simulate: --calls %d: must be 1..%d", o.Calls, maxSimCalls)
	case o.Concurrency < 1 || o.Concurrency > maxSimConcurrency:
		return invalidf("simulate: --concurrency %d: must be 1..%d (every call in flight holds two sockets)", o.Concurrency, maxSimConcurrency)
	case o.Prompt <= 0 || o.Prompt > maxSimPrompt:
		return invalidf("simulate: --prompt %s: must be more than 0 and at most %s", o.Prompt, maxSimPrompt)
	case o.Talk < 0 || o.Talk > maxSimWait:
		return invalidf("simulate: --talk %s: must be 0..%s", o.Talk, maxSimWait)
	case o.ConnectTimeout <= 0 || o.ConnectTimeout > maxSimWait:
		return invalidf("simulate: --connect-timeout %s: must be more than 0 and at most %s", o.ConnectTimeout, maxSimWait)
	}
	return nil
}

func newSimulateCommand(g *globalOptions) *cobra.Command {
	var opts simulateOptions
	cmd := &cobra.Command{
		Use:   "simulate",
		Short: "Play a fake FreeSWITCH with scripted callers against a running callconsent",
		Long: `Simulate starts a fake FreeSWITCH that speaks the event socket exactly as FreeSWITCH
1.11 does: it listens for callconsent's control connection (like port 8021) and places
calls by dialling callconsent's outbound-socket listener (like the dialplan's socket
application). Its callers press 1, 2, nothing, a wrong key, a key before the notice, or
hang up, in the proportions of --mix. Recordings are real stereo WAV files written where
callconsent asks.

It prints calls by caller kind, recordings written, errors (any caller recorded without
pressing 1, or not transferred), and the latency from the moment the prompt accepted the
caller's 1 to the arrival of record_session, which includes the durable commit of the
grant. It exits 4 if any call was handled wrongly.

` + exitCodesHelp,
		Example: `  callconsent --data-dir ./data run &          # the daemon, in a trial folder
  callconsent --data-dir ./data simulate --calls 200 --concurrency 20
  callconsent --data-dir ./data simulate --calls 5000 --concurrency 500 --mix consent=1 --output json`,
		Args: exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := g.Config(cmd)
			if err != nil {
				return err
			}
			return runSimulate(cmd.Context(), cfg, opts, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	opts.AddFlags(cmd.Flags())
	return cmd
}

func runSimulate(ctx context.Context, cfg *Config, opts simulateOptions, out, logs io.Writer) error {
	if err := opts.validate(); err != nil {
		return err
	}
	mix, err := callmix.ParseMix(opts.Mix)
	if err != nil {
		return invalidf("simulate: --mix: %v", err)
	}
	password, err := cfg.ESLPassword()
	if err != nil {
		return err
	}
	fs := fakefs.New(fakefs.Config{
		Addr:               cmp.Or(opts.Listen, cfg.FreeSWITCH),
		Password:           password,
		FixedMediaDuration: opts.Prompt,
		ShutdownDelay:      100 * time.Millisecond,
		MaxCommands:        1, // the summary comes from the call results, not the command log
		// The WAVs still grow while a call lasts, in fewer, larger writes: the fake's disk work
		// is FreeSWITCH's cost, and on a shared machine it would be charged to callconsent.
		RecordFlushInterval: 500 * time.Millisecond,
		Logger:              slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	if err := fs.Open(ctx); err != nil {
		return fmt.Errorf("fake freeswitch: %w", err)
	}
	defer fs.Close()
	fmt.Fprintf(logs, "fake FreeSWITCH listening on %s; waiting up to %s for callconsent to connect...\n", fs.Addr(), opts.ConnectTimeout)
	if err := waitControl(ctx, fs, opts.ConnectTimeout, logs); err != nil {
		return err
	}
	fmt.Fprintf(logs, "callconsent connected; placing %d calls, %d at once\n", opts.Calls, opts.Concurrency)
	bar := newProgressBar(logs, opts.Calls, "calls")
	errs := 0
	done := func(r callmix.Result) {
		bar.Add(1)
		if r.Mismatch != "" {
			errs++
			bar.Describe(fmt.Sprintf("calls (%d handled wrongly)", errs))
		}
	}
	start := time.Now()
	load := callmix.Load{Fake: fs, Daemon: cmp.Or(opts.Dial, cfg.ESLListen), Concurrency: opts.Concurrency, Talk: opts.Talk, Done: done}
	results := load.Run(ctx, callmix.Plan(opts.Calls, mix))
	bar.Finish()
	report := callmix.Summarize(results, time.Since(start), opts.Concurrency)
	if opts.Output == outputJSON {
		err = writeJSON(out, report)
	} else {
		report.WriteText(out)
	}
	if err == nil && ctx.Err() != nil {
		// Stopped by a signal: calls cut short are no verdict on the daemon (exit 130, not 4).
		err = fmt.Errorf("simulate: interrupted; the report above counts calls cut short as errors: %w", ctx.Err())
	}
	if err == nil && report.Errors > 0 {
		err = consent.Errorf(consent.ECONFLICT, "simulate: %d of %d calls were handled wrongly", report.Errors, report.Calls)
	}
	return err
}

// waitControl waits for callconsent's control connection; on a terminal a bar on logs shows
// the seconds waited out of timeout.
func waitControl(ctx context.Context, fs *fakefs.Server, timeout time.Duration, logs io.Writer) error {
	start := time.Now()
	deadline := start.Add(timeout)
	bar := newProgressBar(logs, int(timeout.Seconds()+0.5), "waiting for callconsent to connect (s)")
	defer bar.Finish()
	for fs.InboundConns() == 0 {
		bar.Set(int(time.Since(start).Seconds()))
		if time.Now().After(deadline) {
			return fmt.Errorf("simulate: callconsent did not connect within %s: is 'callconsent run' running with the same --data-dir (or freeswitch setting and password)?", timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return nil
}
