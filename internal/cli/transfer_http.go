package cli

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

func init() {
	registerTransferScheme("http", httpScheme{})
	registerTransferScheme("https", httpScheme{})
}

// httpScheme is plumb get and plumb put for http:// and https:// URLs,
// on net/http's client.
type httpScheme struct{}

var _ recursiveGetter = httpScheme{}

// httpSession is what every request of one command shares: the client,
// the credentials and the extra headers.
type httpSession struct {
	t      *transfer
	client *http.Client
	user   string
	pass   string
	auth   bool // send credentials
	header http.Header
	origin string // host of the URL given: credentials and -H go only there
	plain  bool   // the URL given is http://: the user chose plain text
}

// trusted reports whether u may get the session's credentials and
// --header values: the host given on the command line, over https or
// on this machine (or over http:// when that is what the user gave). A
// redirect to another host, or from https:// down to http://, gets none.
func (s *httpSession) trusted(u *url.URL) bool {
	if !strings.EqualFold(u.Host, s.origin) {
		return false
	}
	return strings.EqualFold(u.Scheme, "https") || loopbackHost(u.Hostname()) || s.plain
}

func newHTTPSession(t *transfer) (*httpSession, error) {
	s := &httpSession{t: t, header: http.Header{}, origin: t.url.Host, plain: !strings.EqualFold(t.url.Scheme, "https")}
	for _, h := range t.flags.headers {
		k, v, ok := strings.Cut(h, ":")
		k = strings.TrimSpace(k)
		if !ok || k == "" || strings.ContainsAny(h, "\r\n") {
			return nil, withExit(exitTransferUsage, fmt.Errorf("--header %q: want \"Name: value\"", h))
		}
		s.header.Add(k, strings.TrimSpace(v))
	}
	tc, err := t.tlsConfig(t.url.Hostname())
	if err != nil {
		return nil, err
	}
	tc.ServerName = "" // net/http sets it per host, across redirects
	timeout := t.flags.timeout
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: timeout}).DialContext,
		TLSClientConfig:       tc,
		TLSHandshakeTimeout:   timeout,
		ResponseHeaderTimeout: timeout,
		ExpectContinueTimeout: time.Second,
		ForceAttemptHTTP2:     true,
		DisableCompression:    true, // bytes as stored: ranges and lengths must agree
		MaxIdleConnsPerHost:   16,
	}
	s.client = &http.Client{Transport: tr, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if len(via) >= 10 {
			return errors.New("more than 10 redirects")
		}
		if !s.trusted(req.URL) {
			// Another host, or plain text off this machine: no
			// password and none of the --header values.
			req.Header.Del("Authorization")
			for k := range s.header {
				req.Header.Del(k)
			}
		}
		return nil
	}}
	u := t.url
	if t.flags.user != "" {
		name, pw, ok := strings.Cut(t.flags.user, ":")
		u = &url.URL{Host: t.url.Host, User: url.User(name)}
		if ok {
			u.User = url.UserPassword(name, pw)
		}
	}
	user, pass, havePass, err := urlLogin(u, t.flags.netrcFile)
	if err != nil {
		return nil, err
	}
	if user != "" {
		if !havePass {
			if pass, err = askPassword(t.stdin, t.stderr, user, u.Hostname(), "the URL, --user USER:PASSWORD or ~/.netrc"); err != nil {
				return nil, err
			}
		}
		if !strings.EqualFold(t.url.Scheme, "https") && !loopbackHost(t.url.Hostname()) {
			return nil, withExit(exitTransferUsage, fmt.Errorf("not sending the password for %q in plain text to %s: use https://", user, t.url.Host))
		}
		s.user, s.pass, s.auth = user, pass, true
	}
	t.url = &url.URL{Scheme: t.url.Scheme, Host: t.url.Host, Path: t.url.Path, RawPath: t.url.RawPath, RawQuery: t.url.RawQuery}
	return s, nil
}

// loopbackHost reports whether host names this machine.
func loopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// do sends a request with the session's headers and credentials; an
// HTTP error status comes back as the response, for the caller to judge.
func (s *httpSession) do(ctx context.Context, method string, u *url.URL, body io.Reader, size int64, hdr http.Header) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return nil, withExit(exitTransferUsage, err)
	}
	if body != nil {
		req.ContentLength = size
		if size < 0 {
			req.ContentLength = -1
		}
		if size == 0 {
			req.Body = http.NoBody
		}
	}
	req.Header.Set("User-Agent", "plumb")
	trusted := s.trusted(u)
	if trusted {
		for k, v := range s.header {
			req.Header[k] = v
		}
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	if s.auth && trusted {
		req.SetBasicAuth(s.user, s.pass)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, err
	}
	return resp, nil
}

