package daemon

import (
	"slices"
	"strings"

	"github.com/plumbnet/plumb/imap"
	"github.com/plumbnet/plumb/internal/mailstore"
)

// IMAP keywords are stored as Dovecot stores them: a lower-case letter
// in the file name's flags, given to the keyword in the folder's
// dovecot-keywords file, so that plumb and Dovecot serving one Maildir
// show the same keywords.

// systemLetter is the letter of a system flag.
func systemLetter(flag string) (byte, bool) {
	for _, fl := range flagLetters {
		if strings.EqualFold(flag, fl.flag) {
			return fl.letter, true
		}
	}
	return 0, false
}

// letters maps IMAP flags to mb's letters: the system flags' own, and
// for keywords the letters the folder gave them, new ones getting the
// next free letter when create (a STORE, an APPEND); \Recent and
// unknown system flags have none.
func letters(mb *mailstore.Mailbox, flags []string, create bool) (mailstore.Flags, error) {
	var b []byte
	var kws []string
	for _, f := range flags {
		if l, ok := systemLetter(f); ok {
			b = append(b, l)
		} else if !strings.HasPrefix(f, `\`) {
			kws = append(kws, f)
		}
	}
	if len(kws) > 0 {
		var k mailstore.Keywords
		var err error
		if create {
			k, err = mb.AddKeywords(kws)
		} else {
			k, err = mb.Keywords()
		}
		if err != nil {
			return "", err
		}
		for _, n := range kws {
			if l, ok := k.Letter(n); ok {
				b = append(b, l)
			}
		}
	}
	return mailstore.NewFlags(string(b)), nil
}

// hasKeywords reports whether f holds a keyword's letter.
func hasKeywords(f mailstore.Flags) bool {
	return strings.IndexFunc(string(f), func(r rune) bool { return r >= 'a' && r <= 'z' }) >= 0
}

// flagsWith maps letters to IMAP flags: the system flags, then the
// keywords k names (nil: none known).
func flagsWith(f mailstore.Flags, k *mailstore.Keywords) []string {
	if !hasKeywords(f) {
		return fromLetters(f)
	}
	sys := fromLetters(mailstore.Flags(strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' {
			return -1
		}
		return r
	}, string(f))))
	if k == nil {
		return sys
	}
	return append(slices.Clip(sys), k.Names(f)...)
}

// keywordsOf reads mb's keywords when f needs them.
func keywordsOf(mb *mailstore.Mailbox, f mailstore.Flags) *mailstore.Keywords {
	if !hasKeywords(f) {
		return nil
	}
	k, err := mb.Keywords()
	if err != nil {
		return nil
	}
	return &k
}

// KeywordsAllowed: keywords are stored (imap.PermanentKeywords).
func (m *imapMailbox) KeywordsAllowed() bool { return true }

var _ imap.PermanentKeywords = (*imapMailbox)(nil)
