package accounts

import (
	"context"
	"crypto/md5"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// FileName is the account file's name inside plumb's data directory.
const FileName = "accounts.toml"

// Errors returned by the database. Validation errors wrap ErrInvalidName
// or ErrInvalidPassword with the reason.
var (
	// ErrAuthFailed is returned for a wrong user or password, without saying which.
	ErrAuthFailed      = errors.New("accounts: authentication failed")
	ErrExists          = errors.New("accounts: user already exists")
	ErrNotFound        = errors.New("accounts: no such user")
	ErrInvalidName     = errors.New("accounts: invalid user name")
	ErrInvalidPassword = errors.New("accounts: invalid password")
	ErrInvalidFullName = errors.New("accounts: invalid full name")
)

// User is one account as services see it.
type User struct {
	Name string
	Home string // relative home directory name used by the file tree and the mail store
	// FullName is the person's name ("Alice Liddell"), "" when not set;
	// finger shows it.
	FullName string
}

// HomeName is the name of u's home in the file tree: Home, or the
// account's name when Home is not set.
func (u User) HomeName() string {
	if u.Home != "" {
		return u.Home
	}
	return u.Name
}

// Account is one entry of [DB.List].
type Account struct {
	User
	APOP    bool      // an APOP secret is set
	Created time.Time // zero when the file does not say
}

// Options tune a [DB]; the zero value is the production setting.
type Options struct {
	// Cost is the bcrypt cost of new hashes; 0 means bcrypt.DefaultCost.
	Cost int
	// Throttle slows down repeated failures from one client address.
	Throttle Throttle
	// Logger receives reload problems and throttling notices; nil means slog.Default().
	Logger *slog.Logger
	// OnFailure, if set, is called after each failed Authenticate or
	// VerifyAPOP with the name tried and the client's address.
	OnFailure func(name string, remote net.Addr)
}

// DB is the account file. It is safe for concurrent use, and by several
// processes at once.
type DB struct {
	path string
	cost int
	log  *slog.Logger

	mu    sync.Mutex
	users map[string]record
	stamp fileStamp

	dummyMu sync.Mutex
	dummy   map[int][]byte // bcrypt cost -> hash of a random password

	fails    *failures
	verified *verifier
	onFail   func(name string, remote net.Addr)
}

// Open opens the account file at path with the default [Options]. A
// missing file is no error: it holds no accounts and is created, with
// its directory, by the first change.
func Open(path string) (*DB, error) { return OpenWith(path, Options{}) }

// OpenWith opens the account file at path with the given options.
func OpenWith(path string, o Options) (*DB, error) {
	if o.Cost == 0 {
		o.Cost = bcrypt.DefaultCost
	}
	if o.Cost < bcrypt.MinCost || o.Cost > bcrypt.MaxCost {
		return nil, fmt.Errorf("accounts: bcrypt cost %d out of range %d..%d", o.Cost, bcrypt.MinCost, bcrypt.MaxCost)
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	db := &DB{
		path:  path,
		cost:  o.Cost,
		log:   o.Logger,
		users: map[string]record{},
		dummy: map[int][]byte{},
		fails: newFailures(o.Throttle.withDefaults()),

		verified: newVerifier(),
		onFail:   o.OnFailure,
	}
	db.mu.Lock()
	defer db.mu.Unlock()
	if err := db.reloadLocked(true); err != nil {
		return nil, err
	}
	if db.stamp.exists && db.stamp.info.Mode().Perm()&0o077 != 0 {
		db.log.Warn("account file is readable by others; chmod 600 it", "path", path, "mode", db.stamp.info.Mode().Perm().String())
	}
	return db, nil
}

// Path returns the account file's path.
func (db *DB) Path() string { return db.path }

// refresh rereads the file if it changed since it was last read. A file
// that no longer parses is logged and the accounts read before stay.
func (db *DB) refresh() {
	if err := db.reloadLocked(false); err != nil {
		db.log.Error("account file not reloaded; keeping the accounts read before", "path", db.path, "err", err)
	}
}

// reloadLocked reads the file when force is set or its stamp changed.
func (db *DB) reloadLocked(force bool) error {
	st, err := statFile(db.path)
	if err != nil {
		return err
	}
	if !force && st.same(db.stamp) {
		return nil
	}
	if !st.exists {
		db.users, db.stamp = map[string]record{}, st
		return nil
	}
	b, err := os.ReadFile(db.path)
	if err != nil {
		return fmt.Errorf("accounts: %w", err)
	}
	users, err := parseFile(b)
	if err != nil {
		return fmt.Errorf("%s:%w", db.path, err)
	}
	db.users, db.stamp = users, st
	return nil
}

// lookup returns the record of name (any ASCII case) after a refresh.
func (db *DB) lookup(name string) (record, bool) {
	key, err := canonicalName(name)
	if err != nil {
		return record{}, false
	}
	db.mu.Lock()
	defer db.mu.Unlock()
	db.refresh()
	r, ok := db.users[key]
	return r, ok
}

// Lookup reports whether the user exists, and returns it.
func (db *DB) Lookup(name string) (User, bool) {
	r, ok := db.lookup(name)
	if !ok {
		return User{}, false
	}
	return r.user(), true
}

// List returns every account, sorted by name.
func (db *DB) List() []Account {
	db.mu.Lock()
	defer db.mu.Unlock()
	db.refresh()
	out := make([]Account, 0, len(db.users))
	for _, r := range db.users {
		out = append(out, Account{User: r.user(), APOP: r.APOPSecret != "", Created: r.Created})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Authenticate checks name and password and returns the user, or
// ErrAuthFailed. It takes one bcrypt comparison whether or not the user
// exists. remote (may be nil) is the client: attempts from one address
// (IPv4, or IPv6 /64) are checked one at a time, and once it has failed
// often, each waits a growing delay first (see [Throttle]). Every
// service that checks a password, on any protocol, must call this (or
// [DB.VerifyAPOP]) with the client's real address, so that they share
// one throttle. A context ended while waiting returns its error.
func (db *DB) Authenticate(ctx context.Context, name, password string, remote net.Addr) (User, error) {
	key := clientKey(remote)
	end, err := db.fails.begin(ctx, key)
	if err != nil {
		return User{}, err
	}
	failed := true
	defer func() { db.ended(end, failed, key, name, remote) }()
	r, ok := db.lookup(name)
	hash := []byte(r.Hash)
	if !ok {
		hash = db.dummyHash(db.usualCost())
	}
	// bcrypt ignores bytes past 72, so a longer password, which can never
	// have been set, must fail even if its prefix matches.
	match := db.verified.compare(hash, password)
	if !ok || !match || checkPassword(password) != nil {
		return User{}, ErrAuthFailed
	}
	failed = false
	return r.user(), nil
}

// ended ends an attempt's turn and logs when it engaged the throttle.
func (db *DB) ended(end func(failed bool) int, failed bool, key, name string, remote net.Addr) {
	if n := end(failed); failed && n == db.fails.t.Failures {
		db.log.Warn("repeated authentication failures; slowing this client down", "remote", key, "failures", n)
	}
	if failed && db.onFail != nil {
		db.onFail(name, remote)
	}
}

// APOPSecret returns the user's APOP secret, if one is set; without one,
// APOP must be refused for that user.
func (db *DB) APOPSecret(name string) (string, bool) {
	r, ok := db.lookup(name)
	if !ok || r.APOPSecret == "" {
		return "", false
	}
	return r.APOPSecret, true
}

// VerifyAPOP checks an APOP digest (RFC 1939 section 7: the lowercase
// hex MD5 of the server's timestamp banner, angle brackets included,
// followed by the secret) in constant time, under the same throttle as
// [DB.Authenticate]. A user without an APOP secret fails.
func (db *DB) VerifyAPOP(ctx context.Context, name, timestamp, digest string, remote net.Addr) (User, error) {
	key := clientKey(remote)
	end, err := db.fails.begin(ctx, key)
	if err != nil {
		return User{}, err
	}
	failed := true
	defer func() { db.ended(end, failed, key, name, remote) }()
	r, ok := db.lookup(name)
	secret := r.APOPSecret
	if !ok || secret == "" {
		ok, secret = false, "\x00no secret"
	}
	sum := md5.Sum([]byte(timestamp + secret))
	want := hex.EncodeToString(sum[:])
	if subtle.ConstantTimeCompare([]byte(want), []byte(strings.ToLower(digest))) != 1 || !ok {
		return User{}, ErrAuthFailed
	}
	failed = false
	return r.user(), nil
}

// usualCost is the bcrypt cost of the stored hashes (the first one
// found), so the dummy comparison for an unknown user costs the same.
func (db *DB) usualCost() int {
	db.mu.Lock()
	defer db.mu.Unlock()
	for _, r := range db.users {
		if c, err := bcrypt.Cost([]byte(r.Hash)); err == nil {
			return c
		}
	}
	return db.cost
}

// dummyHash returns a hash of a random password with the given cost,
// made once per cost.
func (db *DB) dummyHash(cost int) []byte {
	db.dummyMu.Lock()
	defer db.dummyMu.Unlock()
	if h, ok := db.dummy[cost]; ok {
		return h
	}
	h, err := bcrypt.GenerateFromPassword([]byte(randomPassword()), cost)
	if err != nil { // only for an impossible cost: fall back to ours
		h, _ = bcrypt.GenerateFromPassword([]byte(randomPassword()), db.cost)
	}
	db.dummy[cost] = h
	return h
}
