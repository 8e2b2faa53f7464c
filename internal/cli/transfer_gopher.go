package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"

	"github.com/plumbnet/plumb/gopher"
)

func init() {
	registerTransferScheme("gopher", gopherScheme{})
	registerTransferScheme("gophers", gopherScheme{})
}

// gopherScheme is plumb get for gopher:// and gophers:// URLs (RFC
// 4266): a menu (type 1, or 7 with %09words) is written as its menu
// lines, a text item (type 0) as its lines with the server's dot
// terminator and stuffing undone, anything else raw to the end of the
// connection.
type gopherScheme struct{}

// gopherClient is the client plumb get and plumb gopher use for u.
func gopherClient(t *transfer, u gopher.URL) (*gopher.Client, error) {
	c := &gopher.Client{Timeout: t.flags.timeout}
	if u.TLS {
		host, _, _ := net.SplitHostPort(u.Host)
		cfg, err := t.tlsConfig(host)
		if err != nil {
			return nil, err
		}
		c.TLSConfig = cfg
	}
	return c, nil
}

func (gopherScheme) get(ctx context.Context, t *transfer, offset int64) error {
	u, err := gopher.ParseURL(t.url.String())
	if err != nil {
		return withExit(exitTransferUsage, err)
	}
	if u.Type == gopher.TypeSearch && u.Search == "" {
		return withExit(exitTransferUsage, fmt.Errorf("%s is a search: add the words after %%09 (gopher://host/7/selector%%09words)", t.url.Redacted()))
	}
	c, err := gopherClient(t, u)
	if err != nil {
		return err
	}
	// Gopher cannot start a response part-way: --continue fetches it
	// all and skips what the local file has.
	w, err := t.begin(-1, offset)
	if err != nil {
		return err
	}
	out := &skipWriter{w: w, skip: offset}
	switch {
	case gopher.IsMenu(u.Type):
		items, err := c.Menu(ctx, u)
		if err != nil {
			return err
		}
		for _, it := range items {
			if _, err := io.WriteString(out, it.Line()+"\n"); err != nil {
				return err
			}
		}
	case u.Type == gopher.TypeText:
		_, err = c.Text(ctx, u, out)
	default:
		_, err = c.Binary(ctx, u, out)
	}
	if err == nil && offset > 0 && out.skip > 0 {
		return fmt.Errorf("the server's item is shorter (%d bytes) than the local file (%d bytes)", offset-out.skip, offset)
	}
	return err
}

func (gopherScheme) put(context.Context, *transfer, io.ReadSeeker, int64) error {
	return withExit(exitTransferUsage, errors.New("gopher has no upload: put the file in the server's tree (plumb put ftp://…) instead"))
}

// skipWriter drops the first skip bytes written to it.
type skipWriter struct {
	w    io.Writer
	skip int64
}

func (s *skipWriter) Write(p []byte) (int, error) {
	n := len(p)
	if s.skip > 0 {
		k := min(int64(len(p)), s.skip)
		s.skip -= k
		p = p[k:]
	}
	if len(p) == 0 {
		return n, nil
	}
	if _, err := s.w.Write(p); err != nil {
		return 0, err
	}
	return n, nil
}
