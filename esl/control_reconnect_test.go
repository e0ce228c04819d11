package esl

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callconsent/callconsent/consent"
)

func startFakeControl(t *testing.T, configure func(*Control)) (*Control, *fakeControl) {
	f := &fakeControl{accepted: make(chan net.Conn, 100)}
	ln := listen(t, f.serve)
	c := newTestControl(t, ln.Addr().String(), "ClueCon")
	if configure != nil {
		configure(c)
	}
	must(t, c.Open(context.Background()))
	t.Cleanup(func() { c.Close() })
	return c, f
}

func nextConn(t *testing.T, f *fakeControl) net.Conn {
	t.Helper()
	select {
	case nc := <-f.accepted:
		return nc
	case <-time.After(5 * time.Second):
		t.Fatal("no (re)connect")
		return nil
	}
}

// TestControl_ReconnectSingleConnection cuts the connection 20 times: the supervisor must
// reconnect each time, call OnConnect each time, and never hold two connections at once.
func TestControl_ReconnectSingleConnection(t *testing.T) {
	var hooks atomic.Int32
	c, f := startFakeControl(t, func(c *Control) {
		c.OnConnect = func(ctx context.Context) {
			hooks.Add(1)
			<-ctx.Done() // ends with its connection
		}
	})
	for range 20 {
		nextConn(t, f).Close()
	}
	nextConn(t, f)
	waitFor(t, "ready", c.Ready)
	waitFor(t, "21 OnConnect calls", func() bool { return hooks.Load() == 21 })
	waitFor(t, "one server-side connection", func() bool { return f.live.Load() == 1 })
	if live, most := c.live.Load(), c.maxLive.Load(); live != 1 || most != 1 {
		t.Fatalf("open connections %d, at most %d; want 1 and 1", live, most)
	}
	if _, err := c.CallExists(context.Background(), "75475139-a171-4e44-9375-5c32e9e50d22"); err != nil {
		t.Fatalf("CallExists after reconnects: %v", err)
	}
	must(t, c.Close())
	if c.Ready() || c.live.Load() != 0 {
		t.Fatal("connection left open after Close")
	}
}

// TestControl_DeadPeerDetected: a peer that stays connected but stops answering is dropped by
// the liveness probe and replaced.
func TestControl_DeadPeerDetected(t *testing.T) {
	c, f := startFakeControl(t, func(c *Control) {
		c.ProbeAfter = 100 * time.Millisecond
		c.CommandTimeout = 200 * time.Millisecond
	})
	f.silent.Store(true)
	nextConn(t, f)
	nextConn(t, f) // the probe found the first one dead
	f.silent.Store(false)
	waitFor(t, "ready", c.Ready)
}

// TestControl_ConcurrentCommands: replies never go to the wrong caller (eslgo bug 1).
func TestControl_ConcurrentCommands(t *testing.T) {
	c, f := startFakeControl(t, nil)
	nextConn(t, f)
	waitFor(t, "ready", c.Ready)
	var wg sync.WaitGroup
	for i := range 30 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			uuid := fmt.Sprintf("75475139-a171-4e44-9375-5c32e9e5%04d", i)
			got, err := c.CallExists(context.Background(), uuid)
			if err != nil || got != (i%2 == 0) {
				t.Errorf("CallExists(%s) = %v, %v", uuid, got, err)
			}
		}()
	}
	wg.Wait()
}

func TestControl_NotReady(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	addr := ln.Addr().String()
	ln.Close() // nothing listens there
	c := newTestControl(t, addr, "ClueCon")
	must(t, c.Open(context.Background()))
	defer c.Close()
	const uuid = "75475139-a171-4e44-9375-5c32e9e50d23"
	if err := c.StopRecording(context.Background(), uuid, "/rec/a.wav"); !errors.Is(err, consent.ErrNotReady) {
		t.Errorf("StopRecording = %v", err)
	}
	if _, err := c.CallExists(context.Background(), uuid); !errors.Is(err, consent.ErrNotReady) {
		t.Errorf("CallExists = %v", err)
	}
}
