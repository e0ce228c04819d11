package consent

// recordingTransitions is the one place that says which recording state may follow which.
// Anything not listed is illegal and refused by CheckRecordingTransition.
var recordingTransitions = map[RecordingState][]RecordingState{
	RecordingPending:   {RecordingRecording, RecordingFailed, RecordingDeleting},
	RecordingRecording: {RecordingComplete, RecordingFailed, RecordingDeleting},
	RecordingComplete:  {RecordingDeleting},
	RecordingFailed:    {RecordingDeleting},
	RecordingDeleting:  {RecordingDeleted},
	RecordingDeleted:   {},
}

// RecordingStates lists every recording state in lifecycle order.
var RecordingStates = []RecordingState{RecordingPending, RecordingRecording, RecordingComplete, RecordingFailed, RecordingDeleting, RecordingDeleted}

// Valid reports whether s is a known recording state.
func (s RecordingState) Valid() bool {
	_, ok := recordingTransitions[s]
	return ok
}

// Live reports whether audio may still be written to the file in this state.
func (s RecordingState) Live() bool { return s == RecordingPending || s == RecordingRecording }

// CheckRecordingTransition returns an EINVALID error unless a recording may go from one state to
// the other. A transition to the same state is illegal too: applying it twice is a bug to surface.
func CheckRecordingTransition(from, to RecordingState) error {
	if !from.Valid() {
		return Errorf(EINVALID, "unknown recording state %q", from)
	}
	for _, s := range recordingTransitions[from] {
		if s == to {
			return nil
		}
	}
	return Errorf(EINVALID, "illegal recording transition %s -> %s", from, to)
}

// CheckDecisionTransition returns an EINVALID error unless a call's decision may change from one
// value to the other: only a pending call gets a decision, and a decision is never rewritten.
func CheckDecisionTransition(from, to Decision) error {
	if !from.Valid() || !to.Valid() {
		return Errorf(EINVALID, "unknown decision %q -> %q", from, to)
	}
	if from != DecisionPending || !to.Final() {
		return Errorf(EINVALID, "illegal decision transition %s -> %s", from, to)
	}
	return nil
}
