package imap

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// SelectData is what SELECT or EXAMINE told.
type SelectData struct {
	Exists, Recent, UIDValidity, UIDNext, Unseen uint32
	Flags, PermanentFlags                        []string
	ReadOnly                                     bool
}

func codeNum(code, name string) (uint32, bool) {
	rest, ok := strings.CutPrefix(code, name+" ")
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseUint(rest, 10, 32)
	return uint32(n), err == nil
}

func strs(v any) []string {
	var out []string
	for _, x := range list(v) {
		out = append(out, str(x))
	}
	return out
}

// Select opens a mailbox (EXAMINE when readOnly).
func (c *Client) Select(ctx context.Context, name string, readOnly bool) (*SelectData, error) {
	verb := "SELECT"
	if readOnly {
		verb = "EXAMINE"
	}
	d := &SelectData{}
	r, err := c.Execute(ctx, func(r *Response) bool {
		switch r.Type {
		case "EXISTS":
			d.Exists = r.Num
		case "RECENT":
			d.Recent = r.Num
		case "FLAGS":
			d.Flags = strs(r.Fields[0])
		case "OK":
			if v, ok := codeNum(r.Code, "UIDVALIDITY"); ok {
				d.UIDValidity = v
			} else if v, ok := codeNum(r.Code, "UIDNEXT"); ok {
				d.UIDNext = v
			} else if v, ok := codeNum(r.Code, "UNSEEN"); ok {
				d.Unseen = v
			} else if p, ok := strings.CutPrefix(r.Code, "PERMANENTFLAGS ("); ok {
				d.PermanentFlags = strings.Fields(strings.TrimSuffix(p, ")"))
			} else {
				return false
			}
		default:
			return false
		}
		return true
	}, Atom(verb), mailboxArg(name))
	if err != nil {
		return nil, err
	}
	d.ReadOnly = r.Code == "READ-ONLY"
	return d, nil
}

func mailboxArg(name string) string {
	if strings.EqualFold(name, "INBOX") {
		return "INBOX"
	}
	return EncodeMailboxName(name)
}

// ListData is one mailbox LIST showed.
type ListData struct {
	Attrs []string
	Delim string
	Name  string // UTF-8
}

// List lists the mailboxes matching pattern under ref.
func (c *Client) List(ctx context.Context, ref, pattern string) ([]ListData, error) {
	var out []ListData
	_, err := c.Execute(ctx, func(r *Response) bool {
		if r.Type != "LIST" || len(r.Fields) < 3 {
			return false
		}
		name, err := DecodeMailboxName(str(r.Fields[2]))
		if err != nil {
			name = str(r.Fields[2])
		}
		out = append(out, ListData{Attrs: strs(r.Fields[0]), Delim: str(r.Fields[1]), Name: name})
		return true
	}, Atom("LIST"), mailboxArg(ref), EncodeMailboxName(pattern))
	return out, err
}

// Status returns a mailbox's STATUS items ("MESSAGES", "UNSEEN", ...).
func (c *Client) Status(ctx context.Context, name string, items ...string) (map[string]uint64, error) {
	out := map[string]uint64{}
	_, err := c.Execute(ctx, func(r *Response) bool {
		if r.Type != "STATUS" || len(r.Fields) < 2 {
			return false
		}
		l := list(r.Fields[1])
		for i := 0; i+1 < len(l); i += 2 {
			n, _ := strconv.ParseUint(str(l[i+1]), 10, 64)
			out[strings.ToUpper(str(l[i]))] = n
		}
		return true
	}, Atom("STATUS"), mailboxArg(name), items)
	return out, err
}

// Create, Delete, Rename, Subscribe and Unsubscribe manage mailboxes.
func (c *Client) Create(ctx context.Context, name string) error {
	return c.simple(ctx, Atom("CREATE"), mailboxArg(name))
}
func (c *Client) Delete(ctx context.Context, name string) error {
	return c.simple(ctx, Atom("DELETE"), mailboxArg(name))
}
func (c *Client) Rename(ctx context.Context, from, to string) error {
	return c.simple(ctx, Atom("RENAME"), mailboxArg(from), mailboxArg(to))
}
func (c *Client) Subscribe(ctx context.Context, name string) error {
	return c.simple(ctx, Atom("SUBSCRIBE"), mailboxArg(name))
}
func (c *Client) Unsubscribe(ctx context.Context, name string) error {
	return c.simple(ctx, Atom("UNSUBSCRIBE"), mailboxArg(name))
}

// Close closes the selected mailbox, expunging \Deleted messages; Unselect does not.
func (c *Client) CloseMailbox(ctx context.Context) error { return c.simple(ctx, Atom("CLOSE")) }
func (c *Client) Unselect(ctx context.Context) error     { return c.simple(ctx, Atom("UNSELECT")) }

