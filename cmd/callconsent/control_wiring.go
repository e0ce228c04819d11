package main

import (
	"context"

	"github.com/callconsent/callconsent/consent"
	"github.com/callconsent/callconsent/control"
)

// The daemon answers the control socket's requests.
var _ control.Handler = (*daemon)(nil)

// listenControl takes the control socket before anything else touches the database: a socket
// with a live daemon behind it is an error (that daemon's pending calls are not ours to
// abandon), a stale one is replaced. Requests wait in the listen queue until serveControl.
func (d *daemon) listenControl() error {
	d.ctlSocket = control.NewServer(d.cfg.ControlSocket, d, d.log)
	d.ctlSocket.OnPanic = d.counted(loopControl)
	if err := d.ctlSocket.Listen(); err != nil {
		return err
	}
	d.closers = append(d.closers, d.ctlSocket.Close)
	return nil
}

// serveControl starts answering on the control socket, once everything a request needs is
// open. Its Close comes first when the daemon closes (the closers run in reverse): the
// requests under way end before the withdrawer and the database they use close. The Close
// listenControl registered then does nothing.
func (d *daemon) serveControl(ctx context.Context) error {
	if err := d.ctlSocket.Open(ctx); err != nil {
		return err
	}
	d.closers = append(d.closers, d.ctlSocket.Close)
	return nil
}

// Withdraw carries out a withdrawal the control socket received: a live call's recording is
// stopped through FreeSWITCH, the audio deleted (consent.Withdrawer).
// The withdrawal is audited by the daemon (the requesting command audits who asked): what it
// withdrew, or that it failed.
func (d *daemon) Withdraw(ctx context.Context, req consent.WithdrawRequest) (consent.WithdrawResult, error) {
	res, err := d.withdrawer.Withdraw(ctx, req)
	d.auditWithdrawal(ctx, req, res, err)
	return res, err
}
