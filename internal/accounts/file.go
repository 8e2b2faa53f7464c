package accounts

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/pelletier/go-toml/v2"
	"golang.org/x/crypto/bcrypt"

	"github.com/plumbnet/plumb/internal/atomicfile"
)

// MaxFileSize bounds the account file read into memory (about 50,000 users).
const MaxFileSize = 16 << 20

// record is one [[user]] table of the file.
type record struct {
	Name       string    `toml:"name"`
	Hash       string    `toml:"hash"`
	APOPSecret string    `toml:"apop_secret,omitempty"`
	FullName   string    `toml:"full_name,omitempty"`
	Created    time.Time `toml:"created,omitempty"`
	// Tokens are the SHA-256 (hex) of the account's API tokens.
	Tokens []string `toml:"api_tokens,omitempty"`
}

func (r record) user() User { return User{Name: r.Name, Home: r.Name, FullName: r.FullName} }

type fileData struct {
	User []record `toml:"user"`
}

const fileHeader = `# plumb accounts: one [[user]] table per account. Manage with
# "plumb user add|passwd|del|list"; a running plumb serve rereads this
# file when it changes. hash is bcrypt; apop_secret, when set, is the
# plain-text secret for POP3 APOP and should differ from the password.

`

// errSkip ends an update without writing.
var errSkip = errors.New("accounts: nothing to do")

// parseFile decodes and validates the account file; errors carry "line:col: ".
func parseFile(b []byte) (map[string]record, error) {
	if len(b) > MaxFileSize {
		return nil, fmt.Errorf(" file larger than %d bytes", MaxFileSize)
	}
	var f fileData
	dec := toml.NewDecoder(bytes.NewReader(b)).DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		var se *toml.StrictMissingError
		if errors.As(err, &se) && len(se.Errors) > 0 {
			row, col := se.Errors[0].Position()
			return nil, fmt.Errorf("%d:%d: unknown key %q (allowed: name, hash, apop_secret, full_name, created)",
				row, col, strings.Join(se.Errors[0].Key(), "."))
		}
		var de *toml.DecodeError
		if errors.As(err, &de) {
			row, col := de.Position()
			return nil, fmt.Errorf("%d:%d: %s", row, col, de.Error())
		}
		return nil, fmt.Errorf(" %w", err)
	}
	users := make(map[string]record, len(f.User))
	for i, r := range f.User {
		if err := CheckName(r.Name); err != nil {
			return nil, fmt.Errorf(" user #%d: %w", i+1, err)
		}
		if _, dup := users[r.Name]; dup {
			return nil, fmt.Errorf(" user #%d: %q appears twice", i+1, r.Name)
		}
		if _, err := bcrypt.Cost([]byte(r.Hash)); err != nil {
			return nil, fmt.Errorf(" user %q: hash is not a bcrypt hash: %w", r.Name, err)
		}
		if r.APOPSecret != "" {
			if err := checkPassword(r.APOPSecret); err != nil {
				return nil, fmt.Errorf(" user %q: apop_secret: %w", r.Name, err)
			}
		}
		if err := CheckFullName(r.FullName); err != nil {
			return nil, fmt.Errorf(" user %q: full_name: %w", r.Name, err)
		}
		users[r.Name] = r
	}
	return users, nil
}

// marshalFile encodes the accounts sorted by name, with the header.
func marshalFile(users map[string]record) ([]byte, error) {
	f := fileData{User: make([]record, 0, len(users))}
	for _, r := range users {
		f.User = append(f.User, r)
	}
	sort.Slice(f.User, func(i, j int) bool { return f.User[i].Name < f.User[j].Name })
	body, err := toml.Marshal(f)
	if err != nil {
		return nil, fmt.Errorf("accounts: encoding: %w", err)
	}
	return append([]byte(fileHeader), body...), nil
}

// writeFile replaces path atomically: a temporary file in the same
// directory, mode 0600, fsynced, renamed over path, and the directory
// fsynced so the rename itself is durable.
func writeFile(path string, users map[string]record) error {
	b, err := marshalFile(users)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("accounts: %w", err)
	}
	if err := atomicfile.WriteFile(path, b, 0o600); err != nil {
		return fmt.Errorf("accounts: %w", err)
	}
	return nil
}

// fileStamp is what tells a changed file from the one read before: an
// atomic replace makes a new file, so identity changes even when the
// modification time's granularity hides the write.
type fileStamp struct {
	exists bool
	info   fs.FileInfo
}

func statFile(path string) (fileStamp, error) {
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return fileStamp{}, nil
	}
	if err != nil {
		return fileStamp{}, fmt.Errorf("accounts: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return fileStamp{}, fmt.Errorf("accounts: %s is not a regular file", path)
	}
	return fileStamp{exists: true, info: fi}, nil
}

func (s fileStamp) same(o fileStamp) bool {
	if s.exists != o.exists {
		return false
	}
	if !s.exists {
		return true
	}
	return os.SameFile(s.info, o.info) && s.info.ModTime().Equal(o.info.ModTime()) && s.info.Size() == o.info.Size()
}
