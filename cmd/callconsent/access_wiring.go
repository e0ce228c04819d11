package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"os/user"
	"strconv"

	"github.com/callconsent/callconsent/access"
	"github.com/callconsent/callconsent/access/argon2id"
	asqlite "github.com/callconsent/callconsent/access/sqlite"
	"github.com/callconsent/callconsent/consent"
	"github.com/callconsent/callconsent/consent/sqlite"
)

// newHasher is the password hasher (argon2id, RFC 9106 parameters).
var newHasher = func() access.Hasher { return argon2id.New() }

// auditHeadPath is the head file of the audit chain: beside the key, not the database, so that a
// database restored or cut back does not take the head with it.
func auditHeadPath(cfg *Config) string { return cfg.AuditKeyFile + ".head" }

// openAccess opens the access service on db (opened for writing): the audit key is loaded, or
// created (0600) when the database's audit log has never been sealed, the key's fingerprint is
// bound to or checked against the database like the pseudonym key's, and the `purposes` key
// seeds an empty purpose list. A missing or different key for a sealed log is refused (exit 2)
// with the file to restore: a new key would make every entry read as forged.
func openAccess(ctx context.Context, cfg *Config, db *sqlite.DB, logger *slog.Logger) (*access.Service, error) {
	store := asqlite.New(db)
	var sealed bool
	if err := store.View(ctx, func(tx access.Tx) error {
		fp, err := tx.AuditKeyFingerprint()
		sealed = fp != nil
		if !sealed {
			seq, _, terr := tx.AuditTail()
			sealed, err = seq > 0, errors.Join(err, terr)
		}
		return err
	}); err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	key, err := consent.LoadKey(cfg.AuditKeyFile)
	switch {
	case errors.Is(err, fs.ErrNotExist) && !sealed:
		if key, err = consent.CreateKey(cfg.AuditKeyFile); err != nil {
			return nil, fmt.Errorf("audit key: %w", err)
		}
	case errors.Is(err, fs.ErrNotExist):
		return nil, consent.Errorf(consent.EINVALID, "audit key file %s is missing, but database %s holds an audit log sealed with a key: restore the audit key file from a backup (a new key would make every entry read as forged)", cfg.AuditKeyFile, cfg.DB)
	case err != nil:
		return nil, fmt.Errorf("audit key: %w", err)
	}
	svc := access.NewService(store, newHasher(), access.AuditKey(key), access.NewHeadFile(auditHeadPath(cfg)))
	svc.IdleTimeout, svc.MaxAge = cfg.SessionIdle, cfg.SessionMaxAge
	if logger != nil {
		svc.Logger = logger.With("system", "access")
	}
	if err := svc.Open(ctx); err != nil {
		return nil, fmt.Errorf("%w (audit-key-file %s)", err, cfg.AuditKeyFile)
	}
	if _, err := svc.SeedPurposes(ctx, hostActor(), cfg.Purposes); err != nil {
		return nil, fmt.Errorf("seed purposes: %w", err)
	}
	return svc, nil
}

// hostActor is the OS account running this command, the actor of host commands. An account
// without a name (a container's bare uid) is named by its uid.
func hostActor() access.Actor {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return access.HostActor(u.Username)
	}
	return access.HostActor("uid" + strconv.Itoa(os.Getuid()))
}

// daemonActor is the daemon itself in the audit log.
var daemonActor = access.Actor{Kind: access.ActorSystem, Name: "daemon"}

// auditWithdrawal records a withdrawal the daemon carried out for the control socket. A failed
// entry is logged, not returned: the withdrawal happened (deleting is never held back by the
// audit), and the command that asked has audited the request itself.
func (d *daemon) auditWithdrawal(ctx context.Context, req consent.WithdrawRequest, res consent.WithdrawResult, werr error) {
	if d.access == nil {
		return
	}
	e := access.Entry{Actor: daemonActor.Name, ActorKind: daemonActor.Kind, Action: "withdraw.done", Reason: req.Reason, Result: access.ResultOK,
		Detail: fmt.Sprintf("over the control socket: %d calls withdrawn, %d live recordings stopped, %d files deleted, %d awaiting deletion", len(res.Calls), res.Stopped, res.Files, res.FilesPending)}
	for _, u := range res.Calls {
		e.Objects = append(e.Objects, access.Object{Kind: access.ObjectCall, ID: u})
	}
	if werr != nil {
		e.Result, e.Detail = access.ResultError, e.Detail+"; error: "+consent.ErrorMessage(werr)
	}
	if _, err := d.access.Append(context.WithoutCancel(ctx), e); err != nil {
		d.log.Error("withdrawal not audited", "system", "access", "err", err)
	}
}
