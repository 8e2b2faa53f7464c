package interop

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/plumbnet/plumb/imap"
)

// esearchScript is a session of ESEARCH (RFC 4731) and SEARCHRES
// (RFC 5182) commands over imapMessages that plumb and Dovecot must
// answer alike.
var esearchScript = []string{
	`FETCH $ (UID)`,
	`SEARCH RETURN (MIN MAX COUNT ALL) SUBJECT l`,
	`UID SEARCH RETURN () ALL`,
	`SEARCH RETURN (COUNT) BODY nowhere`,
	`SEARCH RETURN (MIN MAX) BODY nowhere`,
	`SEARCH RETURN (SAVE) BODY sandwiches`,
	`FETCH $ (UID)`,
	`UID FETCH $ (UID)`,
	`SEARCH RETURN (SAVE MAX) FROM example.org`,
	`FETCH $ (UID)`,
	`UID SEARCH RETURN (MIN SAVE MAX) ALL`,
	`FETCH $ (UID)`,
	`SEARCH RETURN (SAVE COUNT MIN) ALL`,
	`SEARCH $`,
	`UID SEARCH UID $`,
	`SEARCH RETURN (ALL SAVE) NOT $`,
	`FETCH $ (UID)`,
	`SEARCH RETURN (SAVE) FROM`,
	`FETCH $ (UID)`,
	`SEARCH RETURN (SAVE) CHARSET X-NOSUCH ALL`,
	`FETCH $ (UID)`,
	`SEARCH RETURN (SAVE) 2:3`,
	`STORE $ +FLAGS.SILENT (\Flagged)`,
	`SEARCH FLAGGED`,
	`SELECT INBOX`,
	`FETCH $ (UID)`,
	`SEARCH RETURN (SAVE) 1`,
	`EXAMINE INBOX`,
	`UID FETCH $ (UID)`,
}

// condstoreScript is the same for CONDSTORE (RFC 7162), where the two
// servers' mod-sequences differ (so they are not compared), but not
// which messages they stand for.
var condstoreScript = []string{
	`SELECT INBOX (CONDSTORE)`,
	`STORE 1:3 (UNCHANGEDSINCE 0) +FLAGS (\Flagged)`,
	`SEARCH FLAGGED`,
	`FETCH 1:* (UID MODSEQ)`,
	`UID STORE 2 +FLAGS.SILENT (\Answered)`,
	`SEARCH RETURN (COUNT MIN) ANSWERED`,
	`SEARCH RETURN (ALL) MODSEQ 1`,
	`UID SEARCH RETURN (MAX) MODSEQ 1`,
	`UID STORE 1 +FLAGS.SILENT (\Seen)`,
	`UID STORE 3 (UNCHANGEDSINCE 0) -FLAGS (\Seen)`,
	`SEARCH SEEN`,
}

var modseqNum = regexp.MustCompile(`MODSEQ( \[| )\d+`)

// esearchReplies runs script and notes, per command, the untagged
// SEARCH, ESEARCH and FETCH data and the tagged status, mod-sequences
// left out.
func esearchReplies(t *testing.T, c *imap.Client, script []string) []string {
	t.Helper()
	ctx := context.Background()
	if _, err := c.Select(ctx, "INBOX", false); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, cmd := range script {
		var got []string
		r, err := c.Execute(ctx, func(r *imap.Response) bool {
			switch r.Type {
			case "SEARCH", "ESEARCH", "FETCH":
				f := r.Fields
				if r.Type == "ESEARCH" && len(f) > 0 {
					if l, ok := f[0].([]any); ok && len(l) > 0 && fmt.Sprint(l[0]) == "TAG" {
						f = f[1:] // the tags differ
					}
				}
				got = append(got, fmt.Sprint(r.Num, r.Type, f))
				return true
			}
			return false
		}, imap.Atom(cmd))
		status := "OK"
		if r != nil {
			status = r.Type
			if code, _, _ := strings.Cut(r.Code, " "); code == "MODIFIED" {
				status += " [" + r.Code + "]"
			}
		}
		var pe *imap.Error
		if err != nil && !errors.As(err, &pe) {
			t.Fatalf("%s: %v", cmd, err)
		} else if pe != nil {
			status = pe.Type
		}
		out = append(out, modseqNum.ReplaceAllString(cmd+" -> "+status+" "+strings.Join(got, "; "), "MODSEQ${1}n"))
	}
	return out
}

// TestIMAPESearchMatchesDovecot: plumb and Dovecot, holding the same
// messages, answer the same ESEARCH, SEARCHRES and CONDSTORE sessions
// alike.
func TestIMAPESearchMatchesDovecot(t *testing.T) {
	dove := startDovecotIMAP(t, "", imapMessages)
	s := startIMAP(t)
	ctx := context.Background()
	d, err := imap.Dial(ctx, dove)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	d.InsecureAuth = true
	if err := d.Login(ctx, "alice", "dove-pw"); err != nil {
		t.Fatal(err)
	}
	c, err := imap.Dial(ctx, s.Addr(t, "imap"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login(ctx, "alice", "alice-password"); err != nil {
		t.Fatal(err)
	}
	for _, script := range [][]string{esearchScript, condstoreScript} {
		theirs, ours := esearchReplies(t, d, script), esearchReplies(t, c, script)
		for i := range script {
			if ours[i] != theirs[i] {
				t.Errorf("plumb   %s\nDovecot %s", ours[i], theirs[i])
			}
		}
	}
}
