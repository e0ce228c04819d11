package main

import (
	"fmt"

	"github.com/callconsent/callconsent/recordings"
)

// playableWAV reads the header of a notice or invalid-choice prompt (recordings.InspectWAV) and
// says why FreeSWITCH would not play it as one: not a WAV file, not 16-bit PCM (FreeSWITCH's
// native sound files; anything else may play as noise or not at all), or no audio. config check
// reports its answer and run refuses to start on it, so run never plays, nor hashes into a proof
// of consent, a file that config check fails.
func playableWAV(path string) (recordings.WAVInfo, error) {
	w, err := recordings.InspectWAV(path)
	switch {
	case err != nil:
		return w, err
	case w.Format != recordings.PCM || w.Bits != 16:
		return w, fmt.Errorf("%s: want 16-bit PCM", w)
	case w.Duration == 0:
		return w, fmt.Errorf("%s: no audio", w)
	}
	return w, nil
}
