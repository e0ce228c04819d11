package esl

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/callconsent/callconsent/consent"
	"github.com/percipia/eslgo/command"
)

var _ consent.Control = (*Control)(nil)

// StopResult says what uuid_record stop found.
type StopResult int

// The outcomes of StopRecordingDetail.
const (
	StopStopped      StopResult = iota + 1 // a live recording was stopped (+OK Success)
	StopNotRecording                       // the call exists but nothing records to that path
	StopNoSession                          // the call no longer exists
)

// String returns a short name for logs.
func (r StopResult) String() string {
	switch r {
	case StopStopped:
		return "stopped"
	case StopNotRecording:
		return "not-recording"
	case StopNoSession:
		return "no-session"
	}
	return "unknown"
}

// StopRecording implements consent.Control. Both "nothing to stop" answers give nil; use
// StopRecordingDetail to tell them apart.
func (c *Control) StopRecording(ctx context.Context, callUUID, path string) error {
	res, err := c.StopRecordingDetail(ctx, callUUID, path)
	if err == nil && res != StopStopped {
		c.log.Info("esl uuid_record stop: nothing to stop", logKeyUUID, callUUID, "result", res.String())
	}
	return err
}

// StopRecordingDetail runs `uuid_record <uuid> stop <path>` and reports what FreeSWITCH found.
func (c *Control) StopRecordingDetail(ctx context.Context, callUUID, path string) (StopResult, error) {
	if !consent.ValidUUID(callUUID) {
		return 0, consent.Errorf(consent.EINVALID, "call uuid %q is not a uuid", callUUID)
	}
	if err := checkArg("recording path", path, false); err != nil {
		return 0, consent.Errorf(consent.EINVALID, "%v", err)
	}
	body, err := c.api(ctx, "uuid_record", c.IDs.fs(callUUID)+" stop "+path)
	if err != nil {
		return 0, err
	}
	switch reply := strings.TrimSpace(body); {
	case strings.HasPrefix(reply, "+OK"):
		return StopStopped, nil
	case reply == "-ERR Cannot stop record session!":
		return StopNotRecording, nil
	case reply == "-ERR Cannot locate session!":
		return StopNoSession, nil
	default:
		return 0, fmt.Errorf("uuid_record stop: %s", clip(reply))
	}
}

// CallExists implements consent.Control with uuid_exists, which answers true or false.
func (c *Control) CallExists(ctx context.Context, callUUID string) (bool, error) {
	if !consent.ValidUUID(callUUID) {
		return false, consent.Errorf(consent.EINVALID, "call uuid %q is not a uuid", callUUID)
	}
	body, err := c.api(ctx, "uuid_exists", c.IDs.fs(callUUID))
	if err != nil {
		return false, err
	}
	switch strings.TrimSpace(body) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, fmt.Errorf("uuid_exists: unexpected answer %q", clip(body))
}

// ConfirmCall implements consent.Control with `uuid_getvar <uuid> caller_id_number`, which
// answers the caller profile's number for a live channel and -ERR No such channel! otherwise:
// one round trip tells both that the channel exists and that it is this caller's. The number
// is compared here and never logged.
func (c *Control) ConfirmCall(ctx context.Context, callUUID, callerNumber string) error {
	if !consent.ValidUUID(callUUID) {
		return consent.Errorf(consent.EINVALID, "call uuid %q is not a uuid", callUUID)
	}
	body, err := c.api(ctx, "uuid_getvar", c.IDs.fs(callUUID)+" caller_id_number")
	if err != nil {
		return err
	}
	got := strings.TrimRight(body, "\n")
	if got == "_undef_" { // a channel without a caller id number
		got = ""
	}
	switch {
	case got == "-ERR No such channel!":
		return fmt.Errorf("uuid %s: %w: no such channel", callUUID, consent.ErrNotLiveCall)
	case strings.HasPrefix(got, "-"):
		return fmt.Errorf("uuid_getvar: unexpected answer %q", clip(got))
	case got != callerNumber:
		return fmt.Errorf("uuid %s: %w: another caller id on that channel", callUUID, consent.ErrNotLiveCall)
	}
	return nil
}

// api runs one api command on the live connection. A dead connection, or one that dies during
// the command, gives consent.ErrNotReady: the caller may retry once Ready again.
func (c *Control) api(ctx context.Context, cmd, args string) (string, error) {
	c.mu.Lock()
	conn := c.cur
	c.mu.Unlock()
	if conn == nil || !c.ready.Load() {
		return "", fmt.Errorf("%s: %w", cmd, consent.ErrNotReady)
	}
	f, err := conn.send(ctx, c.commandTimeout(), command.API{Command: cmd, Arguments: args})
	if errors.Is(err, errConnGone) {
		return "", fmt.Errorf("%s: %w (%v)", cmd, consent.ErrNotReady, err)
	} else if err != nil {
		return "", fmt.Errorf("%s: %w", cmd, err)
	}
	if f.contentType() != typeAPI {
		return "", fmt.Errorf("%s: unexpected reply: %s", cmd, clip(f.replyText()))
	}
	return string(f.body), nil
}

// clip shortens a FreeSWITCH answer for an error message.
func clip(s string) string {
	if len(s) > 120 {
		return s[:120] + "..."
	}
	return s
}
