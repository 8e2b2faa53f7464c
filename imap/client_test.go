package imap

import (
	"context"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestClientAgainstServer(t *testing.T) {
	be, addr := newTestServer(t, testMessage, "From: bob@example.org\r\nSubject: two\r\n\r\nsecond\r\n")
	ctx := context.Background()
	c, err := Dial(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login(ctx, "alice", "bad"); !errors.Is(err, ErrAuthFailed) {
		t.Fatalf("Login with a bad password = %v, want ErrAuthFailed", err)
	}
	if err := c.Authenticate(ctx, "alice", "pw"); err != nil {
		t.Fatalf("Authenticate = %v", err)
	}
	if !c.Has("MOVE") {
		t.Errorf("capabilities after login lack MOVE")
	}
	sel, err := c.Select(ctx, "INBOX", false)
	if err != nil || sel.Exists != 2 || sel.UIDNext != 3 || sel.UIDValidity == 0 {
		t.Fatalf("Select = %+v, %v", sel, err)
	}
	var got []*FetchData
	err = c.Fetch(ctx, false, SeqSetOf(1, 2), "(UID FLAGS RFC822.SIZE ENVELOPE BODY.PEEK[1])", func(f *FetchData) error {
		got = append(got, f)
		return nil
	})
	if err != nil || len(got) != 2 {
		t.Fatalf("Fetch = %d messages, %v", len(got), err)
	}
	if got[0].Subject() != "café meeting" || got[0].From() != "Alice <alice@example.org>" || got[0].Size != int64(len(testMessage)) {
		t.Errorf("Fetch 1: subject %q, from %q, size %d", got[0].Subject(), got[0].From(), got[0].Size)
	}
	if s := got[1].Sections["BODY[1]"]; s != "second\r\n" {
		t.Errorf("BODY[1] of message 2 = %q", s)
	}
	if n, err := c.Search(ctx, true, "FROM bob"); err != nil || !slices.Equal(n, []uint32{2}) {
		t.Errorf("UID SEARCH FROM bob = %v, %v", n, err)
	}
	if err := c.Store(ctx, false, SeqSetOf(1), "+FLAGS.SILENT", []string{FlagDeleted}); err != nil {
		t.Fatal(err)
	}
	cd, err := c.Copy(ctx, true, SeqSetOf(2), "Archive")
	if err != nil || cd == nil || cd.Dest != "1" {
		t.Errorf("Copy = %+v, %v", cd, err)
	}
	if n, err := c.Expunge(ctx); err != nil || !slices.Equal(n, []uint32{1}) {
		t.Errorf("Expunge = %v, %v", n, err)
	}
	big := []byte("Subject: literal\r\n\r\n" + strings.Repeat("line of text\r\n", 1000))
	if v, u, err := c.Append(ctx, "Archive", []string{FlagSeen}, time.Time{}, big); err != nil || v == 0 || u != 2 {
		t.Errorf("Append = %d %d %v", v, u, err)
	}
	if _, err := c.Select(ctx, "Nowhere", false); !errors.Is(err, ErrNoSuchMailbox) {
		t.Errorf("Select(Nowhere) = %v, want [NONEXISTENT]", err)
	}
	var pe *Error
	if err := c.simple(ctx, Atom("FROB")); !errors.As(err, &pe) || pe.Type != "BAD" {
		t.Errorf("unknown command = %v, want BAD", err)
	}
	if err := c.Create(ctx, "Réunions/2024"); err != nil {
		t.Fatal(err)
	}
	list, err := c.List(ctx, "", "*")
	if err != nil || !slices.ContainsFunc(list, func(l ListData) bool { return l.Name == "Réunions/2024" }) {
		t.Errorf("List = %+v, %v", list, err)
	}
	st, err := c.Status(ctx, "Archive", "MESSAGES", "UIDNEXT")
	if err != nil || st["MESSAGES"] != 2 || st["UIDNEXT"] != 3 {
		t.Errorf("Status = %v, %v", st, err)
	}
	if _, err := c.Select(ctx, "INBOX", false); err != nil {
		t.Fatal(err)
	}
	// IDLE: a delivery arrives as EXISTS; cancel ends IDLE.
	ictx, cancel := context.WithCancel(ctx)
	updates := make(chan *Response, 4)
	done := make(chan error, 1)
	go func() { done <- c.Idle(ictx, func(r *Response) { updates <- r }) }()
	if _, err := be.Deliver("alice", "INBOX", []byte("Subject: 3\r\n\r\n3\r\n")); err != nil {
		t.Fatal(err)
	}
	for r := range updates {
		if r.Type == "EXISTS" {
			break
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Idle = %v", err)
	}
	if err := c.Logout(ctx); err != nil {
		t.Errorf("Logout = %v", err)
	}
}

func TestClientRefusesInjection(t *testing.T) {
	_, addr := newTestServer(t)
	c, err := Dial(context.Background(), addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Store(context.Background(), false, SeqSetOf(1), "FLAGS", []string{"a\r\nb LOGOUT"}); !errors.Is(err, ErrBadArgument) {
		t.Errorf("Store with CRLF in a flag = %v, want ErrBadArgument", err)
	}
	// A string with CRLF goes as a literal, never as a line break.
	if err := c.Login(context.Background(), "alice\r\nx LOGOUT", "pw"); !errors.Is(err, ErrAuthFailed) {
		t.Errorf("Login with CRLF in the user = %v, want a refused login", err)
	}
}

// FuzzResponse: any bytes read as responses end in a response or an
// error, never a panic; a FETCH our encoder writes reads back the same.
func FuzzResponse(f *testing.F) {
	f.Add("* 1 FETCH (UID 1 BODY[HEADER.FIELDS (SUBJECT)] {5}\r\nhello FLAGS (\\Seen))\r\n", "x\"y\\z")
	f.Add("* OK [UIDNEXT 5] x\r\na1 NO [TRYCREATE] no\r\n", "")
	f.Add("* LIST (\\HasNoChildren) \"/\" INBOX\r\n", "\r\n")
	f.Fuzz(func(t *testing.T, input, s string) {
		rr := respReader{br: bufioReader(input), maxResp: 1 << 16, maxLiteral: 1 << 16}
		for range 10 {
			if _, err := rr.read(); err != nil {
				break
			}
		}
		var b strings.Builder
		w := bufioWriter(&b)
		e := &encoder{Writer: w}
		e.WriteString("* 7 FETCH (BODY[] ")
		e.str(s)
		e.WriteString(" X ")
		e.nstr(s)
		e.WriteString(")\r\n")
		w.Flush()
		rr = respReader{br: bufioReader(b.String()), maxResp: 1 << 20, maxLiteral: 1 << 20}
		r, err := rr.read()
		if err != nil {
			t.Fatalf("reading %q: %v", b.String(), err)
		}
		d := parseFetch(r)
		if d.Seq != 7 || d.Sections["BODY[]"] != s {
			t.Fatalf("FETCH of %q read back as %+v", s, d)
		}
		if x := list(r.Fields[0])[3]; s == "" && x != nil || s != "" && x != s {
			t.Fatalf("nstring %q read back as %#v", s, x)
		}
	})
}

func TestClientFetchToStreams(t *testing.T) {
	big := "Subject: big\r\n\r\n" + strings.Repeat(strings.Repeat("z", 98)+"\r\n", 30000)
	_, addr := newTestServer(t, big)
	ctx := context.Background()
	c, err := Dial(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.MaxLiteral = 1 << 20 // smaller than the message: only a stream gets it
	c.reset()
	if err := c.Login(ctx, "alice", "pw"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Select(ctx, "INBOX", true); err != nil {
		t.Fatal(err)
	}
	var got strings.Builder
	var uid uint32
	err = c.FetchTo(ctx, true, SeqSetOf(1), "(UID BODY.PEEK[])", func(item string, r io.Reader) error {
		_, err := io.Copy(&got, r)
		return err
	}, func(f *FetchData) error { uid = f.UID; return nil })
	if err != nil || got.String() != big || uid != 1 {
		t.Fatalf("FetchTo = %d bytes (uid %d), %v; want %d", got.Len(), uid, err, len(big))
	}
	if err := c.Fetch(ctx, true, SeqSetOf(1), "(BODY.PEEK[])", func(*FetchData) error { return nil }); err == nil {
		t.Fatal("Fetch of a literal over MaxLiteral succeeded")
	}
}

// TestClientSyncLiteral: without LITERAL+ the client waits for the
// server's continuation before each literal.
func TestClientSyncLiteral(t *testing.T) {
	_, addr := newTestServer(t)
	ctx := context.Background()
	c, err := Dial(ctx, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login(ctx, "alice", "pw"); err != nil {
		t.Fatal(err)
	}
	delete(c.caps, "LITERAL+") // the login's OK named the capabilities anew
	msg := []byte("Subject: sync\r\n\r\nliteral\r\n")
	if _, uid, err := c.Append(ctx, "INBOX", nil, time.Time{}, msg); err != nil || uid != 1 {
		t.Fatalf("Append with a synchronizing literal = %d, %v", uid, err)
	}
	if _, err := c.Status(ctx, "INBOX", "MESSAGES"); err != nil {
		t.Fatalf("the session after a synchronizing literal: %v", err)
	}
}
