package control

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

	"github.com/callconsent/callconsent/consent"
)

// How long the Client waits for the daemon. A daemon that is up answers a status at once; one
// that does not within answerTimeout is hung or overloaded, and the operator hears so after
// seconds, not minutes. A request the daemon has shown it serves may take longer: a withdrawal
// stops live recordings through FreeSWITCH (5 s per command at most).
const (
	dialTimeout   = 3 * time.Second // connecting, retried while the daemon's backlog is full
	answerTimeout = 5 * time.Second // an answer to status
	workTimeout   = 2 * time.Minute // an answer to a withdrawal, once the daemon answered status
	maxAnswer     = 16 << 20        // bytes of one answer; a withdrawal of 10,000 calls is ~0.5 MB
)

// ErrNoDaemon means no daemon listens on the control socket.
var ErrNoDaemon = errors.New("no callconsent daemon is running")

// ErrNotAnswering means something listens on the control socket but gave no answer in time:
// the daemon is hung, overloaded, or not accepting connections.
var ErrNotAnswering = errors.New("the daemon does not answer on its control socket")

// notAnsweringError is ErrNotAnswering with the socket and the time waited.
type notAnsweringError struct {
	path   string
	waited time.Duration
	cause  error
}

func (e *notAnsweringError) Error() string {
	return fmt.Sprintf("the daemon did not answer on its control socket %s within %s (%v): it may be hung or overloaded; see its log", e.path, e.waited, e.cause)
}

// Unwrap makes a notAnsweringError errors.Is ErrNotAnswering.
func (e *notAnsweringError) Unwrap() error { return ErrNotAnswering }

// Client asks the running daemon over its control socket at Path.
type Client struct {
	Path string
}

// Status asks the daemon for its health, within answerTimeout.
func (c Client) Status(ctx context.Context) (*Status, error) {
	resp, err := c.Ask(ctx, Request{Op: OpStatus}, answerTimeout)
	if err != nil {
		return nil, err
	}
	if resp.Status == nil {
		return nil, fmt.Errorf("the daemon gave no status: %s", resp.Error)
	}
	return resp.Status, nil
}

// Withdraw has the daemon carry out a withdrawal. It first asks for its status, which a
// serving daemon answers within answerTimeout: a daemon that does not is reported as
// ErrNotAnswering before it was handed the withdrawal, so that the caller may safely do the
// work itself. A daemon that answered gets workTimeout for the withdrawal; if it is silent
// then, it may still be at it, and the error (not ErrNotAnswering) says how to check and that
// repeating is harmless. The daemon's own error comes back as a coded consent error, with
// what it did withdraw.
func (c Client) Withdraw(ctx context.Context, req consent.WithdrawRequest) (consent.WithdrawResult, error) {
	if _, err := c.Ask(ctx, Request{Op: OpStatus}, answerTimeout); err != nil {
		return consent.WithdrawResult{}, err
	}
	resp, err := c.Ask(ctx, Request{Op: OpWithdraw, Withdraw: &req}, workTimeout)
	if errors.Is(err, ErrNotAnswering) {
		return consent.WithdrawResult{}, fmt.Errorf("withdraw: the daemon took the withdrawal but did not answer within %s; it may still be at work: "+
			"check with 'callconsent calls show UUID' or 'calls list', and run the same withdraw again if needed (a repeated withdrawal changes nothing that is done)", workTimeout)
	} else if err != nil {
		return consent.WithdrawResult{}, err
	}
	var res consent.WithdrawResult
	if resp.Withdraw != nil {
		res = *resp.Withdraw
	}
	if resp.Error != "" {
		err = consent.Errorf(resp.Code, "%s", resp.Error)
	}
	return res, err
}

// Ask sends one request to the daemon and waits at most answerWithin for its answer, of at
// most maxAnswer bytes. It returns ErrNoDaemon when nothing listens, so the caller can do the
// work itself, and a *notAnsweringError (errors.Is ErrNotAnswering) when something listens
// but does not answer in time: connection not accepted, request not read, no answer.
func (c Client) Ask(ctx context.Context, req Request, answerWithin time.Duration) (Response, error) {
	conn, err := c.dial(ctx)
	if err != nil {
		return Response{}, err
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() }) // a signal ends the wait at once
	defer stop()
	conn.SetDeadline(time.Now().Add(answerWithin))
	notAnswering := func(err error) error {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if isTimeout(err) {
			return &notAnsweringError{path: c.Path, waited: answerWithin.Round(time.Second), cause: errors.New("no answer")}
		}
		return fmt.Errorf("control socket %s: no answer from the daemon: %w", c.Path, err)
	}
	b, _ := json.Marshal(req)
	if _, err := conn.Write(append(b, '\n')); err != nil {
		return Response{}, notAnswering(err)
	}
	line, err := bufio.NewReader(io.LimitReader(conn, maxAnswer)).ReadBytes('\n')
	if err != nil {
		return Response{}, notAnswering(err)
	}
	var resp Response
	if err := json.Unmarshal(line, &resp); err != nil {
		return Response{}, fmt.Errorf("control socket %s: bad answer: %w", c.Path, err)
	}
	return resp, nil
}

// dial connects to the control socket within dialTimeout. A full listen backlog (EAGAIN: the
// daemon does not accept) is retried until then, and then is ErrNotAnswering.
func (c Client) dial(ctx context.Context) (net.Conn, error) {
	deadline := time.Now().Add(dialTimeout)
	for {
		d := net.Dialer{Deadline: deadline}
		conn, err := d.DialContext(ctx, "unix", c.Path)
		switch {
		case err == nil:
			return conn, nil
		case errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ENOENT):
			return nil, ErrNoDaemon
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
			return nil, &notAnsweringError{path: c.Path, waited: dialTimeout, cause: errors.New("connection not accepted")}
		}
		return nil, fmt.Errorf("control socket %s: %w", c.Path, err)
	}
}

// isTimeout reports a deadline that passed, as net reports it (os.ErrDeadlineExceeded on a
// connection, a net.Error with Timeout() from a dial).
func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}
