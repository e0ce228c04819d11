package realfs

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Switch is one running FreeSWITCH, started with the shared start.sh: every folder it writes
// is below Work, its event socket listens on 127.0.0.1:ESLPort, and its dialplan's extension
// 5000 hands calls to Socket (`socket <Socket> async full`, then transfer 6000 unrecorded when
// that returns).
type Switch struct {
	Dir      string // the FreeSWITCH build's folder (start.sh, stop.sh)
	Work     string
	ESLPort  int
	Password string
	Socket   string // host:port the dialplan's socket application dials
	PID      int
}

// Start starts FreeSWITCH and waits until its event socket accepts connections (start.sh
// does that, up to 30 s).
func Start(ctx context.Context, dir, work string, eslPort int, password, socket string) (*Switch, error) {
	s := &Switch{Dir: dir, Work: work, ESLPort: eslPort, Password: password, Socket: socket}
	return s, s.start(ctx)
}

func (s *Switch) start(ctx context.Context) error {
	out, err := s.script(ctx, "start.sh", s.Work, strconv.Itoa(s.ESLPort), s.Password, s.Socket)
	if err != nil {
		return fmt.Errorf("start freeswitch: %v: %s", err, out)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(out))
	if err != nil {
		return fmt.Errorf("start freeswitch: no pid in %q", out)
	}
	s.PID = pid
	return nil
}

// Stop asks FreeSWITCH to shut down and waits (stop.sh: about 10 s, then SIGKILL after 20 s).
func (s *Switch) Stop(ctx context.Context) error {
	if out, err := s.script(ctx, "stop.sh", s.Work, strconv.Itoa(s.ESLPort), s.Password); err != nil {
		return fmt.Errorf("stop freeswitch: %v: %s", err, out)
	}
	return nil
}

// Kill ends FreeSWITCH at once (SIGKILL), as a crash would.
func (s *Switch) Kill() error {
	p, err := os.FindProcess(s.PID)
	if err != nil {
		return err
	}
	if err := p.Kill(); err != nil {
		return err
	}
	for i := 0; i < 100 && processAlive(s.PID); i++ {
		time.Sleep(20 * time.Millisecond)
	}
	return nil
}

// Restart starts FreeSWITCH again in the same folder, on the same ports.
func (s *Switch) Restart(ctx context.Context) error { return s.start(ctx) }

// Addr is the event socket's address.
func (s *Switch) Addr() string { return "127.0.0.1:" + strconv.Itoa(s.ESLPort) }

// Log returns FreeSWITCH's log so far (log/freeswitch.log below Work).
func (s *Switch) Log() string {
	b, _ := os.ReadFile(filepath.Join(s.Work, "log", "freeswitch.log"))
	return string(b)
}

// Executed lists the applications FreeSWITCH's log says it executed on channel uuid, in
// order, as "app(arg)": its "<uuid> EXECUTE [depth=N] <channel> app(arg)" lines, written for
// the dialplan's applications and for those the socket sent alike.
func (s *Switch) Executed(uuid string) []string {
	var out []string
	for _, line := range strings.Split(s.Log(), "\n") {
		rest, ok := strings.CutPrefix(line, uuid+" EXECUTE [depth=")
		if !ok {
			continue
		}
		if _, rest, ok = strings.Cut(rest, "] "); ok {
			if _, app, ok := strings.Cut(rest, " "); ok { // after the channel name
				out = append(out, app)
			}
		}
	}
	return out
}

func (s *Switch) script(ctx context.Context, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, filepath.Join(s.Dir, name), args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

func processAlive(pid int) bool {
	_, err := os.Stat("/proc/" + strconv.Itoa(pid))
	return err == nil
}
