package realfs

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Relay sits between FreeSWITCH's socket application and callconsent's outbound listener: it
// accepts what FreeSWITCH dials, dials callconsent, and copies both ways, keeping every byte
// with the time it passed. For each call given a name (Name), it writes a transcript to Dir
// in the format of testdata/esl: <name>-outbound.recv.raw (bytes FreeSWITCH sent),
// .sent.raw (bytes callconsent sent) and .txt (both, one protocol unit per block with its
// time since the connection opened).
type Relay struct {
	Dir string // "" writes nothing
	ln  net.Listener

	mu     sync.Mutex
	target string
	names  map[string]string // A-leg UUID -> transcript name
	wg     sync.WaitGroup
}

// NewRelay listens on a free loopback port and relays each connection to target.
func NewRelay(target, dir string) (*Relay, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r := &Relay{Dir: dir, target: target, ln: ln, names: map[string]string{}}
	r.wg.Add(1)
	go r.accept()
	return r, nil
}

// Addr is where FreeSWITCH's dialplan must send calls.
func (r *Relay) Addr() string { return r.ln.Addr().String() }

// SetTarget sends the calls that come from now on to target instead.
func (r *Relay) SetTarget(target string) {
	r.mu.Lock()
	r.target = target
	r.mu.Unlock()
}

// Name asks for the transcript of the call whose A-leg is aLeg, written as name-outbound.*
// ("" asks for none).
func (r *Relay) Name(aLeg, name string) {
	if name == "" {
		return
	}
	r.mu.Lock()
	r.names[aLeg] = name
	r.mu.Unlock()
}

// Close stops accepting and waits for the relayed connections to end.
func (r *Relay) Close() error {
	err := r.ln.Close()
	r.wg.Wait()
	return err
}

// chunk is what one read returned, in one direction.
type chunk struct {
	fromFS bool
	at     time.Duration
	b      []byte
}

func (r *Relay) accept() {
	defer r.wg.Done()
	for {
		fs, err := r.ln.Accept()
		if err != nil {
			return
		}
		r.wg.Add(1)
		go r.relay(fs)
	}
}

func (r *Relay) relay(fs net.Conn) {
	defer r.wg.Done()
	defer fs.Close()
	start := time.Now()
	r.mu.Lock()
	target := r.target
	r.mu.Unlock()
	cc, err := net.Dial("tcp", target)
	if err != nil {
		return // as if callconsent were down: FreeSWITCH's fallback takes the call
	}
	defer cc.Close()
	var mu sync.Mutex
	var chunks []chunk
	copyLogged := func(dst, src net.Conn, fromFS bool) {
		buf := make([]byte, 64<<10)
		for {
			n, err := src.Read(buf)
			if n > 0 {
				mu.Lock()
				chunks = append(chunks, chunk{fromFS, time.Since(start), append([]byte(nil), buf[:n]...)})
				mu.Unlock()
				if _, werr := dst.Write(buf[:n]); werr != nil {
					break
				}
			}
			if err != nil {
				break
			}
		}
		if tc, ok := dst.(*net.TCPConn); ok {
			tc.CloseWrite()
		}
	}
	done := make(chan struct{})
	go func() { copyLogged(cc, fs, true); close(done) }()
	copyLogged(fs, cc, false)
	<-done
	r.write(chunks)
}

// write saves the transcript of one connection, if it was asked for.
func (r *Relay) write(chunks []chunk) {
	if r.Dir == "" {
		return
	}
	var recv, sent bytes.Buffer
	for _, c := range chunks {
		if c.fromFS {
			recv.Write(c.b)
		} else {
			sent.Write(c.b)
		}
	}
	a := headerValue(recv.Bytes(), "variable_origination_uuid")
	r.mu.Lock()
	name, ok := r.names[a]
	r.mu.Unlock()
	if !ok {
		return
	}
	base := filepath.Join(r.Dir, name+"-outbound")
	os.WriteFile(base+".recv.raw", recv.Bytes(), 0o644)
	os.WriteFile(base+".sent.raw", sent.Bytes(), 0o644)
	os.WriteFile(base+".txt", transcriptText(name, chunks), 0o644)
}