// Enable enables extensions (IMAP4rev2, UTF8=ACCEPT) and returns those enabled.
func (c *Client) Enable(ctx context.Context, caps ...string) ([]string, error) {
	args := []any{Atom("ENABLE")}
	for _, x := range caps {
		args = append(args, Atom(x))
	}
	var out []string
	_, err := c.Execute(ctx, func(r *Response) bool {
		if r.Type != "ENABLED" {
			return false
		}
		for _, f := range r.Fields {
			out = append(out, str(f))
		}
		return true
	}, args...)
	return out, err
}

// Append stores msg in mailbox and returns the UIDPLUS answer (zero
// when the server gives none).
func (c *Client) Append(ctx context.Context, mailbox string, flags []string, date time.Time, msg []byte) (validity, uid uint32, err error) {
	args := []any{Atom("APPEND"), mailboxArg(mailbox)}
	if flags != nil {
		args = append(args, flags)
	}
	if !date.IsZero() {
		args = append(args, date.Format(dateTimeLayout))
	}
	args = append(args, Literal(msg))
	r, err := c.Execute(ctx, nil, args...)
	if err != nil {
		return 0, 0, err
	}
	if f := strings.Fields(r.Code); len(f) == 3 && f[0] == "APPENDUID" {
		v, _ := strconv.ParseUint(f[1], 10, 32)
		u, _ := strconv.ParseUint(f[2], 10, 32)
		return uint32(v), uint32(u), nil
	}
	return 0, 0, nil
}

// Search runs SEARCH (UID SEARCH when uid) with criteria in the
// protocol's syntax ("FROM alice UNSEEN") and returns the numbers.
// Strings in criteria are sent as they are: quote them.
func (c *Client) Search(ctx context.Context, uid bool, criteria string) ([]uint32, error) {
	if err := checkArg(criteria); err != nil {
		return nil, err
	}
	args := []any{Atom("SEARCH"), Atom(criteria)}
	if uid {
		args = append([]any{Atom("UID")}, args...)
	}
	var out []uint32
	_, err := c.Execute(ctx, func(r *Response) bool {
		if r.Type != "SEARCH" {
			return false
		}
		for _, f := range r.Fields {
			out = append(out, num(f))
		}
		return true
	}, args...)
	return out, err
}

// FetchData is one message's FETCH response.
type FetchData struct {
	Seq          uint32
	UID          uint32
	Flags        []string
	Size         int64
	InternalDate time.Time
	// Envelope and BodyStructure are the raw data (lists of strings, nil for NIL).
	Envelope      []any
	BodyStructure []any
	// Sections holds each body section by the name it came under ("BODY[]", "BODY[HEADER]").
	Sections map[string]string
}

// Envelope fields, as strings decoded for display.
func (f *FetchData) Subject() string {
	if len(f.Envelope) < 2 {
		return ""
	}
	return decodeHeader(str(f.Envelope[1]))
}

// From returns the envelope's first sender as "Name <addr>".
func (f *FetchData) From() string {
	if len(f.Envelope) < 3 {
		return ""
	}
	l := list(f.Envelope[2])
	if len(l) == 0 {
		return ""
	}
	a := list(l[0])
	if len(a) < 4 {
		return ""
	}
	addr := str(a[2]) + "@" + str(a[3])
	if name := decodeHeader(str(a[0])); name != "" {
		return name + " <" + addr + ">"
	}
	return addr
}

func parseFetch(r *Response) *FetchData {
	d := &FetchData{Seq: r.Num, Sections: map[string]string{}}
	if len(r.Fields) == 0 {
		return d
	}
	l := list(r.Fields[0])
	for i := 0; i+1 < len(l); i += 2 {
		k, v := strings.ToUpper(str(l[i])), l[i+1]
		switch {
		case k == "UID":
			d.UID = num(v)
		case k == "FLAGS":
			d.Flags = strs(v)
		case k == "RFC822.SIZE":
			n, _ := strconv.ParseInt(str(v), 10, 64)
			d.Size = n
		case k == "INTERNALDATE":
			d.InternalDate, _ = time.Parse(dateTimeLayout, str(v))
		case k == "ENVELOPE":
			d.Envelope = list(v)
		case k == "BODYSTRUCTURE" || k == "BODY":
			d.BodyStructure = list(v)
		default:
			d.Sections[k] = str(v)
		}
	}
	return d
}

// Fetch runs FETCH (UID FETCH when uid) of items ("(UID FLAGS
// ENVELOPE)", "BODY.PEEK[]") and calls fn with each message as it comes.
func (c *Client) Fetch(ctx context.Context, uid bool, set SeqSet, items string, fn func(*FetchData) error) error {
	args := []any{Atom("FETCH"), set, Atom(items)}
	if uid {
		args = append([]any{Atom("UID")}, args...)
	}
	var ferr error
	_, err := c.Execute(ctx, func(r *Response) bool {
		if r.Type != "FETCH" {
			return false
		}
		if ferr == nil {
			ferr = fn(parseFetch(r))
		}
		return true
	}, args...)
	if err != nil {
		return err
	}
	return ferr
}

