package main

import (
	"sync"
	"testing"
	"time"

	"github.com/callconsent/callconsent/esl/fakefs"
)

// BenchmarkConsentFlows runs whole consent calls (prompt, key 1, durable grant, recording,
// transfer, hang-up, finalise) through the daemon and the fake FreeSWITCH in this process, many
// at once. For the daemon's share alone use `callconsent simulate` against `callconsent run`
// (BENCHMARKS.md); this one is for profiling: go test -run x -bench ConsentFlows -cpuprofile.
func BenchmarkConsentFlows(b *testing.B) {
	h := startHarness(b, fakefs.Config{FixedMediaDuration: 50 * time.Millisecond, RecordFlushInterval: 100 * time.Millisecond, RecordingsDir: b.TempDir()}, "--log-level", "warn")
	sem := make(chan struct{}, 500)
	var wg sync.WaitGroup
	b.ResetTimer()
	for range b.N {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			h.fs.Call(h.ctx, h.d.outbound.Addr().String(), fakefs.CallSpec{Script: []fakefs.Step{pressAfterNotice("1")}, HangupAfterTransfer: 200 * time.Millisecond})
		}()
	}
	wg.Wait()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "calls/s")
}
