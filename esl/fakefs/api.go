package fakefs

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// api runs an api command and calls deliver exactly once with the response body.
// Bodies are raw; which ones end in "\n" follows the transcripts (uuid_exists does not).
// Commands that touch a call are run by that call's engine, which delivers the reply
// before it emits the resulting events (h-withdraw-live: "+OK Success", then RECORD_STOP).
func (s *Server) api(line string, deliver func(string)) {
	verb, args, _ := strings.Cut(strings.TrimSpace(line), " ")
	f := strings.Fields(args)
	switch verb {
	case "status":
		deliver(s.statusText())
	case "uuid_exists":
		if len(f) > 0 && s.lookup(f[0]) != nil {
			deliver("true")
		} else {
			deliver("false")
		}
	case "uuid_record":
		if len(f) < 3 || f[1] != "stop" {
			deliver("-USAGE: <uuid> [start|stop|mask|unmask] <path> [<limit>] [<recording_vars>]\n")
			return
		}
		// the path is everything after "<uuid> stop", spaces included
		rest := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(args), f[0]))
		path := strings.TrimSpace(strings.TrimPrefix(rest, "stop"))
		s.toCall(f[0], "-ERR Cannot locate session!\n", deliver, func(c *call) { c.apiStopRecord(path, deliver) })
	case "uuid_kill":
		if len(f) == 0 {
			deliver("-USAGE: <uuid> [cause]\n")
			return
		}
		cause := "NORMAL_CLEARING"
		if len(f) > 1 {
			cause = f[1]
		}
		s.toCall(f[0], "-ERR No such channel!\n", deliver, func(c *call) {
			deliver("+OK\n")
			c.hangup(cause)
		})
	case "uuid_getvar":
		if len(f) < 2 {
			deliver("-USAGE: <uuid> <var>\n")
			return
		}
		s.toCall(f[0], "-ERR No such channel!\n", deliver, func(c *call) {
			if v, ok := c.b.get(f[1]); ok {
				deliver(decodeLoose(v))
			} else if v, ok := c.b.profileField(f[1]); ok {
				deliver(v)
			} else {
				deliver("_undef_")
			}
		})
	case "uuid_send_dtmf":
		if len(f) < 2 {
			deliver("-USAGE: <uuid> <dtmf_data>\n")
			return
		}
		s.toCall(f[0], "-ERR no such session\n", deliver, func(c *call) {
			deliver(fmt.Sprintf("+OK %s sent DTMF %s.\n", f[0], f[1]))
			for _, d := range f[1] {
				c.dtmf(string(d))
			}
		})
	case "fsctl":
		if len(f) > 0 && f[0] == "shutdown" {
			deliver("+OK\n")
			go s.Shutdown(context.Background())
			return
		}
		deliver("-ERR fakefs supports only fsctl shutdown\n")
	default:
		deliver("-ERR " + verb + " Command not found!\n")
	}
}

// toCall runs fn on the engine of the call with that UUID, or delivers missing.
func (s *Server) toCall(uuid, missing string, deliver func(string), fn func(*call)) {
	c := s.lookup(uuid)
	if c == nil || !c.post(func() {
		if c.hungUp {
			deliver(missing)
			return
		}
		fn(c)
	}) {
		deliver(missing)
	}
}

// bgapi replies with the Job-UUID (the client's own if it sent the header), runs the
// command in the background and publishes BACKGROUND_JOB (j-inbound).
func (s *Server) bgapi(line, jobUUID string, send func([]byte)) {
	if jobUUID == "" {
		jobUUID = newUUID()
	}
	send(appendReply(nil, "+OK Job-UUID: "+jobUUID, "Job-UUID: "+jobUUID))
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		done := make(chan string, 1)
		s.api(line, func(b string) { done <- b })
		body := <-done
		verb, args, _ := strings.Cut(strings.TrimSpace(line), " ")
		e := s.newEvent("BACKGROUND_JOB", siteBackgroundJob, s.now())
		e.h("Job-UUID", jobUUID)
		e.raw("Job-Command", verb)
		if args != "" {
			e.raw("Job-Command-Arg", args)
		}
		s.publish("BACKGROUND_JOB", e.frameWithBody(body))
	}()
}

func (s *Server) uptime() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return time.Since(s.started)
}

func uptimeText(d time.Duration) string {
	us := d.Microseconds()
	return fmt.Sprintf("%d years, %d days, %d hours, %d minutes, %d seconds, %d milliseconds, %d microseconds",
		us/(365*86400e6), us/86400e6%365, us/3600e6%24, us/60e6%60, us/1e6%60, us/1000%1000, us%1000)
}

// statusText is the `api status` body in FreeSWITCH's layout, trailing spaces included.
func (s *Server) statusText() string {
	total, live := s.sessions.Load(), s.LiveCalls()*2 // two loopback legs per call
	return fmt.Sprintf("UP %s\nFreeSWITCH (Version 1.11.3-dev  64bit) is ready\n%d session(s) since startup\n"+
		"%d session(s) - peak %d, last 5min %d \n0 session(s) per Sec out of max 30, peak 0, last 5min 0 \n"+
		"100 session(s) max\nmin idle cpu 0.00/99.90\nCurrent Stack Size/Max 240K/8192K\n",
		uptimeText(s.uptime()), total, live, total, total)
}

// heartbeatLoop sends HEARTBEAT with the header set of j-inbound.
func (s *Server) heartbeatLoop(stop chan struct{}) {
	defer s.wg.Done()
	t := time.NewTicker(s.cfg.HeartbeatInterval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			if !s.subs.Load().wants("HEARTBEAT") {
				continue
			}
			up := s.uptime()
			e := s.newEvent("HEARTBEAT", siteHeartbeat, s.now())
			e.h("Event-Info", "System%20Ready")
			e.raw("Up-Time", uptimeText(up))
			e.h("FreeSWITCH-Version", "1.11.3-dev~64bit")
			e.i("Uptime-msec", up.Milliseconds())
			e.i("Session-Count", int64(s.LiveCalls()*2))
			e.h("Max-Sessions", "100")
			e.h("Session-Per-Sec", "30")
			for _, n := range []string{"Last", "Max", "FiveMin"} {
				e.h("Session-Per-Sec-"+n, "0")
			}
			e.i("Session-Since-Startup", s.sessions.Load())
			e.h("Session-Peak-Max", "0")
			e.h("Session-Peak-FiveMin", "0")
			e.h("Idle-CPU", "99.900000")
			s.publish("HEARTBEAT", e.frame())
		}
	}
}

// decodeLoose undoes %XX escapes; a broken escape is kept as is.
func decodeLoose(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			b = append(b, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
			continue
		}
		b = append(b, s[i])
	}
	return string(b)
}

func unhex(c byte) byte {
	switch {
	case c >= 'a':
		return c - 'a' + 10
	case c >= 'A':
		return c - 'A' + 10
	}
	return c - '0'
}
