package nntp

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/plumbnet/plumb/internal/wire"
)

// Capabilities returns the CAPABILITIES list (RFC 3977 section 5.2).
func (c *Client) Capabilities(ctx context.Context) ([]string, error) {
	if _, err := c.cmd(ctx, []int{101}, "CAPABILITIES"); err != nil {
		return nil, err
	}
	var out []string
	end := c.begin(ctx)
	defer end()
	err := c.lines(func(l string) error { out = append(out, l); return nil })
	return out, err
}

// ModeReader sends MODE READER and reports whether posting is allowed.
func (c *Client) ModeReader(ctx context.Context) (bool, error) {
	r, err := c.cmd(ctx, []int{200, 201}, "MODE READER")
	return err == nil && r.Code == 200, err
}

// ModeStream sends MODE STREAM (RFC 4644).
func (c *Client) ModeStream(ctx context.Context) error {
	_, err := c.cmd(ctx, []int{203}, "MODE STREAM")
	return err
}

// Date returns the server's clock (DATE).
func (c *Client) Date(ctx context.Context) (time.Time, error) {
	r, err := c.cmd(ctx, []int{111}, "DATE")
	if err != nil {
		return time.Time{}, err
	}
	t, perr := time.Parse("20060102150405", strings.TrimSpace(r.Msg))
	if perr != nil {
		return time.Time{}, fmt.Errorf("%w: DATE %q", ErrProtocol, r.Msg)
	}
	return t, nil
}

// Help returns the HELP text.
func (c *Client) Help(ctx context.Context) (string, error) {
	if _, err := c.cmd(ctx, []int{100}, "HELP"); err != nil {
		return "", err
	}
	var b strings.Builder
	end := c.begin(ctx)
	defer end()
	err := c.lines(func(l string) error { b.WriteString(l + "\n"); return nil })
	return b.String(), err
}

func parseInts(s string, n int) ([]int64, bool) {
	f := strings.Fields(s)
	if len(f) < n {
		return nil, false
	}
	out := make([]int64, n)
	for i := range n {
		v, err := strconv.ParseInt(f[i], 10, 64)
		if err != nil {
			return nil, false
		}
		out[i] = v
	}
	return out, true
}

// Group selects a group (GROUP) and returns its count, low and high marks.
func (c *Client) Group(ctx context.Context, name string) (Group, error) {
	if strings.ContainsAny(name, " \t") {
		return Group{}, ErrBadArgument
	}
	r, err := c.cmd(ctx, []int{211}, "GROUP %s", name)
	if err != nil {
		return Group{}, err
	}
	v, ok := parseInts(r.Msg, 3)
	if !ok {
		return Group{}, fmt.Errorf("%w: GROUP %q", ErrProtocol, r.Msg)
	}
	return Group{Name: name, Count: v[0], Low: v[1], High: v[2]}, nil
}

// ListGroup selects a group and returns its article numbers in rng
// ("" for all, else "n", "n-" or "n-m").
func (c *Client) ListGroup(ctx context.Context, name, rng string) ([]int64, error) {
	if strings.ContainsAny(name+rng, " \t") {
		return nil, ErrBadArgument
	}
	line := strings.TrimSpace("LISTGROUP " + name + " " + rng)
	if _, err := c.cmd(ctx, []int{211}, "%s", line); err != nil {
		return nil, err
	}
	var out []int64
	end := c.begin(ctx)
	defer end()
	err := c.lines(func(l string) error {
		n, err := strconv.ParseInt(strings.TrimSpace(l), 10, 64)
		if err != nil {
			return fmt.Errorf("%w: LISTGROUP line %q", ErrProtocol, l)
		}
		out = append(out, n)
		return nil
	})
	return out, err
}

// articleStatus parses "n <message-id>" of 220-223.
func articleStatus(r *Response) (int64, string, error) {
	f := strings.Fields(r.Msg)
	if len(f) < 2 {
		return 0, "", fmt.Errorf("%w: %d %q", ErrProtocol, r.Code, r.Msg)
	}
	n, err := strconv.ParseInt(f[0], 10, 64)
	if err != nil || !ValidMessageID(f[1]) {
		return 0, "", fmt.Errorf("%w: %d %q", ErrProtocol, r.Code, r.Msg)
	}
	return n, f[1], nil
}

// Next moves to the next article (NEXT) and returns its number and id.
func (c *Client) Next(ctx context.Context) (int64, string, error) { return c.move(ctx, "NEXT") }

// Last moves to the previous article (LAST).
func (c *Client) Last(ctx context.Context) (int64, string, error) { return c.move(ctx, "LAST") }

func (c *Client) move(ctx context.Context, verb string) (int64, string, error) {
	r, err := c.cmd(ctx, []int{223}, "%s", verb)
	if err != nil {
		return 0, "", err
	}
	return articleStatus(r)
}

