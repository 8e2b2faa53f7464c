package accounts

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// verifiedTTL is how long a password that matched is remembered.
const verifiedTTL = 10 * time.Minute

// maxVerified bounds the cache; past it, the oldest half of the
// remembered matches is forgotten.
const maxVerified = 10000

// verifier remembers for a while that a password matched a stored hash,
// and lets concurrent checks of the same pair share one bcrypt
// comparison, as Dovecot's auth cache does: a mail client that opens
// ten connections at once, or 300 FTP logins of one account, cost one
// bcrypt instead of one each. Entries are keyed by an HMAC (with a key
// made at start and never stored) of the hash and the password, so no
// password is kept, and a changed password (a new hash) never hits an
// old entry. Only matches are remembered; a wrong password always costs
// a full comparison.
type verifier struct {
	key      []byte
	mu       sync.Mutex
	ok       map[[sha256.Size]byte]time.Time // expiry of a remembered match
	inflight map[[sha256.Size]byte]*verifyCall
	now      func() time.Time
	cmp      func(hash, password []byte) error
}

type verifyCall struct {
	done  chan struct{}
	match bool
}

func newVerifier() *verifier {
	key := make([]byte, 32)
	rand.Read(key)
	return &verifier{key: key, ok: map[[sha256.Size]byte]time.Time{},
		inflight: map[[sha256.Size]byte]*verifyCall{}, now: time.Now,
		cmp: bcrypt.CompareHashAndPassword}
}

// compare reports whether password matches hash.
func (v *verifier) compare(hash []byte, password string) bool {
	m := hmac.New(sha256.New, v.key)
	m.Write(hash)
	m.Write([]byte{0})
	m.Write([]byte(password))
	var k [sha256.Size]byte
	m.Sum(k[:0])

	v.mu.Lock()
	if exp, hit := v.ok[k]; hit && v.now().Before(exp) {
		v.mu.Unlock()
		return true
	}
	if c := v.inflight[k]; c != nil {
		v.mu.Unlock()
		<-c.done
		return c.match
	}
	c := &verifyCall{done: make(chan struct{})}
	v.inflight[k] = c
	v.mu.Unlock()

	c.match = v.cmp(hash, []byte(password)) == nil

	v.mu.Lock()
	delete(v.inflight, k)
	if c.match {
		if len(v.ok) >= maxVerified {
			v.evictLocked()
		}
		v.ok[k] = v.now().Add(verifiedTTL)
	}
	v.mu.Unlock()
	close(c.done)
	return c.match
}

// evictLocked forgets expired matches and, if that is not enough, the
// half that expire soonest.
func (v *verifier) evictLocked() {
	now := v.now()
	cut := now.Add(verifiedTTL / 2)
	for k, exp := range v.ok {
		if !now.Before(exp) {
			delete(v.ok, k)
		}
	}
	if len(v.ok) < maxVerified {
		return
	}
	for k, exp := range v.ok {
		if exp.Before(cut) {
			delete(v.ok, k)
		}
	}
	if len(v.ok) >= maxVerified {
		clear(v.ok)
	}
}