// FetchTo runs FETCH of items like Fetch, but hands each body item
// (BODY[...], BINARY[...], RFC822) to w as it arrives instead of holding
// it: w gets the item's name and a reader of its bytes. A large message
// is never held in memory, and Client.MaxLiteral does not bound it; the
// bodies are "" in the FetchData fn gets. An error from w ends the
// session (the rest of the response is not read).
func (c *Client) FetchTo(ctx context.Context, uid bool, set SeqSet, items string, w func(item string, r io.Reader) error, fn func(*FetchData) error) error {
	c.mu.Lock()
	c.rr.sink = w
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.rr.sink = nil
		c.mu.Unlock()
	}()
	return c.Fetch(ctx, uid, set, items, fn)
}

// Store changes flags: item is FLAGS, +FLAGS or -FLAGS (with .SILENT).
func (c *Client) Store(ctx context.Context, uid bool, set SeqSet, item string, flags []string) error {
	args := []any{Atom("STORE"), set, Atom(item), flags}
	if uid {
		args = append([]any{Atom("UID")}, args...)
	}
	return c.simple(ctx, args...)
}

// CopyData is COPYUID's answer (RFC 4315).
type CopyData struct {
	UIDValidity  uint32
	Source, Dest string // UID sets
}

func (c *Client) copyMove(ctx context.Context, verb string, uid bool, set SeqSet, dest string) (*CopyData, error) {
	args := []any{Atom(verb), set, mailboxArg(dest)}
	if uid {
		args = append([]any{Atom("UID")}, args...)
	}
	var cd *CopyData
	take := func(code string) {
		if f := strings.Fields(code); len(f) == 4 && f[0] == "COPYUID" {
			v, _ := strconv.ParseUint(f[1], 10, 32)
			cd = &CopyData{UIDValidity: uint32(v), Source: f[2], Dest: f[3]}
		}
	}
	r, err := c.Execute(ctx, func(r *Response) bool {
		if r.Type == "OK" && strings.HasPrefix(r.Code, "COPYUID ") {
			take(r.Code)
			return true
		}
		return false
	}, args...)
	if err != nil {
		return nil, err
	}
	take(r.Code)
	return cd, nil
}

// Copy copies messages to dest.
func (c *Client) Copy(ctx context.Context, uid bool, set SeqSet, dest string) (*CopyData, error) {
	return c.copyMove(ctx, "COPY", uid, set, dest)
}

// Move moves messages to dest (RFC 6851); the EXPUNGEs go to Untagged.
func (c *Client) Move(ctx context.Context, uid bool, set SeqSet, dest string) (*CopyData, error) {
	return c.copyMove(ctx, "MOVE", uid, set, dest)
}

// Expunge removes \Deleted messages and returns the sequence numbers
// the server reported expunged, in its order.
func (c *Client) Expunge(ctx context.Context) ([]uint32, error) {
	var out []uint32
	_, err := c.Execute(ctx, func(r *Response) bool {
		if r.Type != "EXPUNGE" {
			return false
		}
		out = append(out, r.Num)
		return true
	}, Atom("EXPUNGE"))
	return out, err
}

// Idle waits in IDLE (RFC 2177), calling fn with every update as it
// comes, until ctx is done; it then ends IDLE with DONE and returns nil.
func (c *Client) Idle(ctx context.Context, fn func(*Response)) error {
	if !c.Has("IDLE") {
		return fmt.Errorf("%w: IDLE", ErrUnsupported)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.tag++
	tag := "p" + strconv.Itoa(c.tag)
	c.conn.SetDeadline(time.Now().Add(idleTimeout(c.Timeout)))
	if err := c.send(tag, []any{Atom("IDLE")}, nil); err != nil {
		return err
	}
	if err := c.awaitContinuation(nil); err != nil {
		return err
	}
	c.conn.SetDeadline(time.Time{})
	stop := context.AfterFunc(ctx, func() {
		c.conn.SetWriteDeadline(time.Now().Add(idleTimeout(c.Timeout)))
		c.conn.Write([]byte("DONE\r\n"))
		c.conn.SetReadDeadline(time.Now().Add(idleTimeout(c.Timeout)))
	})
	defer stop()
	_, err := c.await(tag, func(r *Response) bool {
		if fn != nil {
			fn(r)
		}
		return true
	})
	c.conn.SetDeadline(time.Time{})
	return err
}

func idleTimeout(d time.Duration) time.Duration {
	if d <= 0 {
		return DefaultTimeout
	}
	return d
}