// httpStatusError is an HTTP error status as plumb reports it.
func httpStatusError(resp *http.Response, what string) error {
	msg := fmt.Sprintf("%s: the server answered %s", what, resp.Status)
	switch resp.StatusCode {
	case http.StatusUnauthorized:
		msg += "; give the user and password (in the URL, --user or ~/.netrc)"
	case http.StatusForbidden:
		msg += "; the account may not do this here"
	case http.StatusInsufficientStorage:
		msg += "; the account's quota is full"
	case http.StatusRequestEntityTooLarge:
		msg += "; the file is over the server's size limit"
	}
	return withExit(exitTransferFailed, errors.New(msg))
}

// report prints --json metadata of resp: on standard output, or on
// standard error when the body goes to standard output.
func (s *httpSession) report(resp *http.Response, bytes int64) {
	if !s.t.flags.json {
		return
	}
	w := s.t.stdout
	if s.t.out == "-" || w == nil {
		w = s.t.stderr
	}
	hdr := map[string]string{}
	for k, v := range resp.Header {
		hdr[k] = strings.Join(v, ", ")
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(map[string]any{
		"url": resp.Request.URL.Redacted(), "status": resp.StatusCode, "status_text": resp.Status,
		"proto": resp.Proto, "content_length": resp.ContentLength, "bytes": bytes, "headers": hdr,
	})
}

// stallReader cancels a transfer that moves no byte for timeout.
type stallReader struct {
	r     io.Reader
	timer *time.Timer
	d     time.Duration
}

func newStallReader(r io.Reader, d time.Duration, cancel func()) *stallReader {
	return &stallReader{r: r, d: d, timer: time.AfterFunc(d, cancel)}
}

func (s *stallReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if n > 0 {
		s.timer.Reset(s.d)
	}
	return n, err
}

func (s *stallReader) stop() { s.timer.Stop() }

func (httpScheme) get(ctx context.Context, t *transfer, offset int64) error {
	s, err := newHTTPSession(t)
	if err != nil {
		return err
	}
	if t.flags.parallel > 1 && offset == 0 && t.out != "-" {
		return s.getParallel(ctx, t.flags.parallel)
	}
	_, err = s.getTo(ctx, t.url, offset, t.begin)
	return err
}

// getTo downloads u from offset on into what begin returns and returns
// the response (its body read and closed).
func (s *httpSession) getTo(ctx context.Context, u *url.URL, offset int64, begin func(total, offset int64) (io.Writer, error)) (*http.Response, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	hdr := http.Header{}
	if offset > 0 {
		hdr.Set("Range", fmt.Sprintf("bytes=%d-", offset))
	}
	resp, err := s.do(ctx, http.MethodGet, u, nil, 0, hdr)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusRequestedRangeNotSatisfiable && offset > 0:
		if total, ok := contentRangeTotal(resp.Header.Get("Content-Range")); ok && total == offset {
			s.report(resp, 0)
			return resp, errAlreadyComplete
		}
		return resp, httpStatusError(resp, "resuming")
	case resp.StatusCode == http.StatusPartialContent && offset > 0:
		start, total, ok := contentRange(resp.Header.Get("Content-Range"))
		if !ok || start != offset {
			return resp, withExit(exitTransferFailed, fmt.Errorf("the server sent Content-Range %q for bytes=%d-", resp.Header.Get("Content-Range"), offset))
		}
		return resp, s.copyBody(resp, total, offset, begin)
	case resp.StatusCode == http.StatusOK:
		if offset > 0 {
			fmt.Fprintf(s.t.stderr, "the server does not resume (no range support): downloading the whole file again\n")
		}
		return resp, s.copyBody(resp, resp.ContentLength, 0, begin)
	}
	s.report(resp, 0)
	return resp, httpStatusError(resp, "get "+u.Redacted())
}

func (s *httpSession) copyBody(resp *http.Response, total, offset int64, begin func(total, offset int64) (io.Writer, error)) error {
	w, err := begin(total, offset)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(resp.Request.Context())
	defer cancel()
	stop := context.AfterFunc(ctx, func() { resp.Body.Close() })
	defer stop()
	sr := newStallReader(resp.Body, s.t.flags.timeout, cancel)
	defer sr.stop()
	n, err := io.Copy(w, sr)
	if err == nil && resp.ContentLength >= 0 && n != resp.ContentLength {
		err = fmt.Errorf("got %d of %d bytes", n, resp.ContentLength)
	}
	if err != nil && ctx.Err() != nil && resp.Request.Context().Err() == nil {
		err = fmt.Errorf("no byte for %v: %w", s.t.flags.timeout, err)
	}
	s.report(resp, n)
	return err
}

