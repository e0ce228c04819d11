package web

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"sync"
	"time"
)

// Bounds of the listen tokens: how long a granted listen's player works, and how many listens
// the server remembers at once (the oldest is forgotten first; its player then says to ask
// again).
const (
	listenTTL        = 30 * time.Minute
	maxListenTokens  = 4096
	listenTokenBytes = 32
)

// listenTokens remembers the listens the access service granted: token → the session it was
// granted to, the call and its file. The session is kept as a hash: a memory dump of the
// server shows no session id.
type listenTokens struct {
	now func() time.Time

	mu     sync.Mutex
	tokens map[string]listenGrant
}

type listenGrant struct {
	session [sha256.Size]byte
	call    string
	path    string
	expires time.Time
}

func newListenTokens(now func() time.Time) *listenTokens {
	return &listenTokens{now: now, tokens: map[string]listenGrant{}}
}

// issue remembers a granted listen and returns its token (random, 256 bits).
func (l *listenTokens) issue(sessionID, call, path string) (string, error) {
	b := make([]byte, listenTokenBytes)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	token := base64.RawURLEncoding.EncodeToString(b)
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.tokens) >= maxListenTokens {
		l.evict(now)
	}
	l.tokens[token] = listenGrant{session: sha256.Sum256([]byte(sessionID)), call: call, path: path, expires: now.Add(listenTTL)}
	return token, nil
}

// evict forgets the expired listens, and when none had expired the one that expires first.
func (l *listenTokens) evict(now time.Time) {
	for t, g := range l.tokens {
		if !now.Before(g.expires) {
			delete(l.tokens, t)
		}
	}
	if len(l.tokens) < maxListenTokens {
		return
	}
	var oldest string
	var first time.Time
	for t, g := range l.tokens {
		if oldest == "" || g.expires.Before(first) {
			oldest, first = t, g.expires
		}
	}
	delete(l.tokens, oldest)
}

// lookup returns the listen of token if it was granted to this session and has not expired.
func (l *listenTokens) lookup(token, sessionID string) (listenGrant, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	g, ok := l.tokens[token]
	if !ok || g.session != sha256.Sum256([]byte(sessionID)) {
		return listenGrant{}, false
	}
	if !l.now().Before(g.expires) {
		delete(l.tokens, token)
		return listenGrant{}, false
	}
	return g, true
}

// forget drops a token (its call may no longer be heard).
func (l *listenTokens) forget(token string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.tokens, token)
}

// len is how many listens are remembered (tests check the bound).
func (l *listenTokens) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.tokens)
}
