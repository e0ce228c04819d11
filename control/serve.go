package control

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"time"

	"github.com/callconsent/callconsent/consent"
)

// Backoff of the accept loop after a failed Accept (the process out of file descriptors, say):
// it doubles from the first to the last.
const (
	acceptPauseMin = 5 * time.Millisecond
	acceptPauseMax = time.Second
)

// acceptLoop accepts connections until Close. A failed Accept (out of file descriptors during
// a flood of connections to the outbound port) is logged and retried with backoff: it must
// never end the loop, or status and withdraw would hang until a restart. Beyond MaxConns
// requests, as many more are answered "busy" (after their request is read, so that a client
// that writes first reads the answer rather than a broken pipe); beyond that a connection is
// closed at once.
func (s *Server) acceptLoop(ctx context.Context) {
	lim := s.Limits.withDefaults()
	slots, refusers := make(chan struct{}, lim.MaxConns), make(chan struct{}, lim.MaxConns)
	pause, failed := acceptPauseMin, 0
	var lastBusyLog time.Time
	for {
		conn, err := s.ln.Accept()
		if err != nil {
			select {
			case <-s.stop:
				return
			default:
			}
			if errors.Is(err, net.ErrClosed) {
				return
			}
			failed++
			s.log.Warn("control socket: accept failed; retrying", "err", err, "failed", failed, "retry_in", pause)
			select {
			case <-s.stop:
				return
			case <-time.After(pause):
			}
			pause = min(2*pause, acceptPauseMax)
			continue
		}
		if failed > 0 {
			s.log.Info("control socket: accepting again", "failed_accepts", failed)
			pause, failed = acceptPauseMin, 0
		}
		select {
		case slots <- struct{}{}:
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				defer func() { <-slots }()
				s.serve(ctx, conn, lim)
			}()
			continue
		default:
		}
		if time.Since(lastBusyLog) >= time.Second {
			s.log.Warn("control socket: busy; requests refused", "serving", lim.MaxConns)
			lastBusyLog = time.Now()
		}
		select {
		case refusers <- struct{}{}:
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				defer func() { <-refusers }()
				refuse(conn, lim)
			}()
		default:
			conn.Close()
		}
	}
}

// serve reads one request line, of at most MaxRequest bytes within RequestWait, and answers
// it within AnswerWait. A panic while handling it is recovered, logged, reported to OnPanic,
// and answered as an internal error.
func (s *Server) serve(ctx context.Context, conn net.Conn, lim Limits) {
	defer conn.Close()
	conn.SetReadDeadline(time.Now().Add(lim.RequestWait))
	line, err := bufio.NewReader(io.LimitReader(conn, int64(lim.MaxRequest))).ReadBytes('\n')
	var resp Response
	var req Request
	switch {
	case errors.Is(err, io.EOF) && len(line) >= lim.MaxRequest:
		resp = Response{Code: consent.EINVALID, Error: fmt.Sprintf("control socket: request longer than %d bytes", lim.MaxRequest)}
	case errors.Is(err, os.ErrDeadlineExceeded):
		resp = Response{Code: consent.EINVALID, Error: fmt.Sprintf("control socket: no complete request within %s", lim.RequestWait)}
	case err == nil && json.Unmarshal(line, &req) == nil:
		conn.SetDeadline(time.Now().Add(lim.AnswerWait))
		err := consent.CatchPanic(func() error { resp = s.handle(ctx, req); return nil })
		var pe *consent.PanicError
		if errors.As(err, &pe) {
			s.log.Error("alarm: panic recovered; going on", "op", req.Op, "loop", "control-socket", "err", pe.Error(), "stack", string(pe.Stack))
			if s.OnPanic != nil {
				s.OnPanic(pe)
			}
			resp = Response{Code: consent.EINTERNAL, Error: "control socket: the daemon hit a bug handling this request (logged as a recovered panic); it goes on"}
		}
	default:
		resp = Response{Code: consent.EINVALID, Error: "control socket: bad request"}
	}
	answer(conn, resp, lim.AnswerWait)
}

// handle hands a request to the Handler. A call UUID is put in its canonical form first:
// another client may not have normalised it.
func (s *Server) handle(ctx context.Context, req Request) Response {
	switch {
	case req.Op == OpWithdraw && req.Withdraw != nil:
		w := *req.Withdraw
		if c, ok := consent.CanonicalUUID(w.CallUUID); ok {
			w.CallUUID = c
		}
		res, err := s.handler.Withdraw(ctx, w)
		resp := Response{Withdraw: &res}
		if err != nil {
			resp.Code, resp.Error = consent.ErrorCode(err), consent.ErrorMessage(err)
		}
		return resp
	case req.Op == OpStatus:
		return Response{Status: s.handler.Status()}
	}
	return Response{Code: consent.EINVALID, Error: fmt.Sprintf("control socket: unknown op %q", req.Op)}
}

// refuse answers a request beyond MaxConns "busy", once it has read the request line (within
// a second at most) or given up on it.
func refuse(conn net.Conn, lim Limits) {
	defer conn.Close()
	conn.SetReadDeadline(time.Now().Add(min(lim.RequestWait, time.Second)))
	bufio.NewReader(io.LimitReader(conn, int64(lim.MaxRequest))).ReadBytes('\n')
	answer(conn, Response{Code: consent.ECONFLICT,
		Error: fmt.Sprintf("control socket: busy: the daemon is serving %d requests; try again", lim.MaxConns)}, time.Second)
}

// answer writes resp as one line, within wait.
func answer(conn net.Conn, resp Response, wait time.Duration) {
	conn.SetWriteDeadline(time.Now().Add(wait))
	b, _ := json.Marshal(resp)
	conn.Write(append(b, '\n'))
}