// contentRange parses "bytes START-END/TOTAL" (TOTAL may be "*": -1).
func contentRange(v string) (start, total int64, ok bool) {
	rest, found := strings.CutPrefix(v, "bytes ")
	if !found {
		return 0, 0, false
	}
	span, tot, found := strings.Cut(rest, "/")
	a, _, found2 := strings.Cut(span, "-")
	if !found || !found2 {
		return 0, 0, false
	}
	start, err := strconv.ParseInt(a, 10, 64)
	if err != nil || start < 0 {
		return 0, 0, false
	}
	total = -1
	if tot != "*" {
		if total, err = strconv.ParseInt(tot, 10, 64); err != nil {
			return 0, 0, false
		}
	}
	return start, total, true
}

// contentRangeTotal parses the "bytes */TOTAL" of a 416.
func contentRangeTotal(v string) (int64, bool) {
	rest, ok := strings.CutPrefix(v, "bytes */")
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(rest, 10, 64)
	return n, err == nil
}

// segmentMin is the smallest range a parallel download asks for.
const segmentMin = 256 << 10

// getParallel downloads t.url in n ranges at once into t.out, each
// range conditional on the first response's ETag (If-Match), then
// checks the whole length and the server's digest, if it gave one.
// A server without ranges gets one plain download.
func (s *httpSession) getParallel(ctx context.Context, n int) error {
	t := s.t
	probe, err := s.do(ctx, http.MethodGet, t.url, nil, 0, http.Header{"Range": {"bytes=0-0"}, "Want-Repr-Digest": {"sha-256=10"}})
	if err != nil {
		return err
	}
	probe.Body.Close()
	_, total, ok := contentRange(probe.Header.Get("Content-Range"))
	if probe.StatusCode != http.StatusPartialContent || !ok || total < int64(n)*segmentMin {
		if probe.StatusCode >= 400 && probe.StatusCode != http.StatusRequestedRangeNotSatisfiable {
			return httpStatusError(probe, "get")
		}
		_, err := s.getTo(ctx, t.url, 0, t.begin)
		return err
	}
	final := probe.Request.URL // after redirects
	etag := probe.Header.Get("ETag")
	f, err := os.OpenFile(t.out, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return withExit(exitTransferFailed, fmt.Errorf("%s: %w", t.out, err))
	}
	defer f.Close()
	bar := t.startBar(total, 0, t.out, false)
	var moved atomic.Int64
	var barMu sync.Mutex
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errs := make([]error, n)
	seg := (total + int64(n) - 1) / int64(n)
	for i := range n {
		start, end := int64(i)*seg, min(int64(i+1)*seg, total)-1
		if start > end {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			hdr := http.Header{"Range": {fmt.Sprintf("bytes=%d-%d", start, end)}}
			if strings.HasPrefix(etag, `"`) {
				hdr.Set("If-Match", etag) // the same version in every range
			}
			resp, err := s.do(ctx, http.MethodGet, final, nil, 0, hdr)
			if err != nil {
				errs[i] = err
				cancel()
				return
			}
			defer resp.Body.Close()
			if got, _, ok := contentRange(resp.Header.Get("Content-Range")); resp.StatusCode != http.StatusPartialContent || !ok || got != start {
				errs[i] = fmt.Errorf("range %d-%d: the server answered %s (the file changed?)", start, end, resp.Status)
				cancel()
				return
			}
			sr := newStallReader(resp.Body, t.flags.timeout, cancel)
			defer sr.stop()
			w := &offsetWriter{f: f, off: start, max: end + 1}
			_, err = io.Copy(writerFunc(func(p []byte) (int, error) {
				n, err := w.Write(p)
				moved.Add(int64(n))
				barMu.Lock()
				bar.Write(p[:n])
				barMu.Unlock()
				return n, err
			}), sr)
			if err == nil && w.off != end+1 {
				err = fmt.Errorf("range %d-%d: got %d bytes", start, end, w.off-start)
			}
			if err != nil {
				errs[i] = err
				cancel()
			}
		}()
	}
	wg.Wait()
	t.moved = moved.Load()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if fi, err := f.Stat(); err != nil || fi.Size() != total {
		return fmt.Errorf("the file has %d bytes, want %d", fi.Size(), total)
	}
	if want, ok := reprDigest(probe.Header); ok {
		f.Seek(0, io.SeekStart)
		h := sha256.New()
		if _, err := io.Copy(h, f); err != nil {
			return err
		}
		if got := h.Sum(nil); string(got) != string(want) {
			return withExit(exitTransferIncomplete, fmt.Errorf("sha-256 of the download differs from the server's digest: remove %s and try again", t.out))
		}
	}
	s.report(probe, total)
	return nil
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// offsetWriter writes at increasing offsets of f, up to max.
type offsetWriter struct {
	f        *os.File
	off, max int64
}

func (w *offsetWriter) Write(p []byte) (int, error) {
	if int64(len(p)) > w.max-w.off {
		return 0, errors.New("the server sent more than the range")
	}
	n, err := w.f.WriteAt(p, w.off)
	w.off += int64(n)
	return n, err
}

// reprDigest finds the sha-256 of the whole file in Repr-Digest (RFC
// 9530: sha-256=:BASE64:) or Digest (RFC 3230: SHA-256=BASE64). An ETag
// is opaque and never taken for a digest.
func reprDigest(h http.Header) ([]byte, bool) {
	for _, v := range h.Values("Repr-Digest") {
		for _, item := range strings.Split(v, ",") {
			k, val, _ := strings.Cut(strings.TrimSpace(item), "=")
			if strings.EqualFold(k, "sha-256") && len(val) > 2 && val[0] == ':' && val[len(val)-1] == ':' {
				if b, err := base64.StdEncoding.DecodeString(val[1 : len(val)-1]); err == nil && len(b) == sha256.Size {
					return b, true
				}
			}
		}
	}
	for _, v := range h.Values("Digest") {
		for _, item := range strings.Split(v, ",") {
			k, val, _ := strings.Cut(strings.TrimSpace(item), "=")
			if strings.EqualFold(k, "sha-256") {
				if b, err := base64.StdEncoding.DecodeString(val); err == nil && len(b) == sha256.Size {
					return b, true
				}
			}
		}
	}
	return nil, false
}

func (httpScheme) put(ctx context.Context, t *transfer, src io.ReadSeeker, size int64) error {
	s, err := newHTTPSession(t)
	if err != nil {
		return err
	}
	if t.flags.resume && size >= 0 {
		// HTTP has no standard partial PUT: --continue only sees
		// whether the server has the whole file already, by its size
		// and sha-256; without a digest to compare it uploads.
		done, err := s.sameOnServer(ctx, src, size)
		if err != nil {
			return err
		}
		if done {
			return errAlreadyComplete
		}
	}
	w, err := t.begin(size, 0)
	if err != nil {
		return err
	}
	var body io.Reader = io.TeeReader(src, w)
	hdr := http.Header{}
	if f, ok := src.(*os.File); ok {
		if fi, err := f.Stat(); err == nil {
			hdr.Set("X-OC-Mtime", strconv.FormatInt(fi.ModTime().Unix(), 10))
		}
	}
	if size > 1<<20 {
		hdr.Set("Expect", "100-continue") // hear a refusal before sending it all
	}
	resp, err := s.do(ctx, http.MethodPut, t.url, body, size, hdr)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	s.report(resp, t.moved)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		t.moved = 0 // nothing stored: a PUT is all or nothing
		return httpStatusError(resp, "put")
	}
	if size >= 0 && t.moved != size {
		return fmt.Errorf("sent %d of %d bytes", t.moved, size)
	}
	if size >= 0 {
		if h, err := s.do(ctx, http.MethodHead, resp.Request.URL, nil, 0, nil); err == nil {
			h.Body.Close()
			if h.StatusCode == http.StatusOK && h.ContentLength >= 0 && h.ContentLength != size {
				return withExit(exitTransferIncomplete, fmt.Errorf("the server reports %d bytes after the upload, want %d", h.ContentLength, size))
			}
		}
	}
	return nil
}

// sameOnServer reports whether the server holds src already: the same
// size and a Repr-Digest equal to src's sha-256. src is rewound after.
func (s *httpSession) sameOnServer(ctx context.Context, src io.ReadSeeker, size int64) (bool, error) {
	resp, err := s.do(ctx, http.MethodHead, s.t.url, nil, 0, http.Header{"Want-Repr-Digest": {"sha-256=10"}})
	if err != nil {
		return false, nil // the PUT will say what is wrong
	}
	resp.Body.Close()
	want, ok := reprDigest(resp.Header)
	if resp.StatusCode != http.StatusOK || resp.ContentLength != size || !ok {
		return false, nil
	}
	h := sha256.New()
	_, err = io.Copy(h, src)
	if _, serr := src.Seek(0, io.SeekStart); err == nil {
		err = serr
	}
	if err != nil {
		return false, withExit(exitTransferFailed, err)
	}
	return string(h.Sum(nil)) == string(want), nil
}
