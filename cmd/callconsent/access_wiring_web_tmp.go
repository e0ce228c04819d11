package main

// TEMPORARY until the access branch's access_wiring.go (openAccess) is merged; then deleted.

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"path/filepath"

	"github.com/callconsent/callconsent/access"
	"github.com/callconsent/callconsent/access/argon2id"
	asqlite "github.com/callconsent/callconsent/access/sqlite"
	"github.com/callconsent/callconsent/consent"
	"github.com/callconsent/callconsent/consent/sqlite"
)

var newHasher = func() access.Hasher { return argon2id.New() }

func openAccess(ctx context.Context, cfg *Config, db *sqlite.DB, logger *slog.Logger) (*access.Service, error) {
	keyFile := filepath.Join(filepath.Dir(cfg.KeyFile), "audit.key")
	key, err := consent.LoadKey(keyFile)
	if errors.Is(err, fs.ErrNotExist) {
		key, err = consent.CreateKey(keyFile)
	}
	if err != nil {
		return nil, err
	}
	svc := access.NewService(asqlite.New(db), newHasher(), access.AuditKey(key), access.NewHeadFile(keyFile+".head"))
	svc.Logger = logger.With("system", "access")
	if err := svc.Open(ctx); err != nil {
		return nil, err
	}
	if _, err := svc.SeedPurposes(ctx, access.HostActor("test"), cfg.Purposes); err != nil {
		return nil, err
	}
	return svc, nil
}
