package main

import (
	"context"

	"github.com/callconsent/callconsent/access"
	"github.com/callconsent/callconsent/export"
)

// exportsOpen is what dsar and export open: the store for writing (the audit log is appended
// in it), the access service over it, and the export service over both.
type exportsOpen struct {
	st     *storage
	access *access.Service
	svc    *export.Service
}

// openExports opens the store, the access service and the export service of cfg. The notices
// configured now are the ones an access archive can hold (a notice heard in a version no longer
// configured is listed without its audio).
func openExports(ctx context.Context, cfg *Config) (*exportsOpen, error) {
	env, err := openAccessEnv(ctx, cfg)
	if err != nil {
		return nil, err
	}
	st, acc := env.st, env.svc
	return &exportsOpen{st: st, access: acc, svc: newExportService(cfg, st, acc)}, nil
}

// newExportService is the export service over a store and its access service: the commands'
// and the daemon's web console's.
func newExportService(cfg *Config, st *storage, acc *access.Service) *export.Service {
	var notices []export.NoticeFile
	for _, lang := range cfg.NoticeLangs() {
		n := cfg.Notices[lang]
		notices = append(notices, export.NoticeFile{Language: lang, Version: n.Version, Path: cfg.noticePath(n.File)})
	}
	return &export.Service{Access: acc, Store: st.DB, Notices: notices, RecordingsDir: cfg.RecordingsDir}
}

// Close closes the store.
func (e *exportsOpen) Close() error { return e.st.Close() }
