package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/callconsent/callconsent/access"
	"github.com/callconsent/callconsent/consent"
	"github.com/callconsent/callconsent/export"
	"github.com/spf13/cobra"
)

func newListenCommand(g *globalOptions) *cobra.Command {
	var opts recordOptions
	cmd := &cobra.Command{
		Use:   "listen UUID --out FILE --purpose P --reason TEXT",
		Short: "Copy a recording's audio to a new private file (line manager with a grant)",
		Long: `Copy the audio of one call to --out, a new file (never an existing one) with mode
0600, for listening. Only a complete recording of a call with consent that was not
withdrawn is copied. A line manager only, --as NAME, with an unexpired, unrevoked grant
for --purpose and a --reason (at least 3 words and 15 characters). Every listen, refused
or not, is in the audit log with the call's UUID; the copy appears only once its entry
is written. Delete the copy when done: it is not covered by the retention sweep.

` + accessHelp + `

` + exitCodesHelp,
		Example: `  callconsent listen 3f2c0c1e-8d5b-4c1e-9a0e-1c2d3e4f5a6b --out /tmp/call.wav --as mats \
      --purpose quality-assurance --reason "complaint 4711 about agent tone on Monday"`,
		Args: exactArgs("UUID"),
		RunE: asTool(g, &opts.identityOptions, func(ctx context.Context, cfg *Config, args []string, out io.Writer) error {
			return runListen(ctx, cfg, opts, args[0], out)
		}),
	}
	opts.addAccessFlags(cmd)
	cmd.Flags().StringVar(&opts.Out, "out", "", "the new `file` to write the audio to (required; must not exist)")
	return cmd
}

func runListen(ctx context.Context, cfg *Config, opts recordOptions, arg string, out io.Writer) (err error) {
	id, ok := consent.CanonicalUUID(arg)
	if !ok {
		return invalidf("listen: %s is not a call UUID", quoteShort(arg))
	}
	if opts.Out == "" {
		return invalidf("listen: --out FILE is required (a new file for the audio)")
	}
	if _, err := os.Lstat(opts.Out); err == nil {
		return consent.Errorf(consent.ECONFLICT, "listen: --out %s exists already: name a new file", opts.Out)
	}
	env, err := openAccessEnv(ctx, cfg)
	if err != nil {
		return err
	}
	defer closeInto(&err, env)
	actor, err := opts.login(ctx, env.svc, "listen")
	if err != nil {
		return err
	}
	acc, err := env.svc.Authorize(ctx, actor, access.Request{Action: access.ActionListen, Purpose: opts.Purpose, Reason: opts.Reason,
		Objects: []access.Object{{Kind: access.ObjectCall, ID: id}}})
	if err != nil {
		return err
	}
	n, err := copyRecording(ctx, env, cfg, id, opts.Out, func() error { return acc.Begin(ctx, nil, "copying to a temporary file beside --out") },
		func() error { return acc.Done(ctx, nil, "") })
	if err != nil {
		return joinFail(ctx, acc, err)
	}
	return report(out, opts.Output, map[string]any{"call": id, "out": opts.Out, "bytes": n},
		fmt.Sprintf("copied the recording of %s to %s (%d bytes, mode 0600)", id, opts.Out, n))
}

// copyRecording records the start of the copy (begin), copies call id's recording to a
// temporary file beside dst, calls audit, and only then renames it to dst: no audio is written
// anywhere before its access is on record, and it appears under dst only once it is done.
// Temporary files a crashed run left beside dst are removed first.
func copyRecording(ctx context.Context, env *accessEnv, cfg *Config, id, dst string, begin, audit func() error) (int64, error) {
	c, err := env.st.DB.FindCall(ctx, id)
	if err != nil {
		return 0, err
	}
	if !playable(c) {
		return 0, consent.Errorf(consent.ECONFLICT, "call %s has no recording that may be heard (consent %s%s, recording %s)", id, c.Decision,
			map[bool]string{true: ", withdrawn"}[c.Withdrawn()], recordingState(c))
	}
	src, err := openBelow(cfg.RecordingsDir, c.Recording.Path)
	if err != nil {
		return 0, err
	}
	defer src.Close()
	if err := begin(); err != nil {
		return 0, err
	}
	export.RemoveStaleTemps(dst)
	tmp, err := os.CreateTemp(filepath.Dir(dst), export.TempPattern(dst))
	if err != nil {
		return 0, consent.Errorf(consent.EINVALID, "listen: --out: %v", err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename there is nothing left to remove
	n, cerr := io.Copy(tmp, src)
	serr := tmp.Sync()
	if err := errors.Join(cerr, serr, tmp.Close()); err != nil {
		return 0, fmt.Errorf("copy the recording: %w", err)
	}
	if err := audit(); err != nil {
		return 0, err
	}
	// Link, not rename: link fails if dst appeared meanwhile, so nothing is ever overwritten.
	if err := os.Link(tmp.Name(), dst); err != nil {
		return 0, consent.Errorf(consent.ECONFLICT, "listen: --out %s: %v", dst, err)
	}
	return n, nil
}

func recordingState(c *consent.Call) string {
	if c.Recording == nil {
		return "none"
	}
	return string(c.Recording.State)
}

// openBelow opens path for reading only if it lies below dir and is a regular file reached
// without following a symbolic link at its end.
func openBelow(dir, path string) (*os.File, error) {
	rel, err := filepath.Rel(dir, path)
	if err != nil || rel == "." || strings.HasPrefix(rel, "..") || filepath.IsAbs(rel) {
		return nil, consent.Errorf(consent.ECONFLICT, "the recording's path is not below recordings-dir %s: refused", dir)
	}
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, consent.Errorf(consent.ENOTFOUND, "the recording's file is gone (deleted by retention or withdrawal?)")
	} else if err != nil {
		return nil, fmt.Errorf("open the recording: %w", err)
	}
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		f.Close()
		return nil, consent.Errorf(consent.ECONFLICT, "the recording is not a regular file: refused")
	}
	return f, nil
}
