package main

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/callconsent/callconsent/consent"
)

// ctlRequest is one request on the daemon's control socket: a line of JSON. Only pseudonyms
// travel over the socket; the CLI pseudonymises a caller number before it asks.
type ctlRequest struct {
	Op       string                   `json:"op"` // "withdraw" or "status"
	Withdraw *consent.WithdrawRequest `json:"withdraw,omitempty"`
}

// ctlResponse is the daemon's answer, one line of JSON.
type ctlResponse struct {
	Withdraw *consent.WithdrawResult `json:"withdraw,omitempty"`
	Status   *daemonStatus           `json:"status,omitempty"`
	Code     string                  `json:"code,omitempty"` // consent error code when failed
	Error    string                  `json:"error,omitempty"`
}

// ctlLimits bound the control socket. Only the service account and root can connect (mode
// 0600), but a stuck or runaway client must still not grow the daemon, hold it up, or keep
// `status` from answering the next health check. Zero fields mean the defaults below.
type ctlLimits struct {
	MaxRequest  int           // bytes of one request line, newline included
	MaxConns    int           // requests served at once; as many more are answered "busy"
	RequestWait time.Duration // to send the request line after connecting
	AnswerWait  time.Duration // to handle the request and write the answer
}

// Defaults of ctlLimits. A request is a line of JSON of well under a KiB (a withdrawal with
// its reason); the CLI sends it as soon as it is connected.
const (
	ctlMaxRequest  = 64 << 10
	ctlMaxConns    = 16
	ctlRequestWait = 5 * time.Second
	ctlAnswerWait  = 60 * time.Second
)

// Backoff of the accept loop after a failed Accept (the process out of file descriptors, say):
// it doubles from the first to the last.
const (
	ctlAcceptPauseMin = 5 * time.Millisecond
	ctlAcceptPauseMax = time.Second
)

func (l ctlLimits) withDefaults() ctlLimits {
	l.MaxRequest = cmp.Or(l.MaxRequest, ctlMaxRequest)
	l.MaxConns = cmp.Or(l.MaxConns, ctlMaxConns)
	l.RequestWait = cmp.Or(l.RequestWait, ctlRequestWait)
	l.AnswerWait = cmp.Or(l.AnswerWait, ctlAnswerWait)
	return l
}

// bindControlSocket takes the control socket (mode 0600: only the service account, and root,
// may talk to the daemon) before anything else touches the database: a socket with a live
// daemon behind it is an error, not something to steal, and that daemon's pending calls are
// not ours to abandon. A stale socket file from a crashed daemon is replaced. Requests wait in
// the listen queue until serveControlSocket.
func (d *daemon) bindControlSocket() (net.Listener, error) {
	path := d.cfg.ControlSocket
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("control socket folder: %w", err)
	}
	if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
		c.Close()
		return nil, consent.Errorf(consent.ECONFLICT, "another callconsent daemon is running (control socket %s answers)", path)
	} else if _, statErr := os.Lstat(path); statErr == nil {
		os.Remove(path)
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("control socket: %w", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("control socket: %w", err)
	}
	d.closers = append(d.closers, func() error {
		err := ln.Close()
		if errors.Is(err, net.ErrClosed) {
			err = nil // closed already when serving stopped
		}
		if rmErr := os.Remove(path); rmErr != nil && !errors.Is(rmErr, fs.ErrNotExist) {
			err = errors.Join(err, rmErr)
		}
		return err
	})
	return ln, nil
}

// serveControlSocket answers requests on ln until Close, at most MaxConns at a time.
func (d *daemon) serveControlSocket(ctx context.Context, ln net.Listener) {
	lim := d.ctl.withDefaults()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		d.acceptControl(ctx, ln, lim, stop, &wg)
	}()
	d.closers = append(d.closers, func() error {
		close(stop)
		ln.Close()
		wg.Wait()
		return nil
	})
}

