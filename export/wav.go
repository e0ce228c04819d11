package export

import (
	"encoding/binary"
	"fmt"
	"io"
	"time"

	"github.com/callconsent/callconsent/recordings"
)

// FadeDuration is the length of the linear fade at each edge of a muted span, so that the cut
// to silence does not click. It lies inside the span: every sample outside the muted ranges
// stays the original, bit for bit, and the span's first and last FadeDuration are the original
// scaled down towards zero (never louder), the rest digital zeros. A span that starts at the
// first frame or ends at the last has no fade there, and a span shorter than two fades fades
// over half its length each way. Whoever must be sure a word is silent from its first sample
// widens the range by FadeDuration.
const FadeDuration = 5 * time.Millisecond

// chunkFrames is how many frames the writer reads, mutes and writes at a time: its memory is
// this, whatever the recording's length.
const chunkFrames = 8192

// checkTrainable refuses a recording the writer cannot mute sample by sample: anything but
// 16-bit PCM with one or two channels and some audio.
func checkTrainable(w recordings.WAVInfo) error {
	switch {
	case w.Format != recordings.PCM || w.Bits != 16:
		return fmt.Errorf("recording is %s: only 16-bit PCM can be exported", w)
	case w.Channels != 1 && w.Channels != 2:
		return fmt.Errorf("recording is %s: only mono or stereo can be exported", w)
	case w.DataBytes < int64(2*w.Channels):
		return fmt.Errorf("recording is %s: no audio", w)
	}
	return nil
}

// frameCount is the number of whole frames of w's audio.
func frameCount(w recordings.WAVInfo) int64 { return w.DataBytes / int64(2*w.Channels) }

// writeHeader writes a plain RIFF/WAVE header of 16-bit PCM: the "fmt " chunk and the "data"
// chunk's header, nothing else (no LIST/INFO, no cue, no bext: no metadata can name the call).
func writeHeader(dst io.Writer, channels, rate int, frames int64) error {
	data := frames * int64(2*channels)
	if data+36 > 0xffffffff {
		return fmt.Errorf("recording too long for a WAV file (%d bytes of audio)", data)
	}
	var h [44]byte
	le := binary.LittleEndian
	copy(h[0:], "RIFF")
	le.PutUint32(h[4:], uint32(36+data))
	copy(h[8:], "WAVEfmt ")
	le.PutUint32(h[16:], 16)
	le.PutUint16(h[20:], recordings.PCM)
	le.PutUint16(h[22:], uint16(channels))
	le.PutUint32(h[24:], uint32(rate))
	le.PutUint32(h[28:], uint32(rate*channels*2))
	le.PutUint16(h[32:], uint16(channels*2))
	le.PutUint16(h[34:], 16)
	copy(h[36:], "data")
	le.PutUint32(h[40:], uint32(data))
	_, err := dst.Write(h[:])
	return err
}

// writeMuted copies frames frames of 16-bit audio from src (positioned at the first sample)
// to dst as a plain WAV, muting p's spans. Memory is one chunk; progress, when not nil, is told
// the frames written so far.
func writeMuted(dst io.Writer, src io.Reader, channels, rate int, frames int64, p plan, progress func(int64)) error {
	if err := writeHeader(dst, channels, rate, frames); err != nil {
		return err
	}
	fade := int64(rate) * int64(FadeDuration) / int64(time.Second)
	buf := make([]byte, chunkFrames*2*channels)
	next := make([]int, channels) // per channel, the first span not yet behind the chunk
	for c0 := int64(0); c0 < frames; c0 += chunkFrames {
		n := min(chunkFrames, frames-c0)
		b := buf[:n*int64(2*channels)]
		if _, err := io.ReadFull(src, b); err != nil {
			return fmt.Errorf("read recording: %w", err)
		}
		for ch := range channels {
			for next[ch] < len(p[ch]) && p[ch][next[ch]].to <= c0 {
				next[ch]++
			}
			for _, s := range p[ch][next[ch]:] {
				if s.from >= c0+n {
					break
				}
				muteSpan(b, channels, ch, c0, c0+n, s, fade, frames)
			}
		}
		if _, err := dst.Write(b); err != nil {
			return err
		}
		if progress != nil {
			progress(c0 + n)
		}
	}
	return nil
}

// muteSpan mutes channel ch of the frames of span s that lie in the chunk b, which holds frames
// [c0, c1). fade is the fade's length in frames; frames the recording's.
func muteSpan(b []byte, channels, ch int, c0, c1 int64, s span, fade, frames int64) {
	f := min(fade, (s.to-s.from)/2)
	for fr := max(s.from, c0); fr < min(s.to, c1); fr++ {
		g := int64(0) // gain in steps of 1/(f+1)
		if i := fr - s.from; s.from > 0 && i < f {
			g = f - i
		} else if j := s.to - 1 - fr; s.to < frames && j < f {
			g = f - j
		}
		off := (fr-c0)*int64(2*channels) + int64(2*ch)
		v := int64(int16(binary.LittleEndian.Uint16(b[off:])))
		binary.LittleEndian.PutUint16(b[off:], uint16(int16(v*g/(f+1))))
	}
}
