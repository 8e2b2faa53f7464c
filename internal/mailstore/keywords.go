package mailstore

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/plumbnet/plumb/internal/atomicfile"
)

// keywordsFile is where a folder's keywords get their letters, as
// Dovecot keeps them: "<n> <keyword>" a line, n from 0 to 25 for the
// lower-case letters 'a' to 'z' of the file names' flags. Plumb and
// Dovecot on one Maildir so see the same keywords.
const keywordsFile = "dovecot-keywords"

// Keywords are a folder's keywords by letter: Keywords[i] is 'a'+i's,
// "" for a letter not given out.
type Keywords [26]string

// Errors of AddKeywords: a folder has a letter for 26 keywords at
// most, and a keyword is printable ASCII without spaces.
var (
	ErrTooManyKeywords = errors.New("mailstore: no letter left for another keyword (26 at most)")
	ErrBadKeyword      = errors.New("mailstore: bad keyword")
)

// Letter returns name's letter, matched without regard to case.
func (k *Keywords) Letter(name string) (byte, bool) {
	for i, n := range k {
		if n != "" && strings.EqualFold(n, name) {
			return byte('a' + i), true
		}
	}
	return 0, false
}

// Names returns the keywords of f's lower-case letters, in letter order.
func (k *Keywords) Names(f Flags) []string {
	var out []string
	for i := 0; i < len(f); i++ {
		if c := f[i]; c >= 'a' && c <= 'z' && k[c-'a'] != "" {
			out = append(out, k[c-'a'])
		}
	}
	return out
}

// validKeyword reports whether name can be a line of the file.
func validKeyword(name string) bool {
	if name == "" || len(name) > 255 {
		return false
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c <= ' ' || c == 0x7f {
			return false
		}
	}
	return true
}

func parseKeywords(b []byte) Keywords {
	var k Keywords
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		n, name, ok := strings.Cut(sc.Text(), " ")
		i, err := strconv.Atoi(n)
		if !ok || err != nil || i < 0 || i >= len(k) || !validKeyword(name) {
			continue // Dovecot's own lines beyond 'z', or damage
		}
		k[i] = name
	}
	return k
}

// Keywords returns the folder's keywords as the file has them now.
func (m *Mailbox) Keywords() (Keywords, error) {
	b, err := os.ReadFile(filepath.Join(m.f.path, keywordsFile))
	if errors.Is(err, fs.ErrNotExist) {
		return Keywords{}, nil
	}
	if err != nil {
		return Keywords{}, fmt.Errorf("mailstore: %w", err)
	}
	return parseKeywords(b), nil
}

// AddKeywords gives each of names not yet known the next free letter,
// writing the file (atomically, synced) before it returns, so that no
// file name carries a letter the file does not explain; and returns
// the keywords then. Under the folder's lock, which other plumb
// processes respect (Dovecot takes its own).
func (m *Mailbox) AddKeywords(names []string) (Keywords, error) {
	var k Keywords
	err := m.f.withLock(func() error {
		var err error
		if k, err = m.Keywords(); err != nil {
			return err
		}
		added := false
		for _, name := range names {
			if _, ok := k.Letter(name); ok {
				continue
			}
			if !validKeyword(name) {
				return fmt.Errorf("%w: %q", ErrBadKeyword, name)
			}
			i := -1
			for j, n := range k {
				if n == "" {
					i = j
					break
				}
			}
			if i < 0 {
				return ErrTooManyKeywords
			}
			k[i], added = name, true
		}
		if !added {
			return nil
		}
		var b bytes.Buffer
		for i, n := range k {
			if n != "" {
				fmt.Fprintf(&b, "%d %s\n", i, n)
			}
		}
		if err := atomicfile.WriteFile(filepath.Join(m.f.path, keywordsFile), b.Bytes(), 0o600); err != nil {
			return fmt.Errorf("mailstore: %w", err)
		}
		return nil
	})
	return k, err
}