// acceptControl is the accept loop. A failed Accept (out of file descriptors during a flood
// of connections to the outbound port) is logged and retried with backoff: it must never end
// the loop, or status and withdraw would hang until a restart. Beyond MaxConns requests, as
// many more are answered "busy" (after their request is read, so that a client that writes
// first reads the answer rather than a broken pipe); beyond that a connection is closed at
// once.
func (d *daemon) acceptControl(ctx context.Context, ln net.Listener, lim ctlLimits, stop <-chan struct{}, wg *sync.WaitGroup) {
	slots, refusers := make(chan struct{}, lim.MaxConns), make(chan struct{}, lim.MaxConns)
	pause, failed := ctlAcceptPauseMin, 0
	var lastBusyLog time.Time
	for {
		conn, err := ln.Accept()
		if err != nil {
			select {
			case <-stop:
				return
			default:
			}
			if errors.Is(err, net.ErrClosed) {
				return
			}
			failed++
			d.log.Warn("control socket: accept failed; retrying", "err", err, "failed", failed, "retry_in", pause)
			select {
			case <-stop:
				return
			case <-time.After(pause):
			}
			pause = min(2*pause, ctlAcceptPauseMax)
			continue
		}
		if failed > 0 {
			d.log.Info("control socket: accepting again", "failed_accepts", failed)
			pause, failed = ctlAcceptPauseMin, 0
		}
		select {
		case slots <- struct{}{}:
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-slots }()
				d.serveControl(ctx, conn, lim)
			}()
			continue
		default:
		}
		if time.Since(lastBusyLog) >= time.Second {
			d.log.Warn("control socket: busy; requests refused", "serving", lim.MaxConns)
			lastBusyLog = time.Now()
		}
		select {
		case refusers <- struct{}{}:
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-refusers }()
				refuseControl(conn, lim)
			}()
		default:
			conn.Close()
		}
	}
}

// serveControl reads one request line, of at most MaxRequest bytes within RequestWait, and
// answers it within AnswerWait. A panic while handling it is recovered, logged and counted,
// and answered as an internal error.
func (d *daemon) serveControl(ctx context.Context, conn net.Conn, lim ctlLimits) {
	defer conn.Close()
	conn.SetReadDeadline(time.Now().Add(lim.RequestWait))
	line, err := bufio.NewReader(io.LimitReader(conn, int64(lim.MaxRequest))).ReadBytes('\n')
	var resp ctlResponse
	var req ctlRequest
	switch {
	case errors.Is(err, io.EOF) && len(line) >= lim.MaxRequest:
		resp = ctlResponse{Code: consent.EINVALID, Error: fmt.Sprintf("control socket: request longer than %d bytes", lim.MaxRequest)}
	case errors.Is(err, os.ErrDeadlineExceeded):
		resp = ctlResponse{Code: consent.EINVALID, Error: fmt.Sprintf("control socket: no complete request within %s", lim.RequestWait)}
	case err == nil && json.Unmarshal(line, &req) == nil:
		conn.SetDeadline(time.Now().Add(lim.AnswerWait))
		err := consent.CatchPanic(func() error { resp = d.handleControl(context.WithoutCancel(ctx), req); return nil })
		var pe *consent.PanicError
		if errors.As(err, &pe) {
			d.recovered(loopControl, pe, "op", req.Op)
			resp = ctlResponse{Code: consent.EINTERNAL, Error: "control socket: the daemon hit a bug handling this request (logged as a recovered panic); it goes on"}
		}
	default:
		resp = ctlResponse{Code: consent.EINVALID, Error: "control socket: bad request"}
	}
	answerControl(conn, resp, lim.AnswerWait)
}

// refuseControl answers a request beyond MaxConns "busy", once it has read the request line
// (within a second at most) or given up on it.
func refuseControl(conn net.Conn, lim ctlLimits) {
	defer conn.Close()
	conn.SetReadDeadline(time.Now().Add(min(lim.RequestWait, time.Second)))
	bufio.NewReader(io.LimitReader(conn, int64(lim.MaxRequest))).ReadBytes('\n')
	answerControl(conn, ctlResponse{Code: consent.ECONFLICT,
		Error: fmt.Sprintf("control socket: busy: the daemon is serving %d requests; try again", lim.MaxConns)}, time.Second)
}

// answerControl writes resp as one line, within wait.
func answerControl(conn net.Conn, resp ctlResponse, wait time.Duration) {
	conn.SetWriteDeadline(time.Now().Add(wait))
	b, _ := json.Marshal(resp)
	conn.Write(append(b, '\n'))
}

func (d *daemon) handleControl(ctx context.Context, req ctlRequest) ctlResponse {
	switch {
	case req.Op == "withdraw" && req.Withdraw != nil:
		w := *req.Withdraw
		if c, ok := consent.CanonicalUUID(w.CallUUID); ok {
			w.CallUUID = c // another client may not have normalised it
		}
		res, err := d.withdrawer.Withdraw(ctx, w)
		resp := ctlResponse{Withdraw: &res}
		if err != nil {
			resp.Code, resp.Error = consent.ErrorCode(err), consent.ErrorMessage(err)
		}
		return resp
	case req.Op == "status":
		return ctlResponse{Status: d.status()}
	}
	return ctlResponse{Code: consent.EINVALID, Error: fmt.Sprintf("control socket: unknown op %q", req.Op)}
}
