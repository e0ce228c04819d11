package storetest

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/callconsent/callconsent/consent"
)

func (c *contract) testWithdraw(t *testing.T) {
	ctx := context.Background()
	t.Run("LiveRecording", func(t *testing.T) {
		s := c.store(t)
		call := c.recordingIn(t, s, consent.RecordingRecording)
		at := Now.Add(time.Hour)
		rec, err := s.Withdraw(ctx, consent.Withdrawal{CallUUID: call.UUID, At: at, Reason: "ticket 4711"})
		if err != nil {
			t.Fatal(err)
		} else if rec == nil || rec.State != consent.RecordingDeleting {
			t.Fatalf("returned recording %+v, want state deleting", rec)
		}
		got := mustFindCall(t, s, call.UUID)
		if !got.WithdrawnAt.Equal(at) || !got.Withdrawn() || got.WithdrawalReason != "ticket 4711" {
			t.Fatalf("withdrawn at %v (%q), want %v (ticket 4711)", got.WithdrawnAt, got.WithdrawalReason, at)
		} else if !reflect.DeepEqual(got.Recording, rec) {
			t.Fatalf("stored %+v, returned %+v", got.Recording, rec)
		}
		// Nothing more may be recorded for this call.
		wantCode(t, s.UpdateRecording(ctx, call.UUID, consent.RecordingComplete, consent.RecordingUpdate{}), consent.EINVALID)
	})

	t.Run("TwiceKeepsFirst", func(t *testing.T) {
		s := c.store(t)
		call := c.recordingIn(t, s, consent.RecordingComplete)
		first := Now.Add(time.Hour)
		if _, err := s.Withdraw(ctx, consent.Withdrawal{CallUUID: call.UUID, At: first, Reason: "first"}); err != nil {
			t.Fatal(err)
		}
		rec, err := s.Withdraw(ctx, consent.Withdrawal{CallUUID: call.UUID, At: first.Add(time.Hour), Reason: "second"})
		if err != nil {
			t.Fatal(err)
		} else if rec.State != consent.RecordingDeleting {
			t.Fatalf("state %s, want deleting", rec.State)
		}
		if got := mustFindCall(t, s, call.UUID); !got.WithdrawnAt.Equal(first) || got.WithdrawalReason != "first" {
			t.Fatalf("withdrawn at %v (%q), want the first time and reason %v", got.WithdrawnAt, got.WithdrawalReason, first)
		}
	})

	t.Run("TimeDefaultsToNow", func(t *testing.T) {
		s := c.store(t)
		call := mustCreateCall(t, s, pseudonym(t), Now.Add(-time.Hour))
		if _, err := s.Withdraw(ctx, consent.Withdrawal{CallUUID: call.UUID}); err != nil {
			t.Fatal(err)
		}
		if got := mustFindCall(t, s, call.UUID); !got.WithdrawnAt.Equal(Now) {
			t.Fatalf("withdrawn at %v, want the store's time %v", got.WithdrawnAt, Now)
		}
	})

	t.Run("NoRecording", func(t *testing.T) {
		s := c.store(t)
		call := mustCreateCall(t, s, pseudonym(t), Now) // withdrawn while still at the prompt
		rec, err := s.Withdraw(ctx, consent.Withdrawal{CallUUID: call.UUID})
		if err != nil {
			t.Fatal(err)
		} else if rec != nil {
			t.Fatalf("got recording %+v, want nil", rec)
		}
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		_, err := c.store(t).Withdraw(ctx, consent.Withdrawal{CallUUID: newUUID(t)})
		wantCode(t, err, consent.ENOTFOUND)
	})
}
