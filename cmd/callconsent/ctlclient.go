package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"syscall"
	"time"
)

// How long the CLI waits for the daemon on its control socket. A daemon that is up answers a
// status at once; one that does not within ctlAnswerTimeout is hung or overloaded, and the
// operator hears so after seconds, not minutes. A request the daemon has shown it serves may
// take longer: a withdrawal stops live recordings through FreeSWITCH (5 s per command at most).
const (
	ctlDialTimeout   = 3 * time.Second // connecting, retried while the daemon's backlog is full
	ctlAnswerTimeout = 5 * time.Second // an answer to status
	ctlWorkTimeout   = 2 * time.Minute // an answer to a withdrawal, once the daemon answered status
	maxCtlAnswer     = 16 << 20        // bytes of one answer; a withdrawal of 10,000 calls is ~0.5 MB
)

// errNoDaemon means no daemon listens on the control socket.
var errNoDaemon = errors.New("no callconsent daemon is running")

// errNotAnswering means something listens on the control socket but gave no answer in time:
// the daemon is hung, overloaded, or not accepting connections.
var errNotAnswering = errors.New("the daemon does not answer on its control socket")

// notAnsweringError is errNotAnswering with the socket and the time waited.
type notAnsweringError struct {
	path   string
	waited time.Duration
	cause  error
}

func (e *notAnsweringError) Error() string {
	return fmt.Sprintf("the daemon did not answer on its control socket %s within %s (%v): it may be hung or overloaded; see its log", e.path, e.waited, e.cause)
}

func (e *notAnsweringError) Unwrap() error { return errNotAnswering }

// askDaemon sends one request to the running daemon and waits at most answerWithin for its
// answer. It returns errNoDaemon when nothing listens, so the caller can do the work itself,
// and a *notAnsweringError (errors.Is errNotAnswering) when something listens but does not
// answer in time: connection not accepted, request not read, no answer.
func askDaemon(ctx context.Context, path string, req ctlRequest, answerWithin time.Duration) (ctlResponse, error) {
	conn, err := dialDaemon(ctx, path)
	if err != nil {
		return ctlResponse{}, err
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() }) // a signal ends the wait at once
	defer stop()
	start := time.Now()
	conn.SetDeadline(start.Add(answerWithin))
	notAnswering := func(err error) error {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if isTimeout(err) {
			return &notAnsweringError{path: path, waited: answerWithin.Round(time.Second), cause: errors.New("no answer")}
		}
		return fmt.Errorf("control socket %s: no answer from the daemon: %w", path, err)
	}
	b, _ := json.Marshal(req)
	if _, err := conn.Write(append(b, '\n')); err != nil {
		return ctlResponse{}, notAnswering(err)
	}
	line, err := bufio.NewReader(io.LimitReader(conn, maxCtlAnswer)).ReadBytes('\n')
	if err != nil {
		return ctlResponse{}, notAnswering(err)
	}
	var resp ctlResponse
	if err := json.Unmarshal(line, &resp); err != nil {
		return ctlResponse{}, fmt.Errorf("control socket %s: bad answer: %w", path, err)
	}
	return resp, nil
}

// dialDaemon connects to the control socket within ctlDialTimeout. A full listen backlog
// (EAGAIN: the daemon does not accept) is retried until then, and then is errNotAnswering.
func dialDaemon(ctx context.Context, path string) (net.Conn, error) {
	deadline := time.Now().Add(ctlDialTimeout)
	for {
		d := net.Dialer{Deadline: deadline}
		conn, err := d.DialContext(ctx, "unix", path)
		switch {
		case err == nil:
			return conn, nil
		case errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ENOENT):
			return nil, errNoDaemon
		case ctx.Err() != nil:
			return nil, ctx.Err()
		case errors.Is(err, syscall.EAGAIN) && time.Now().Before(deadline):
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(50 * time.Millisecond):
			}
			continue
		case errors.Is(err, syscall.EAGAIN) || isTimeout(err):
			return nil, &notAnsweringError{path: path, waited: ctlDialTimeout, cause: errors.New("connection not accepted")}
		}
		return nil, fmt.Errorf("control socket %s: %w", path, err)
	}
}

// isTimeout reports a deadline that passed, as net reports it (os.ErrDeadlineExceeded on a
// connection, a net.Error with Timeout() from a dial).
func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}
