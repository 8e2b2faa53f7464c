package gopher

import (
	"context"
	"errors"
	"html"
	"io"
	"io/fs"
	"strings"

	"github.com/plumbnet/plumb/internal/lifecycle"
)

// respond answers one request line.
func (c *conn) respond(line string) {
	r, err := parseRequest(line, lifecycle.OrDefault(c.s.MaxSelectorLength, DefaultMaxSelectorLength))
	if err != nil {
		msg := "Bad selector"
		if e, ok := isSelectorError(err); ok {
			msg = e.Error()
		}
		c.s.logger().Info("gopher: selector refused", "remote", c.remote(), "reason", msg)
		c.writeError(msg)
		return
	}
	if r.web != "" {
		c.redirect(r.web)
		return
	}
	ctx := c.ctx
	if d := lifecycle.Timeout(c.s.RequestTimeout, DefaultRequestTimeout); d > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d)
		defer cancel()
	}
	tree, err := c.s.Backend.Tree(ctx, r.user)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			c.writeError(errNoUser.Error())
			return
		}
		c.fail(err, "tree failed", line)
		return
	}
	if cl, ok := tree.(io.Closer); ok {
		defer cl.Close()
	}
	fi, err := tree.Stat(ctx, r.path)
	if err != nil {
		c.fail(err, "stat failed", line)
		return
	}
	host, port := c.hostPort()
	m := &menuBuilder{s: c.s, ctx: ctx, tree: tree, user: r.user, host: host, port: port}
	switch {
	case fi.IsDir() && r.search != "":
		if c.s.NoSearch {
			c.writeError("Search is off on this server")
			return
		}
		err = m.search(r.path, r.search)
	case fi.IsDir():
		err = m.menu(r.path)
	case !fi.Mode().IsRegular() || r.dir:
		c.writeError("Not found")
		return
	case r.search != "":
		c.writeError("Only a directory can be searched")
		return
	default:
		c.file(ctx, tree, r)
		return
	}
	if err != nil {
		c.fail(err, "menu failed", line)
		return
	}
	for _, it := range m.items {
		c.bw.WriteString(it.Line())
		c.bw.WriteString("\r\n")
	}
	c.bw.WriteString(".\r\n")
}

// file sends a file raw, as stored, to the end of the connection,
// text files too: RFC 1436 section 3.8 would end text with a "." line
// and dot-stuff it, but the clients in use (curl, lynx) and gophernicus
// treat text as bytes to the end, and a client that looks for the "."
// finds the end of the connection instead.
func (c *conn) file(ctx context.Context, tree FS, r request) {
	f, err := tree.Open(ctx, r.path)
	if err != nil {
		c.fail(err, "open failed", r.selector())
		return
	}
	defer f.Close()
	if _, err := c.bw.ReadFrom(f); err != nil {
		c.s.logger().Debug("gopher: send failed", "selector", r.selector(), "remote", c.remote(), "err", err)
	}
}

// redirect answers a "URL:" selector with a page that sends a web
// browser on to the address, as gopher servers do for h items that
// leave gopherspace.
func (c *conn) redirect(u string) {
	e := html.EscapeString(u)
	var b strings.Builder
	b.WriteString("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">\n")
	b.WriteString("<meta http-equiv=\"refresh\" content=\"1;url=" + e + "\">\n")
	b.WriteString("<title>Leaving gopherspace</title></head><body>\n")
	b.WriteString("<p>This link leaves gopherspace for <a href=\"" + e + "\">" + e + "</a>.</p>\n")
	b.WriteString("</body></html>\n")
	c.bw.WriteString(b.String())
}
