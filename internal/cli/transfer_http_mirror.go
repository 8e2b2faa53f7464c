package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/plumbnet/plumb/httpfs"
)

// Limits of a recursive mirror.
const (
	mirrorMaxDepth     = 32
	mirrorMaxListing   = 32 << 20 // bytes of one listing page
	mirrorMaxDownloads = 1_000_000
)

// mirror is one plumb get --recursive.
type mirror struct {
	s     *httpSession
	files int
	bytes int64
}

// getRecursive mirrors the listing at t.url and every listing below it
// into dir: one request per listing (JSON preferred, HTML read too) and
// one per file, each file keeping the Last-Modified time.
func (httpScheme) getRecursive(ctx context.Context, t *transfer, dir string) error {
	s, err := newHTTPSession(t)
	if err != nil {
		return err
	}
	report := t.flags.json
	t.flags.json = false // one summary at the end, not a report per file
	base := *t.url
	if !strings.HasSuffix(base.Path, "/") {
		base.Path += "/"
		base.RawPath = ""
	}
	m := &mirror{s: s}
	err = m.dir(ctx, &base, dir, 0)
	if !t.flags.silent {
		fmt.Fprintf(t.stderr, "mirrored %d files, %d bytes, into %s\n", m.files, m.bytes, dir)
	}
	if report && t.stdout != nil {
		enc := json.NewEncoder(t.stdout)
		enc.Encode(map[string]any{"url": base.Redacted(), "dir": dir, "files": m.files, "bytes": m.bytes, "ok": err == nil})
	}
	return err
}

func (m *mirror) dir(ctx context.Context, u *url.URL, local string, depth int) error {
	if depth > mirrorMaxDepth {
		return fmt.Errorf("%s: directories nested deeper than %d", u.Redacted(), mirrorMaxDepth)
	}
	if err := os.MkdirAll(local, 0o755); err != nil {
		return withExit(exitTransferFailed, err)
	}
	resp, err := m.s.do(ctx, http.MethodGet, u, nil, 0, http.Header{"Accept": {"application/json, text/html;q=0.9, */*;q=0.1"}})
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return httpStatusError(resp, "listing "+u.Redacted())
	}
	final := resp.Request.URL
	if !strings.HasSuffix(final.Path, "/") {
		return withExit(exitTransferFailed, fmt.Errorf("%s is not a directory listing (it redirects to %s)", u.Redacted(), final.Redacted()))
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, mirrorMaxListing+1))
	if err != nil {
		return err
	}
	if len(body) > mirrorMaxListing {
		return fmt.Errorf("%s: the listing is over %d bytes", u.Redacted(), mirrorMaxListing)
	}
	l, err := httpfs.ParseListing(final, resp.Header.Get("Content-Type"), body)
	if err != nil {
		return fmt.Errorf("%s: %w", u.Redacted(), err)
	}
	for _, e := range l.Entries {
		ref, err := url.Parse(e.Href)
		if err != nil {
			continue
		}
		child := final.ResolveReference(ref)
		name := filepath.Join(local, e.Name)
		if e.Dir {
			err = m.dir(ctx, child, name, depth+1)
		} else {
			err = m.file(ctx, child, name)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (m *mirror) file(ctx context.Context, u *url.URL, local string) error {
	if m.files >= mirrorMaxDownloads {
		return fmt.Errorf("more than %d files", mirrorMaxDownloads)
	}
	var offset int64
	if m.s.t.flags.resume {
		if fi, err := os.Stat(local); err == nil && fi.Mode().IsRegular() {
			offset = fi.Size()
		}
	}
	var f *os.File
	resp, err := m.s.getTo(ctx, u, offset, func(total, off int64) (io.Writer, error) {
		flag := os.O_WRONLY | os.O_CREATE | os.O_TRUNC
		if off > 0 {
			flag = os.O_WRONLY | os.O_APPEND
		}
		var err error
		if f, err = os.OpenFile(local, flag, 0o644); err != nil {
			return nil, withExit(exitTransferFailed, err)
		}
		return &moveCounter{w: f, t: m.s.t}, nil
	})
	if f != nil {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if errors.Is(err, errAlreadyComplete) {
		err = nil
	}
	if err != nil {
		return fmt.Errorf("%s: %w", u.Redacted(), err)
	}
	if lm, perr := http.ParseTime(resp.Header.Get("Last-Modified")); perr == nil {
		os.Chtimes(local, time.Time{}, lm)
	}
	if fi, err := os.Stat(local); err == nil {
		m.bytes += fi.Size()
	}
	m.files++
	if !m.s.t.flags.silent {
		fmt.Fprintln(m.s.t.stderr, local)
	}
	return nil
}
