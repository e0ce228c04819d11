package consent

import "time"

// Decision is the outcome of the consent prompt for one call.
type Decision string

// Decisions. Only DecisionGranted allows a recording; every other value means "do not record".
const (
	DecisionPending   Decision = "pending"   // call accepted, no decision yet
	DecisionGranted   Decision = "granted"   // the caller pressed 1
	DecisionDeclined  Decision = "declined"  // the caller pressed 2
	DecisionNoInput   Decision = "no-input"  // timeout or only invalid keys after all tries
	DecisionAbandoned Decision = "abandoned" // hung up before choosing
	DecisionError     Decision = "error"     // no decision could be obtained or stored
)

// Decisions lists every decision in a stable order, for validation and help texts.
var Decisions = []Decision{DecisionPending, DecisionGranted, DecisionDeclined, DecisionNoInput, DecisionAbandoned, DecisionError}

// Valid reports whether d is a known decision.
func (d Decision) Valid() bool {
	for _, v := range Decisions {
		if d == v {
			return true
		}
	}
	return false
}

// Final reports whether d is a terminal decision (anything but pending).
func (d Decision) Final() bool { return d.Valid() && d != DecisionPending }

// ParseDecision validates s as a decision name.
func ParseDecision(s string) (Decision, error) {
	d := Decision(s)
	if !d.Valid() {
		return "", Errorf(EINVALID, "unknown decision %q (want one of %v)", s, Decisions)
	}
	return d, nil
}

// Proof is the stored evidence of a consent decision (R-CONSENT-4). Together with the call's
// UUID and caller pseudonym it shows what the caller heard and what they pressed.
type Proof struct {
	DecidedAt     time.Time // when the decision was taken (UTC)
	Digit         string    // the accepted key, "" when none
	Tries         int       // prompts played until the decision, 1..configured tries
	NoticeVersion string    // version id of the notice played
	NoticeSHA256  string    // hex SHA-256 of the notice audio file played
	Language      string    // language of the notice
	// HeardMS is how much of the notice, in milliseconds, FreeSWITCH had played to the caller
	// when the accepted key came, summed over every prompt of the call, from FreeSWITCH's own
	// event timestamps. A key counts only once it is at least Flow.MinNotice.
	HeardMS int64
}
