package web

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Downloads: an attachment made whole before it is sent, the mutes passed on as typed, the
// number turned into the pseudonym; a refusal is a page, not a broken file.
func TestDownloads(t *testing.T) {
	ts := startServer(t)
	mgr, off := ts.login(t, "mona", managerPassword), ts.login(t, "olga", officerPassword)
	resp := ts.post(t, mgr, "/calls/0b1c2d3e-0000-4000-8000-000000000001/export", url.Values{"purpose": {"training"}, "reason": {"course example for december"},
		"mutes": {"caller:1-2,\n3-end ; 4.5-5"}})
	if b := body(t, resp); resp.StatusCode != http.StatusOK || b != "PKcaller:1-2;3-end;4.5-5" ||
		resp.Header.Get("Content-Disposition") != `attachment; filename=training-x-1.zip` || resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("export: %s %q %v", resp.Status, b, resp.Header)
	}
	resp = ts.post(t, mgr, "/calls/0b1c2d3e-0000-4000-8000-000000000001/export", url.Values{"purpose": {"training"}, "reason": {""}})
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body(t, resp), "reason of a few words") || resp.Header.Get("Content-Disposition") != "" {
		t.Fatalf("refused export: %s %v", resp.Status, resp.Header)
	}
	many := strings.Repeat("1-2 ", maxMutes+1)
	if resp := ts.post(t, mgr, "/calls/0b1c2d3e-0000-4000-8000-000000000001/export", url.Values{"purpose": {"training"}, "reason": {"a b c d"}, "mutes": {many}}); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("%d ranges: %s", maxMutes+1, resp.Status)
	}
	resp = ts.post(t, off, "/dsar", url.Values{"number": {"+47 912 34 567"}, "reason": {"access request by letter"}})
	if b := body(t, resp); resp.StatusCode != http.StatusOK || b != "PKpseudonym-of-the-number" || resp.Header.Get("Content-Type") != "application/zip" {
		t.Fatalf("dsar: %s %q", resp.Status, b)
	}
	resp = ts.post(t, off, "/dsar", url.Values{"number": {"+47 912 34 567"}, "reason": {"access request by letter"}, "from": {"2026-01-01"}, "to": {"2026-06-30"}})
	if b := body(t, resp); b != "PKpseudonym-of-the-number 2025-12-31T23:00:00Z/2026-06-30T22:00:00Z" {
		t.Fatalf("dsar for a period (Oslo days, until the end of the last): %q", b)
	}
	if resp := ts.post(t, off, "/dsar", url.Values{"number": {"+4791234567"}, "reason": {"x y z"}, "from": {"1.1.2026"}}); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("dsar with a date that is none: %s", resp.Status)
	}
	if resp := ts.post(t, off, "/dsar", url.Values{"number": {"ring me"}, "reason": {"x y z"}}); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("dsar without a number: %s", resp.Status)
	}
	if strings.Contains(ts.logs.String(), "912 34 567") {
		t.Error("the log holds the number")
	}
}

// The listener holds at most MaxConns connections: one more is closed at accept, and the
// console answers again once one is free.
func TestConnectionBound(t *testing.T) {
	b := newBackend(t)
	s, err := New(Config{Addr: "127.0.0.1:0", Auth: b, Calls: b, Officer: b, Pseudonym: func(string) string { return "p" }, MaxConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var held []net.Conn
	for range 2 {
		c, err := net.Dial("tcp", s.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
	}
	extra, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	extra.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := extra.Read(make([]byte, 1)); err == nil || n != 0 {
		t.Fatalf("a connection beyond the bound was served (%d bytes, %v)", n, err)
	}
	if s.Refused() != 1 {
		t.Fatalf("refused %d, want 1", s.Refused())
	}
	for _, c := range held {
		c.Close()
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		resp, err := http.Get(s.URL() + "/login")
		if err == nil && resp.StatusCode == http.StatusOK {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no answer after the connections closed: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A form larger than maxFormBytes is refused before any service sees it.
func TestFormBound(t *testing.T) {
	ts := startServer(t)
	off := ts.login(t, "olga", officerPassword)
	resp := ts.post(t, off, "/purposes", url.Values{"name": {"x"}, "description": {strings.Repeat("a", maxFormBytes)}, "reason": {"r"}})
	if resp.StatusCode < 400 || len(ts.b.changes) != 0 {
		t.Fatalf("a %d KiB form: %s, changes %v", maxFormBytes>>10, resp.Status, ts.b.changes)
	}
}

// With web-cert and web-key the console speaks TLS only, and its session cookie is __Host-
// prefixed and Secure.
func TestTLS(t *testing.T) {
	dir := t.TempDir()
	cert, key := filepath.Join(dir, "c.pem"), filepath.Join(dir, "k.pem")
	writeSelfSigned(t, cert, key)
	b := newBackend(t)
	s, err := New(Config{Addr: "127.0.0.1:0", CertFile: cert, KeyFile: key, Auth: b, Calls: b, Officer: b, Pseudonym: func(string) string { return "p" }})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if !strings.HasPrefix(s.URL(), "https://") {
		t.Fatalf("URL %s", s.URL())
	}
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, _ := http.NewRequest(http.MethodPost, s.URL()+"/login", strings.NewReader(url.Values{"user": {"mona"}, "password": {managerPassword}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var sc *http.Cookie
	for _, k := range resp.Cookies() {
		if k.Name == "__Host-callconsent" {
			sc = k
		}
	}
	if sc == nil || !sc.Secure || !sc.HttpOnly || sc.SameSite != http.SameSiteStrictMode {
		t.Fatalf("session cookie over TLS: %+v", sc)
	}
	if plain, err := http.Get("http://" + s.Addr().String() + "/login"); err == nil {
		b, _ := io.ReadAll(plain.Body)
		plain.Body.Close()
		if strings.Contains(string(b), "<form") {
			t.Fatal("the console answered plain HTTP")
		}
	}
}

func writeSelfSigned(t *testing.T, certFile, keyFile string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb}), 0o600)
}

// A client that stops reading the audio holds its connection no longer than the response's
// deadline: the server gives up and closes it.
func TestWriteDeadline(t *testing.T) {
	ts := startServer(t)
	ts.audioTimeout = 300 * time.Millisecond
	big := make([]byte, 32<<20)
	copy(big, []byte("RIFF"))
	if err := os.WriteFile(ts.b.audio, big, 0o600); err != nil {
		t.Fatal(err)
	}
	mgr := ts.login(t, "mona", managerPassword)
	page := body(t, ts.post(t, mgr, "/calls/0b1c2d3e-0000-4000-8000-000000000001/listen", url.Values{"purpose": {"quality-assurance"}, "reason": {"ticket 42 check"}}))
	i := strings.Index(page, `src="/audio/`)
	if i < 0 {
		t.Fatal("no player")
	}
	src := page[i+5 : i+5+strings.IndexByte(page[i+5:], '"')]
	u, _ := url.Parse(ts.url)
	var cookie string
	for _, k := range mgr.Jar.Cookies(u) {
		cookie = k.Name + "=" + k.Value
	}
	conn, err := net.Dial("tcp", ts.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: x\r\nCookie: %s\r\n\r\n", src, cookie)
	time.Sleep(2 * time.Second) // read nothing: the server's writes block, then time out
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	n, _ := io.Copy(io.Discard, conn)
	if n >= int64(len(big)) {
		t.Fatalf("the whole %d bytes came through a connection that read nothing for longer than the deadline", n)
	}
}