// headerValue finds "name: value" in the first header block of b.
func headerValue(b []byte, name string) string {
	end := bytes.Index(b, []byte("\n\n"))
	if end < 0 {
		end = len(b)
	}
	for _, line := range strings.Split(string(b[:end]), "\n") {
		if k, v, ok := strings.Cut(line, ": "); ok && k == name {
			return v
		}
	}
	return ""
}

// unit is one protocol unit: a command callconsent wrote, or one message FreeSWITCH sent.
type unit struct {
	fromFS bool
	at     time.Duration // when its last byte passed
	b      []byte
}

// units cuts one direction's chunks into protocol units: a header block up to its blank line
// plus Content-Length bytes of body.
func units(chunks []chunk, fromFS bool) []unit {
	var out []unit
	var pending []byte
	for _, c := range chunks {
		if c.fromFS != fromFS {
			continue
		}
		pending = append(pending, c.b...)
		for {
			n := unitLen(pending)
			if n == 0 {
				break
			}
			out = append(out, unit{fromFS, c.at, pending[:n:n]})
			pending = pending[n:]
		}
	}
	if len(pending) > 0 {
		out = append(out, unit{fromFS, chunks[len(chunks)-1].at, pending})
	}
	return out
}

// unitLen is the length of the complete unit at the start of b, 0 if it is not complete.
func unitLen(b []byte) int {
	end := bytes.Index(b, []byte("\n\n"))
	if end < 0 {
		return 0
	}
	n := 0
	br := bufio.NewReader(bytes.NewReader(b[:end]))
	for {
		line, err := br.ReadString('\n')
		if k, v, ok := strings.Cut(strings.TrimSpace(line), ": "); ok && strings.EqualFold(k, "Content-Length") {
			n, _ = strconv.Atoi(v)
		}
		if err == io.EOF {
			break
		}
	}
	if len(b) < end+2+n {
		return 0
	}
	return end + 2 + n
}

func transcriptText(name string, chunks []chunk) []byte {
	all := append(units(chunks, false), units(chunks, true)...)
	sort.SliceStable(all, func(i, j int) bool { return all[i].at < all[j].at })
	var w bytes.Buffer
	fmt.Fprintf(&w, "# FreeSWITCH ESL transcript: outbound socket, %s\n", name)
	fmt.Fprintf(&w, "#\n# Recorded %s by esl/realfs.Relay between a real FreeSWITCH 1.11 (../shared/freeswitch)\n", time.Now().UTC().Format("2006-01-02"))
	fmt.Fprintln(&w, "# and callconsent's outbound listener, with callconsent itself on the other side.")
	fmt.Fprintln(&w, "# Format as in testdata/esl/README.md: each protocol unit is preceded by \"### t=+<seconds since")
	fmt.Fprintln(&w, "# FreeSWITCH connected>  SENT to FreeSWITCH / RECEIVED from FreeSWITCH, N bytes\"; its lines follow,")
	fmt.Fprintln(&w, "# prefixed \">>> \" (sent) or \"<<< \" (received). Exact bytes: the .sent.raw / .recv.raw files.")
	for _, u := range all {
		dir, mark := "SENT to FreeSWITCH", ">>>"
		if u.fromFS {
			dir, mark = "RECEIVED from FreeSWITCH", "<<<"
		}
		fmt.Fprintf(&w, "### t=+%.6f  %s, %d bytes\n", u.at.Seconds(), dir, len(u.b))
		text := string(u.b)
		for _, line := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
			if line == "" {
				fmt.Fprintln(&w, mark)
			} else {
				fmt.Fprintln(&w, mark+" "+line)
			}
		}
		if !strings.HasSuffix(text, "\n") {
			fmt.Fprintln(&w, "### (no newline at end of the unit above)")
		}
	}
	return w.Bytes()
}
