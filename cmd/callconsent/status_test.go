package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/callconsent/callconsent/consent"
	"github.com/callconsent/callconsent/esl/fakefs"
)

func TestStatus(t *testing.T) {
	h := startHarness(t, fakefs.Config{})
	res := h.call(fakefs.CallSpec{Script: []fakefs.Step{pressAfterNotice("2")}})
	h.finalCall(res.UUID)
	var out bytes.Buffer
	if err := runStatus(h.ctx, h.cfg, statusOptions{}, &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"freeswitch: connected", "live calls: 0", `callconsent_decisions_total{decision="declined"} 1`, "callconsent_freeswitch_connected 1"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("status lacks %q:\n%s", want, out.String())
		}
	}
	h.fs.Close() // FreeSWITCH gone: unhealthy, exit 4
	h.waitFor("control down", func() bool { return !h.d.control.Ready() })
	if err := runStatus(h.ctx, h.cfg, statusOptions{}, &out); consent.ErrorCode(err) != consent.ECONFLICT {
		t.Errorf("status without FreeSWITCH: %v, want conflict", err)
	}
	h.d.Close()
	if err := runStatus(h.ctx, h.cfg, statusOptions{}, &out); !errors.Is(err, errNoDaemon) {
		t.Errorf("status without a daemon: %v", err)
	}
}
