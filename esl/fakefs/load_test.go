package fakefs

import (
	"bufio"
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// fastDaemon is a minimal socket handler for load measurements: answer, prompt,
// record on "1", transfer, exit after the hangup.
func fastDaemon(conn net.Conn, dir string) {
	defer conn.Close()
	br := bufio.NewReaderSize(conn, 64<<10)
	w := func(s string) { conn.Write([]byte(s)) }
	w("connect\n\n")
	data, _ := readUnit(br)
	uuid := data.get("Unique-ID")
	w("myevents\n\nlinger 5\n\nevent plain RECORD_START RECORD_STOP\n\n")
	w(sendmsg("answer", "", "a1"))
	for {
		u, err := readUnit(br)
		if err != nil {
			return
		}
		if u.get("Content-Disposition") == "linger" {
			w("exit\n\n")
			continue
		}
		// cheap scans: this stand-in must not be what the load test measures
		b := string(u.body)
		if !strings.HasPrefix(b, "Event-Name: CHANNEL_EXECUTE_COMPLETE\n") {
			continue
		}
		switch {
		case strings.Contains(b, "Application-UUID: a1\n"):
			w(sendmsg("play_and_get_digits", pagdArg, "a2"))
		case strings.Contains(b, "Application-UUID: a2\n"):
			if strings.Contains(b, "variable_consent_digit: 1\n") {
				w(sendmsg("record_session", dir+"/"+uuid+".wav {RECORD_STEREO=true,RECORD_MIN_SEC=1}", "a3"))
			}
			w(sendmsg("transfer", "6000 XML default", "a4"))
		}
	}
}

// BenchmarkCalls offers ~1000 calls/s (run with -bench Calls -benchtime 3000x). Put
// RecordingsDir on tmpfs for real load runs: file creation on disk dominated otherwise.
func BenchmarkCalls(b *testing.B) {
	s := New(Config{FixedMediaDuration: 200 * time.Millisecond, RecordingsDir: b.TempDir()})
	if err := s.Open(context.Background()); err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	defer ln.Close()
	dir := b.TempDir()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go fastDaemon(c, dir)
		}
	}()
	var wg sync.WaitGroup
	tk := time.NewTicker(10 * time.Millisecond)
	defer tk.Stop()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if i%10 == 0 {
			<-tk.C // offer ~1000 calls/s in batches of 10
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			spec := CallSpec{Script: []Step{Press(AtPrompt, 50*time.Millisecond, "1")}, HangupAfterTransfer: time.Second}
			if _, err := s.Call(context.Background(), ln.Addr().String(), spec); err != nil {
				b.Error(err)
			}
		}()
	}
	wg.Wait()
}
