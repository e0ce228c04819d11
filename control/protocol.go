// Package control is the daemon's unix control socket: the protocol the command-line tools
// speak with the running daemon (`status`, `withdraw`), the Server the daemon runs and the
// Client the commands use.
//
// The protocol is one request per connection: the client writes one line of JSON (a
// Request), the server answers with one line of JSON (a Response) and closes. Only pseudonyms
// travel over the socket; the CLI pseudonymises a caller number before it asks. The socket is
// mode 0600 (the service account and root), but every buffer, wait and connection count is
// bounded all the same: a stuck or runaway client must not grow the daemon or keep `status`
// from answering the next health check.
package control

import (
	"context"
	"time"

	"github.com/callconsent/callconsent/consent"
	"github.com/callconsent/callconsent/retention"
)

// The operations a Request names.
const (
	OpWithdraw = "withdraw" // withdraw consent and delete the audio (Request.Withdraw)
	OpStatus   = "status"   // the daemon's health (Response.Status)
)

// Request is one request on the control socket: a line of JSON.
type Request struct {
	Op       string                   `json:"op"` // OpWithdraw or OpStatus
	Withdraw *consent.WithdrawRequest `json:"withdraw,omitempty"`
}

// Response is the daemon's answer, one line of JSON.
type Response struct {
	Withdraw *consent.WithdrawResult `json:"withdraw,omitempty"`
	Status   *Status                 `json:"status,omitempty"`
	Code     string                  `json:"code,omitempty"` // consent error code when failed
	Error    string                  `json:"error,omitempty"`
}

// Status is what `callconsent status` shows: health for the IT team (R-SEC-4). Counts only;
// nothing about a caller.
type Status struct {
	Ready     bool      `json:"freeswitch_connected"`
	LiveCalls int       `json:"live_calls"`
	Since     time.Time `json:"running_since"`
	// Alarms are the retention alarms that are active: what keeps deletions the policy requires
	// from happening (a stuck file, a guard holding a sweep back, a missing folder), and
	// recovered panics, which stay until a restart. Never nil.
	Alarms  []retention.Alarm `json:"alarms"`
	Metrics string            `json:"metrics"` // Prometheus text format
	// Decisions, RecordingTransitions and Counters are Metrics by name, for status --output
	// json: decisions by decision, recording transitions by state, and every other counter and
	// gauge by its Prometheus name without the callconsent_ prefix. nil from a daemon older
	// than these fields.
	Decisions            map[string]uint64  `json:"decisions,omitempty"`
	RecordingTransitions map[string]uint64  `json:"recording_transitions,omitempty"`
	Counters             map[string]float64 `json:"counters,omitempty"`
}

// Handler carries out the requests a Server reads; the daemon implements it. The Server has
// checked and normalised the request (a call UUID in its canonical form) before it calls.
type Handler interface {
	// Withdraw withdraws consent as consent.Withdrawer does; its error is answered by its
	// consent code and message.
	Withdraw(ctx context.Context, req consent.WithdrawRequest) (consent.WithdrawResult, error)
	// Status returns the daemon's health now.
	Status() *Status
}
