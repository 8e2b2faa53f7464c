package accounts

import (
	"crypto/rand"
	"fmt"
	"strings"
	"unicode/utf8"
)

// MaxNameLen is the longest user name.
const MaxNameLen = 64

// MaxPasswordLen is the longest password: bcrypt reads no further.
const MaxPasswordLen = 72

// CheckName reports whether name is a valid user name as written in the
// file: 1 to 64 of a-z 0-9 . _ -, starting with a letter or digit, no "..".
func CheckName(name string) error {
	if name == "" {
		return fmt.Errorf("%w: empty", ErrInvalidName)
	}
	if len(name) > MaxNameLen {
		return fmt.Errorf("%w: longer than %d characters", ErrInvalidName, MaxNameLen)
	}
	// By rune, so that a bad character is named whole ('ö', not the
	// first byte of its UTF-8 form).
	for i, c := range name {
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case c == '.' || c == '_' || c == '-':
			if i == 0 {
				return fmt.Errorf("%w: %q must start with a letter or digit", ErrInvalidName, name)
			}
		case c >= 'A' && c <= 'Z':
			return fmt.Errorf("%w: %q has upper case; use %q", ErrInvalidName, name, strings.ToLower(name))
		default:
			if _, size := utf8.DecodeRuneInString(name[i:]); c == utf8.RuneError && size == 1 {
				return fmt.Errorf("%w: %q is not valid UTF-8 (byte %#02x); use only a-z, 0-9, '.', '_' and '-'", ErrInvalidName, name, name[i])
			}
			return fmt.Errorf("%w: %q has %q; use only a-z, 0-9, '.', '_' and '-'", ErrInvalidName, name, c)
		}
	}
	if strings.Contains(name, "..") {
		return fmt.Errorf("%w: %q contains \"..\"", ErrInvalidName, name)
	}
	return nil
}

// canonicalName folds ASCII case and validates: names match case-insensitively.
func canonicalName(name string) (string, error) {
	if len(name) > MaxNameLen {
		return "", fmt.Errorf("%w: longer than %d characters", ErrInvalidName, MaxNameLen)
	}
	key := strings.ToLower(name)
	return key, CheckName(key)
}

// checkPassword enforces the password rules: 1..72 bytes of UTF-8, no control characters.
func checkPassword(p string) error {
	switch {
	case p == "":
		return fmt.Errorf("%w: empty", ErrInvalidPassword)
	case len(p) > MaxPasswordLen:
		return fmt.Errorf("%w: longer than %d bytes", ErrInvalidPassword, MaxPasswordLen)
	case !utf8.ValidString(p):
		return fmt.Errorf("%w: not valid UTF-8", ErrInvalidPassword)
	}
	for _, r := range p {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return fmt.Errorf("%w: contains a control character", ErrInvalidPassword)
		}
	}
	return nil
}

// passwordAlphabet has no look-alikes (no 0/o, 1/l/i): 31 symbols.
const passwordAlphabet = "abcdefghjkmnpqrstuvwxyz23456789"

// randomPassword returns four dash-separated groups of four symbols
// (about 79 bits), drawn without modulo bias.
func randomPassword() string {
	const limit = 256 - 256%len(passwordAlphabet)
	var sb strings.Builder
	var buf [32]byte
	n := 0
	for n < 16 {
		rand.Read(buf[:]) // never fails (crypto/rand panics instead)
		for _, x := range buf {
			if int(x) >= limit || n == 16 {
				continue
			}
			if n > 0 && n%4 == 0 {
				sb.WriteByte('-')
			}
			sb.WriteByte(passwordAlphabet[int(x)%len(passwordAlphabet)])
			n++
		}
	}
	return sb.String()
}

// MaxFullNameLen bounds a full name, in bytes.
const MaxFullNameLen = 128

// CheckFullName reports whether s may be an account's full name: at most
// MaxFullNameLen bytes of UTF-8 without control characters ("" is none).
func CheckFullName(s string) error {
	switch {
	case len(s) > MaxFullNameLen:
		return fmt.Errorf("%w: longer than %d bytes", ErrInvalidFullName, MaxFullNameLen)
	case !utf8.ValidString(s):
		return fmt.Errorf("%w: not valid UTF-8", ErrInvalidFullName)
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return fmt.Errorf("%w: contains a control character", ErrInvalidFullName)
		}
	}
	return nil
}
