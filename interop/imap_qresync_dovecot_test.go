package interop

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/plumbnet/plumb/imap"
)

// qresyncStep is one command of a session under ENABLE QRESYNC (a) or
// of a second, plain session (b) on the same mailbox.
type qresyncStep struct {
	who byte
	cmd string
}

var qresyncScript = []qresyncStep{
	{'a', `ENABLE QRESYNC`},
	{'a', `SELECT INBOX`},
	{'b', `SELECT INBOX`},
	{'b', `STORE 1 +FLAGS.SILENT (\Deleted)`},
	{'b', `EXPUNGE`},
	{'a', `NOOP`},
	{'a', `STORE 1 +FLAGS.SILENT (\Deleted)`},
	{'a', `EXPUNGE`},
	{'b', `NOOP`},
	{'a', `UID MOVE 3 Archive`},
	{'a', `UID FETCH 1:* (UID)`},
	{'b', `UID FETCH 1:* (UID)`},
	{'a', `UID FETCH 1:4 (UID) (CHANGEDSINCE 1 VANISHED)`},
}

// qresyncReplies runs qresyncScript and notes, per step, the responses
// of the two sessions that tell of message numbers, and the tagged
// status with its response code's name.
func qresyncReplies(t *testing.T, addr, user, pass string) []string {
	t.Helper()
	ctx := context.Background()
	var got []string
	note := func(r *imap.Response) {
		switch r.Type {
		case "VANISHED", "EXPUNGE", "EXISTS", "FETCH":
			got = append(got, fmt.Sprint(r.Num, r.Type, r.Fields))
		}
	}
	conns := map[byte]*imap.Client{}
	for _, who := range []byte{'a', 'b'} {
		c, err := imap.Dial(ctx, addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		c.InsecureAuth = true
		if err := c.Login(ctx, user, pass); err != nil {
			t.Fatal(err)
		}
		c.Untagged = note
		conns[who] = c
	}
	var out []string
	for _, st := range qresyncScript {
		got = nil
		r, err := conns[st.who].Execute(ctx, func(r *imap.Response) bool { note(r); return true }, imap.Atom(st.cmd))
		status := "OK"
		var pe *imap.Error
		if err != nil && !errors.As(err, &pe) {
			t.Fatalf("%s: %v", st.cmd, err)
		} else if pe != nil {
			status = pe.Type
		} else if r != nil {
			status = r.Type
			// Dovecot adds [HIGHESTMODSEQ] to the OK of every command
			// that expunged; plumb reports it at SELECT and STATUS.
			if code, _, _ := strings.Cut(r.Code, " "); code != "" && code != "HIGHESTMODSEQ" {
				status += " " + code
			}
		}
		line := string(st.who) + ": " + st.cmd + " -> " + status + " " + strings.Join(got, "; ")
		out = append(out, modseqNum.ReplaceAllString(line, "MODSEQ${1}n"))
	}
	return out
}

// TestIMAPQResyncMatchesDovecot: with QRESYNC (RFC 7162) enabled, plumb
// and Dovecot tell of expunges alike: VANISHED, never EXPUNGE, for their
// own, another session's and a MOVE's.
func TestIMAPQResyncMatchesDovecot(t *testing.T) {
	dove := startDovecotIMAP(t, "", imapMessages)
	s := startIMAP(t)
	theirs := qresyncReplies(t, dove, "alice", "dove-pw")
	ours := qresyncReplies(t, s.Addr(t, "imap"), "alice", "alice-password")
	for i := range qresyncScript {
		if ours[i] != theirs[i] {
			t.Errorf("plumb   %s\nDovecot %s", ours[i], theirs[i])
		}
	}
}
