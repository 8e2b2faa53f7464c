package accounts

import (
	"fmt"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// update applies fn to a fresh copy of the accounts, read under the
// file lock, and writes the result atomically. A file that does not
// parse is not overwritten.
func (db *DB) update(fn func(users map[string]record) error) error {
	db.mu.Lock()
	defer db.mu.Unlock()
	unlock, err := lockFile(db.path)
	if err != nil {
		return err
	}
	defer unlock()
	if err := db.reloadLocked(true); err != nil {
		return err
	}
	next := make(map[string]record, len(db.users)+1)
	for k, v := range db.users {
		next[k] = v
	}
	if err := fn(next); err != nil {
		return err
	}
	if err := writeFile(db.path, next); err != nil {
		return err
	}
	db.users = next
	st, err := statFile(db.path)
	if err != nil {
		return err
	}
	db.stamp = st
	return nil
}

func (db *DB) hash(password string) (string, error) {
	if err := checkPassword(password); err != nil {
		return "", err
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), db.cost)
	if err != nil {
		return "", fmt.Errorf("accounts: hashing password: %w", err)
	}
	return string(h), nil
}

// Add creates user name with password; ErrExists if it exists.
func (db *DB) Add(name, password string) error {
	if err := CheckName(name); err != nil {
		return err
	}
	h, err := db.hash(password)
	if err != nil {
		return err
	}
	return db.update(func(users map[string]record) error {
		if _, ok := users[name]; ok {
			return fmt.Errorf("%w: %s", ErrExists, name)
		}
		users[name] = record{Name: name, Hash: h, Created: time.Now().UTC().Truncate(time.Second)}
		return nil
	})
}

// SetPassword replaces the password of user name (any ASCII case).
func (db *DB) SetPassword(name, password string) error {
	key, err := canonicalName(name)
	if err != nil {
		return err
	}
	h, err := db.hash(password)
	if err != nil {
		return err
	}
	return db.update(func(users map[string]record) error {
		r, ok := users[key]
		if !ok {
			return fmt.Errorf("%w: %s", ErrNotFound, key)
		}
		r.Hash = h
		users[key] = r
		return nil
	})
}

// SetAPOPSecret sets the user's APOP secret, stored as given; an empty
// secret removes it, which refuses APOP for the user. See the package
// documentation for the trade-off.
func (db *DB) SetAPOPSecret(name, secret string) error {
	key, err := canonicalName(name)
	if err != nil {
		return err
	}
	if secret != "" {
		if err := checkPassword(secret); err != nil {
			return err
		}
	}
	return db.update(func(users map[string]record) error {
		r, ok := users[key]
		if !ok {
			return fmt.Errorf("%w: %s", ErrNotFound, key)
		}
		r.APOPSecret = secret
		users[key] = r
		return nil
	})
}

// SetFullName sets the user's full name; "" removes it.
func (db *DB) SetFullName(name, full string) error {
	key, err := canonicalName(name)
	if err != nil {
		return err
	}
	if err := CheckFullName(full); err != nil {
		return err
	}
	return db.update(func(users map[string]record) error {
		r, ok := users[key]
		if !ok {
			return fmt.Errorf("%w: %s", ErrNotFound, key)
		}
		r.FullName = full
		users[key] = r
		return nil
	})
}

// Delete removes user name (any ASCII case). Its files and mail are left alone.
func (db *DB) Delete(name string) error {
	key, err := canonicalName(name)
	if err != nil {
		return err
	}
	return db.update(func(users map[string]record) error {
		if _, ok := users[key]; !ok {
			return fmt.Errorf("%w: %s", ErrNotFound, key)
		}
		delete(users, key)
		return nil
	})
}

// EnsureFirstUser creates user name with a random password when the
// file holds no account at all, and returns that password (which the
// caller shows once: only its hash is kept) with created set. When any
// account exists it does nothing and returns "", false, nil.
func (db *DB) EnsureFirstUser(name string) (password string, created bool, err error) {
	if err := CheckName(name); err != nil {
		return "", false, err
	}
	// Cheap check first, so a daemon start with accounts hashes nothing.
	db.mu.Lock()
	db.refresh()
	n := len(db.users)
	db.mu.Unlock()
	if n > 0 {
		return "", false, nil
	}
	password = randomPassword()
	h, err := db.hash(password)
	if err != nil {
		return "", false, err
	}
	err = db.update(func(users map[string]record) error {
		if len(users) > 0 {
			return errSkip
		}
		users[name] = record{Name: name, Hash: h, Created: time.Now().UTC().Truncate(time.Second)}
		return nil
	})
	if err == errSkip {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	return password, true, nil
}
