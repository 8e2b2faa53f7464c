package interop

import (
	"context"
	"errors"
	"fmt"
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

// esearchReplies runs esearchScript and notes, per command, the
// untagged SEARCH, ESEARCH and FETCH data and the tagged status.
func esearchReplies(t *testing.T, c *imap.Client) []string {
	t.Helper()
	ctx := context.Background()
	if _, err := c.Select(ctx, "INBOX", false); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, cmd := range esearchScript {
		var got []string
		r, err := c.Execute(ctx, func(r *imap.Response) bool {
			switch r.Type {
			case "SEARCH", "ESEARCH", "FETCH":
				f := r.Fields
				if l, ok := f[0].([]any); r.Type == "ESEARCH" && len(f) > 0 && ok && len(l) > 0 && fmt.Sprint(l[0]) == "TAG" {
					f = f[1:] // the tags differ
				}
				got = append(got, fmt.Sprint(r.Num, r.Type, f))
				return true
			}
			return false
		}, imap.Atom(cmd))
		status := "OK"
		if r != nil {
			status = r.Type
		}
		var pe *imap.Error
		if err != nil && !errors.As(err, &pe) {
			t.Fatalf("%s: %v", cmd, err)
		} else if pe != nil {
			status = pe.Type
		}
		out = append(out, cmd+" -> "+status+" "+strings.Join(got, "; "))
	}
	return out
}

// TestIMAPESearchMatchesDovecot: plumb and Dovecot, holding the same
// messages, answer the same ESEARCH and SEARCHRES session alike.
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
	theirs, ours := esearchReplies(t, d), esearchReplies(t, c)
	for i := range esearchScript {
		if ours[i] != theirs[i] {
			t.Errorf("plumb   %s\nDovecot %s", ours[i], theirs[i])
		}
	}
}
