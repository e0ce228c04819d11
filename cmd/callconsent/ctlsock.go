package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
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

// openControlSocket serves the control socket (mode 0600: only the service account, and
// root, may talk to the daemon). A stale socket file from a crashed daemon is replaced; a
// socket with a live daemon behind it is an error, not something to steal.
func (d *daemon) openControlSocket(ctx context.Context) error {
	path := d.cfg.ControlSocket
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("control socket folder: %w", err)
	}
	if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
		c.Close()
		return consent.Errorf(consent.ECONFLICT, "another callconsent daemon is running (control socket %s answers)", path)
	} else if _, statErr := os.Lstat(path); statErr == nil {
		os.Remove(path)
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		return fmt.Errorf("control socket: %w", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return fmt.Errorf("control socket: %w", err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return // closed
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				d.serveControl(ctx, conn)
			}()
		}
	}()
	d.closers = append(d.closers, func() error {
		err := ln.Close()
		wg.Wait()
		if rmErr := os.Remove(path); rmErr != nil && !errors.Is(rmErr, fs.ErrNotExist) {
			err = errors.Join(err, rmErr)
		}
		return err
	})
	return nil
}

func (d *daemon) serveControl(ctx context.Context, conn net.Conn) {
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(60 * time.Second))
	var req ctlRequest
	line, err := bufio.NewReaderSize(conn, 64<<10).ReadBytes('\n')
	var resp ctlResponse
	if err == nil {
		err = json.Unmarshal(line, &req)
	}
	if err != nil {
		resp = ctlResponse{Code: consent.EINVALID, Error: "control socket: bad request"}
	} else {
		resp = d.handleControl(context.WithoutCancel(ctx), req)
	}
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
