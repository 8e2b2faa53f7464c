package accounts

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"slices"
	"strings"
)

// tokenPrefix starts every API token, so that one found in a log or a
// repository is recognized for what it is.
const tokenPrefix = "plumb_"

// maxTokens is how many API tokens one account keeps; a new one beyond
// that replaces the oldest.
const maxTokens = 8

func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// NewToken makes a new API token for name and returns it; only its
// SHA-256 is stored, so it is shown this once. Tokens are random (32
// bytes), so a plain hash is as good as a slow one.
func (db *DB) NewToken(name string) (string, error) {
	key, err := canonicalName(name)
	if err != nil {
		return "", err
	}
	var b [32]byte
	rand.Read(b[:])
	token := tokenPrefix + hex.EncodeToString(b[:])
	err = db.update(func(users map[string]record) error {
		r, ok := users[key]
		if !ok {
			return ErrNotFound
		}
		r.Tokens = append(slices.Clone(r.Tokens), hashToken(token))
		if len(r.Tokens) > maxTokens {
			r.Tokens = r.Tokens[len(r.Tokens)-maxTokens:]
		}
		users[key] = r
		return nil
	})
	if err != nil {
		return "", err
	}
	return token, nil
}

// RevokeTokens removes every API token of name.
func (db *DB) RevokeTokens(name string) error {
	key, err := canonicalName(name)
	if err != nil {
		return err
	}
	return db.update(func(users map[string]record) error {
		r, ok := users[key]
		if !ok {
			return ErrNotFound
		}
		r.Tokens = nil
		users[key] = r
		return nil
	})
}

// TokenUser returns the account whose API token token is.
func (db *DB) TokenUser(token string) (string, bool) {
	if !strings.HasPrefix(token, tokenPrefix) {
		return "", false
	}
	h := []byte(hashToken(token))
	db.mu.Lock()
	defer db.mu.Unlock()
	db.refresh()
	for _, r := range db.users {
		for _, t := range r.Tokens {
			if subtle.ConstantTimeCompare(h, []byte(t)) == 1 {
				return r.Name, true
			}
		}
	}
	return "", false
}
