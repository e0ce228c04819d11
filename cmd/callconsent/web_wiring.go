package main

import (
	"context"
	"fmt"
	"github.com/callconsent/callconsent/access"
	"time"

	"github.com/callconsent/callconsent/web"
)

// openWeb starts the web console on web-listen, unless it is empty: the daemon's access
// service, the calls read from its database, and withdrawals carried out by the daemon's
// own withdrawer (as the control socket does for the CLI). Opened before the control socket
// answers, so that a daemon that answers `status` serves its console too; it closes before
// the withdrawer and the database it uses.
func (d *daemon) openWeb(ctx context.Context) error {
	if d.cfg.WebListen == "" {
		return nil
	}
	backend := &webAccess{svc: d.access, exports: newExportService(d.cfg, d.store, d.access), calls: d.store.DB, withdraw: d.Withdraw, now: time.Now,
		logins: access.NewLoginStates(d.access)}
	srv, err := web.New(web.Config{Addr: d.cfg.WebListen, CertFile: d.cfg.WebCert, KeyFile: d.cfg.WebKey,
		Location: d.cfg.webLocation(), Auth: backend, Calls: backend, Officer: backend,
		Pseudonym: d.store.Pseudonyms.Pseudonym, Logger: d.log})
	if err != nil {
		return err
	}
	if err := srv.Open(ctx); err != nil {
		return err
	}
	d.web, d.webBackend = srv, backend
	d.closers = append(d.closers, srv.Close)
	return nil
}

// describeWeb is the console's address for the start-up log line, "off" without one.
func (d *daemon) describeWeb() string {
	if d.web == nil {
		return "off"
	}
	return fmt.Sprintf("%s/", d.web.URL())
}