// Stat checks an article (STAT): spec is a number, a message-id or ""
// for the current article.
func (c *Client) Stat(ctx context.Context, spec string) (int64, string, error) {
	if strings.ContainsAny(spec, " \t") {
		return 0, "", ErrBadArgument
	}
	r, err := c.cmd(ctx, []int{223}, "%s", strings.TrimSpace("STAT "+spec))
	if err != nil {
		return 0, "", err
	}
	return articleStatus(r)
}

// Article streams an article (ARTICLE) to w with CRLF line ends and
// dots unstuffed; spec is a number, a message-id or "".
func (c *Client) Article(ctx context.Context, spec string, w io.Writer) (int64, string, error) {
	return c.fetch(ctx, "ARTICLE", 220, spec, w)
}

// Head streams an article's header (HEAD) to w.
func (c *Client) Head(ctx context.Context, spec string, w io.Writer) (int64, string, error) {
	return c.fetch(ctx, "HEAD", 221, spec, w)
}

// Body streams an article's body (BODY) to w.
func (c *Client) Body(ctx context.Context, spec string, w io.Writer) (int64, string, error) {
	return c.fetch(ctx, "BODY", 222, spec, w)
}

func (c *Client) fetch(ctx context.Context, verb string, code int, spec string, w io.Writer) (int64, string, error) {
	if strings.ContainsAny(spec, " \t") {
		return 0, "", ErrBadArgument
	}
	r, err := c.cmd(ctx, []int{code}, "%s", strings.TrimSpace(verb+" "+spec))
	if err != nil {
		return 0, "", err
	}
	end := c.begin(ctx)
	defer end()
	n, id, perr := articleStatus(r)
	err = c.lines(func(l string) error {
		_, err := io.WriteString(w, l+"\r\n")
		return err
	})
	if perr != nil {
		return 0, "", perr
	}
	return n, id, err
}

// Post posts an article (POST); r holds its header, a blank line and
// its body, with LF or CRLF line ends.
func (c *Client) Post(ctx context.Context, r io.Reader) error {
	if _, err := c.cmd(ctx, []int{340}, "POST"); err != nil {
		return err
	}
	return c.send(ctx, r, []int{240})
}

// IHave offers an article by id (IHAVE); with 335 it sends r. A 435 or
// 437 refusal is an *Error.
func (c *Client) IHave(ctx context.Context, id string, r io.Reader) error {
	if !ValidMessageID(id) {
		return ErrBadArgument
	}
	if _, err := c.cmd(ctx, []int{335}, "IHAVE %s", id); err != nil {
		return err
	}
	return c.send(ctx, r, []int{235})
}

func (c *Client) send(ctx context.Context, r io.Reader, want []int) error {
	end := c.begin(ctx)
	defer end()
	if err := c.writeBlock(r); err != nil {
		return err
	}
	if err := c.flush(); err != nil {
		return err
	}
	_, err := c.expect(want)
	return err
}

func (c *Client) writeBlock(r io.Reader) error {
	dw := wire.NewDotWriter(c.bw)
	if _, err := io.Copy(dw, r); err != nil {
		return err
	}
	return dw.Close()
}

// Check asks whether the server wants an article (CHECK, RFC 4644):
// true for 238; false for 438; a 431 is an *Error that is Temporary.
func (c *Client) Check(ctx context.Context, id string) (bool, error) {
	if !ValidMessageID(id) {
		return false, ErrBadArgument
	}
	r, err := c.cmd(ctx, []int{238, 438}, "CHECK %s", id)
	if err != nil {
		return false, err
	}
	return r.Code == 238, nil
}

// TakeThis sends an article (TAKETHIS) and waits for its answer: nil
// for 239, an *Error with Code 439 for a rejection.
func (c *Client) TakeThis(ctx context.Context, id string, r io.Reader) error {
	if !ValidMessageID(id) {
		return ErrBadArgument
	}
	end := c.begin(ctx)
	defer end()
	c.bw.WriteString("TAKETHIS " + id + "\r\n")
	if err := c.writeBlock(r); err != nil {
		return err
	}
	if err := c.flush(); err != nil {
		return err
	}
	_, err := c.expect([]int{239})
	return err
}

// NewGroups lists the groups created since then (NEWGROUPS).
func (c *Client) NewGroups(ctx context.Context, since time.Time) ([]Group, error) {
	s := since.UTC()
	if _, err := c.cmd(ctx, []int{231}, "NEWGROUPS %s %s GMT", s.Format("20060102"), s.Format("150405")); err != nil {
		return nil, err
	}
	return c.activeLines(ctx)
}

