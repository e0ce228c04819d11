package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	sd "github.com/coreos/go-systemd/v22/daemon"
)

// systemdNotifier speaks systemd's notify protocol for a Type=notify unit: READY=1 once the
// daemon can take calls, WATCHDOG=1 from the main loop while it works, STOPPING=1 when it
// stops. Outside systemd (no NOTIFY_SOCKET) every message is a no-op.
type systemdNotifier struct {
	log *slog.Logger
	// watchdog is the unit's WatchdogSec= (WATCHDOG_USEC for this process); 0: no watchdog.
	watchdog time.Duration
}

func newSystemdNotifier(logger *slog.Logger) *systemdNotifier {
	n := &systemdNotifier{log: logger.With("system", "systemd")}
	wd, err := sd.SdWatchdogEnabled(false)
	if err != nil {
		n.log.Warn("watchdog settings unreadable; not pinging the watchdog", "err", err)
	}
	n.watchdog = wd
	return n
}

// notify sends one state; a failure is logged, not fatal: systemd then times the unit out
// (Type=notify) or restarts it (watchdog), which the log explains.
func (n *systemdNotifier) notify(state string) {
	if _, err := sd.SdNotify(false, state); err != nil {
		n.log.Error("notify systemd failed", "state", state, "err", err)
	}
}

// mainLoop runs until ctx ends. With a watchdog it pings every half watchdog period, each
// time after the daemon proved it still works (alive): a daemon whose status cannot be
// gathered (a deadlock) stops pinging, and systemd restarts it.
func (n *systemdNotifier) mainLoop(ctx context.Context, alive func() error) {
	if n.watchdog <= 0 {
		<-ctx.Done()
		return
	}
	t := time.NewTicker(n.watchdog / 2)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := alive(); err != nil {
				n.log.Error("watchdog not pinged: the daemon does not work", "err", err)
				continue
			}
			n.notify(sd.SdNotifyWatchdog)
		}
	}
}

// alive is the watchdog's check: the registry gathers, and with it every component's state
// (the readiness checks, the sweeper's alarms, the census, the call counts).
func (d *daemon) alive() error {
	if _, err := d.metrics.Text(); err != nil {
		return fmt.Errorf("gather metrics: %w", err)
	}
	return nil
}
