package callmix

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"time"
)

// Report is the summary of a run; also `simulate --output json`, whose field names are a
// contract for scripts.
type Report struct {
	Calls       int            `json:"calls"`
	Seconds     float64        `json:"seconds"`
	CallsPerSec float64        `json:"calls_per_second"`
	Concurrency int            `json:"concurrency"`
	ByKind      map[string]int `json:"by_caller"`
	Recordings  int            `json:"recordings_written"`
	Bytes       int64          `json:"recording_bytes"`
	Transfers   int            `json:"transfers"`
	Errors      int            `json:"errors"`
	FirstErrors []string       `json:"first_errors,omitempty"`
	// Latency from the moment the prompt accepted "1" to the arrival of record_session at
	// FreeSWITCH: the daemon's reaction, including the durable commit of the grant.
	LatencyP50MS float64 `json:"digit_to_record_p50_ms"`
	LatencyP99MS float64 `json:"digit_to_record_p99_ms"`
	LatencyMaxMS float64 `json:"digit_to_record_max_ms"`
	LatencyN     int     `json:"digit_to_record_samples"`
}

// maxListedErrors is how many mismatches a Report lists; Errors counts them all.
const maxListedErrors = 10

// Summarize reports on the results of a run that took elapsed with conc calls at once.
func Summarize(results []Result, elapsed time.Duration, conc int) Report {
	r := Report{Calls: len(results), Seconds: elapsed.Seconds(), Concurrency: conc, ByKind: map[string]int{}}
	r.CallsPerSec = float64(r.Calls) / r.Seconds
	var lat []time.Duration
	for _, s := range results {
		r.ByKind[s.Kind]++
		for _, rec := range s.Call.Recordings {
			r.Recordings++
			r.Bytes += rec.FileSize
		}
		for _, a := range s.Call.Apps {
			if a == "transfer" {
				r.Transfers++
				break
			}
		}
		if s.Mismatch != "" {
			r.Errors++
			if len(r.FirstErrors) < maxListedErrors {
				r.FirstErrors = append(r.FirstErrors, s.Call.UUID+": "+s.Mismatch)
			}
		}
		if !s.Call.DigitAccepted.IsZero() && !s.Call.RecordSessionAt.IsZero() {
			lat = append(lat, s.Call.RecordSessionAt.Sub(s.Call.DigitAccepted))
		}
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	if n := len(lat); n > 0 {
		ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
		r.LatencyN = n
		r.LatencyP50MS = ms(lat[n/2])
		r.LatencyP99MS = ms(lat[min(n-1, n*99/100)])
		r.LatencyMaxMS = ms(lat[n-1])
	}
	return r
}

// WriteText writes the report for a person: calls by kind, recordings, transfers, latency, and
// the first errors with how many more there were.
func (r Report) WriteText(w io.Writer) {
	fmt.Fprintf(w, "calls:        %d in %.1f s (%.1f calls/s), concurrency %d\n", r.Calls, r.Seconds, r.CallsPerSec, r.Concurrency)
	fmt.Fprintf(w, "by caller:   ")
	for _, k := range slices.Sorted(maps.Keys(r.ByKind)) {
		fmt.Fprintf(w, " %s=%d", k, r.ByKind[k])
	}
	fmt.Fprintf(w, "\nrecordings:   %d written (%d bytes)\ntransfers:    %d\n", r.Recordings, r.Bytes, r.Transfers)
	fmt.Fprintf(w, "digit→record_session: p50 %.2f ms, p99 %.2f ms, max %.2f ms (%d calls)\n", r.LatencyP50MS, r.LatencyP99MS, r.LatencyMaxMS, r.LatencyN)
	fmt.Fprintf(w, "errors:       %d\n", r.Errors)
	for _, e := range r.FirstErrors {
		fmt.Fprintf(w, "  %s\n", e)
	}
	if more := r.Errors - len(r.FirstErrors); more > 0 {
		fmt.Fprintf(w, "  … and %d more\n", more)
	}
}
