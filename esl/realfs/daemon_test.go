package realfs

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// binary is callconsent, built once for the whole run, as a user would build it.
var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

func callconsentBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "callconsent-realfs-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "callconsent")
		out, err := exec.Command("go", "build", "-o", binPath, "../../cmd/callconsent").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// daemon is `callconsent run`, the built binary, in a trial folder.
type daemon struct {
	t      *testing.T
	bin    string
	dir    string
	flags  []string
	cmd    *exec.Cmd
	logs   *bytes.Buffer
	exited chan error
}

func (d *daemon) args(extra ...string) []string {
	return append(append([]string{"--data-dir", d.dir}, d.flags...), extra...)
}

// start runs the daemon and waits until status says it is connected to FreeSWITCH.
func (d *daemon) start() {
	d.t.Helper()
	d.logs = &bytes.Buffer{}
	d.cmd = exec.Command(d.bin, d.args("run")...)
	d.cmd.Stdout, d.cmd.Stderr = d.logs, d.logs
	if err := d.cmd.Start(); err != nil {
		d.t.Fatal(err)
	}
	d.exited = make(chan error, 1)
	go func() { d.exited <- d.cmd.Wait() }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, err := d.cli("status")
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			d.t.Fatalf("callconsent not connected to FreeSWITCH in 30 s: %v\n%s\nlogs:\n%s", err, out, d.logs)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// stop sends SIGTERM and waits for the daemon to exit.
func (d *daemon) stop() error {
	if d.cmd == nil || d.cmd.Process == nil {
		return nil
	}
	d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-d.exited:
		return err
	case <-time.After(30 * time.Second):
		d.cmd.Process.Kill()
		return fmt.Errorf("callconsent did not exit within 30 s of SIGTERM")
	}
}

// cli runs a callconsent command against the same trial folder.
func (d *daemon) cli(args ...string) (string, error) {
	out, err := exec.Command(d.bin, d.args(args...)...).CombinedOutput()
	return string(out), err
}

// callRow is what `calls show --output json` prints, the fields the tests read.
type callRow struct {
	UUID     string `json:"uuid"`
	Decision string `json:"decision"`
	EndedAt  string `json:"ended_at"`
	Proof    *struct {
		Digit   string `json:"digit"`
		Tries   int    `json:"tries"`
		HeardMS int64  `json:"heard_ms"`
		SHA256  string `json:"notice_sha256"`
		Version string `json:"notice_version"`
	} `json:"proof"`
	WithdrawnAt string `json:"withdrawn_at"`
	Recording   *struct {
		Path       string `json:"path"`
		State      string `json:"state"`
		DurationMS int64  `json:"duration_ms"`
		Bytes      int64  `json:"bytes"`
	} `json:"recording"`
}

// final waits until the call's row is final (decided, ended, recording no longer live).
func (d *daemon) final(t *testing.T, uuid string) callRow {
	t.Helper()
	var c callRow
	deadline := time.Now().Add(40 * time.Second)
	for {
		out, err := d.cli("calls", "show", uuid, "--output", "json")
		if err == nil && json.Unmarshal([]byte(out), &c) == nil && c.Decision != "pending" && c.EndedAt != "" &&
			(c.Recording == nil || c.Recording.State != "pending" && c.Recording.State != "recording") {
			return c
		}
		if time.Now().After(deadline) {
			t.Fatalf("call %s not final in 40 s: %v\n%s", uuid, err, out)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// writeToneWAV writes d of an 8 kHz mono 16-bit PCM tone at hz (0: silence).
func writeToneWAV(t *testing.T, path string, d time.Duration, hz float64) {
	t.Helper()
	n := int(d.Seconds() * 8000)
	var b bytes.Buffer
	hdr := []any{[]byte("RIFF"), uint32(36 + 2*n), []byte("WAVEfmt "), uint32(16), uint16(1), uint16(1),
		uint32(8000), uint32(16000), uint16(2), uint16(16), []byte("data"), uint32(2 * n)}
	for _, v := range hdr {
		binary.Write(&b, binary.LittleEndian, v)
	}
	for i := 0; i < n; i++ {
		binary.Write(&b, binary.LittleEndian, int16(8000*math.Sin(2*math.Pi*hz*float64(i)/8000)))
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// channelEnergy reads a 16-bit PCM WAV and returns, per channel, the energy at each frequency
// (Goertzel over the whole file).
func channelEnergy(t *testing.T, path string, freqs ...float64) (channels int, energy [][]float64) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 44 || string(b[0:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		t.Fatalf("%s: not a WAV file", path)
	}
	rate, bits := 0, 0
	var data []byte
	for off := 12; off+8 <= len(b); {
		id, size := string(b[off:off+4]), int(binary.LittleEndian.Uint32(b[off+4:]))
		body := b[off+8 : min(off+8+size, len(b))]
		switch id {
		case "fmt ":
			channels = int(binary.LittleEndian.Uint16(body[2:]))
			rate = int(binary.LittleEndian.Uint32(body[4:]))
			bits = int(binary.LittleEndian.Uint16(body[14:]))
		case "data":
			data = body
		}
		off += 8 + size + size%2
	}
	if bits != 16 || channels < 1 || rate == 0 {
		t.Fatalf("%s: %d-bit, %d channels, %d Hz: want 16-bit PCM", path, bits, channels, rate)
	}
	frames := len(data) / 2 / channels
	energy = make([][]float64, channels)
	for ch := range channels {
		for _, f := range freqs {
			k := 2 * math.Cos(2*math.Pi*f/float64(rate))
			var s1, s2 float64
			for i := range frames {
				x := float64(int16(binary.LittleEndian.Uint16(data[2*(i*channels+ch):])))
				s1, s2 = x+k*s1-s2, s1
			}
			energy[ch] = append(energy[ch], (s1*s1+s2*s2-k*s1*s2)/float64(max(frames, 1)))
		}
	}
	return channels, energy
}

var _ = strings.Contains
var _ = context.Background
