package esl

// recordingEntries is how many recordings a channel keeps state for.
func recordingEntries(ch *channel) int {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	return len(ch.recordings)
}