// NewNews lists the Message-IDs of articles that arrived since then in
// groups matching the wildmat (NEWNEWS).
func (c *Client) NewNews(ctx context.Context, wildmat string, since time.Time) ([]string, error) {
	if strings.ContainsAny(wildmat, " \t") || wildmat == "" {
		return nil, ErrBadArgument
	}
	s := since.UTC()
	if _, err := c.cmd(ctx, []int{230}, "NEWNEWS %s %s %s GMT", wildmat, s.Format("20060102"), s.Format("150405")); err != nil {
		return nil, err
	}
	var ids []string
	end := c.begin(ctx)
	defer end()
	err := c.lines(func(l string) error {
		if l = strings.TrimSpace(l); !ValidMessageID(l) {
			return fmt.Errorf("%w: NEWNEWS line %q", ErrProtocol, l)
		}
		ids = append(ids, l)
		return nil
	})
	return ids, err
}

// List sends LIST keyword [wildmat] and calls fn with each line.
func (c *Client) List(ctx context.Context, keyword, wildmat string, fn func(line string) error) error {
	if strings.ContainsAny(keyword+wildmat, " \t") {
		return ErrBadArgument
	}
	if _, err := c.cmd(ctx, []int{215}, "%s", strings.TrimSpace("LIST "+keyword+" "+wildmat)); err != nil {
		return err
	}
	end := c.begin(ctx)
	defer end()
	return c.lines(fn)
}

// ListActive returns LIST ACTIVE [wildmat] as groups.
func (c *Client) ListActive(ctx context.Context, wildmat string) ([]Group, error) {
	if strings.ContainsAny(wildmat, " \t") {
		return nil, ErrBadArgument
	}
	if _, err := c.cmd(ctx, []int{215}, "%s", strings.TrimSpace("LIST ACTIVE "+wildmat)); err != nil {
		return nil, err
	}
	return c.activeLines(ctx)
}

// ParseActive parses a LIST ACTIVE or NEWGROUPS line: name high low status.
func ParseActive(l string) (Group, error) {
	f := strings.Fields(l)
	if len(f) < 4 || len(f[3]) == 0 {
		return Group{}, fmt.Errorf("%w: active line %q", ErrProtocol, trimForError(l))
	}
	hi, err1 := strconv.ParseInt(f[1], 10, 64)
	lo, err2 := strconv.ParseInt(f[2], 10, 64)
	if err1 != nil || err2 != nil {
		return Group{}, fmt.Errorf("%w: active line %q", ErrProtocol, trimForError(l))
	}
	return Group{Name: f[0], High: hi, Low: lo, Status: f[3][0]}, nil
}

func (c *Client) activeLines(ctx context.Context) ([]Group, error) {
	var out []Group
	end := c.begin(ctx)
	defer end()
	err := c.lines(func(l string) error {
		g, err := ParseActive(l)
		if err == nil {
			out = append(out, g)
		}
		return err
	})
	return out, err
}

// ParseOverview parses one OVER line in the default format.
func ParseOverview(l string) (Overview, error) {
	f := strings.Split(l, "\t")
	if len(f) < 8 {
		return Overview{}, fmt.Errorf("%w: overview line %q", ErrProtocol, trimForError(l))
	}
	n, err := strconv.ParseInt(f[0], 10, 64)
	if err != nil {
		return Overview{}, fmt.Errorf("%w: overview line %q", ErrProtocol, trimForError(l))
	}
	o := Overview{Number: n, Subject: f[1], From: f[2], Date: f[3], MessageID: f[4], References: f[5]}
	o.Bytes, _ = strconv.ParseInt(f[6], 10, 64)
	o.Lines, _ = strconv.ParseInt(f[7], 10, 64)
	if len(f) > 8 {
		o.Xref = strings.TrimSpace(strings.TrimPrefix(f[8], "Xref: "))
	}
	return o, nil
}

// Over streams the overview of rng ("" for the current article, else
// "n", "n-", "n-m" or a message-id) to fn, one line at a time (OVER).
func (c *Client) Over(ctx context.Context, rng string, fn func(Overview) error) error {
	if strings.ContainsAny(rng, " \t") {
		return ErrBadArgument
	}
	if _, err := c.cmd(ctx, []int{224}, "%s", strings.TrimSpace("OVER "+rng)); err != nil {
		return err
	}
	end := c.begin(ctx)
	defer end()
	return c.lines(func(l string) error {
		o, err := ParseOverview(l)
		if err != nil {
			return err
		}
		return fn(o)
	})
}

// Hdr streams one header of rng's articles to fn (HDR).
func (c *Client) Hdr(ctx context.Context, header, rng string, fn func(n int64, value string) error) error {
	if strings.ContainsAny(header+rng, " \t") || header == "" {
		return ErrBadArgument
	}
	if _, err := c.cmd(ctx, []int{225}, "%s", strings.TrimSpace("HDR "+header+" "+rng)); err != nil {
		return err
	}
	end := c.begin(ctx)
	defer end()
	return c.lines(func(l string) error {
		num, v, _ := strings.Cut(l, " ")
		n, err := strconv.ParseInt(num, 10, 64)
		if err != nil {
			return fmt.Errorf("%w: HDR line %q", ErrProtocol, trimForError(l))
		}
		return fn(n, v)
	})
}
