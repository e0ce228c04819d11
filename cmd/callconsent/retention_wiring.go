package main

import "context"

// openRetention starts the retention schedule inside the daemon.
func (d *daemon) openRetention(ctx context.Context) error { return nil }
