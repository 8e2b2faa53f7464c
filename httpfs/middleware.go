package httpfs

import (
	"compress/gzip"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The security headers every response carries. The CSP sandboxes what
// the tree serves, so that an uploaded HTML page runs no script on the
// server's origin; listings need nothing it forbids.
var (
	nosniff   = []string{"nosniff"}
	frameDeny = []string{"DENY"}
	noRef     = []string{"no-referrer"}
	csp       = []string{"default-src 'none'; img-src 'self'; media-src 'self'; style-src 'self' 'unsafe-inline'; sandbox allow-downloads"}
	hsts      = []string{"max-age=31536000"}
)

// middleware wraps next with the access log, the rate limit, the
// security headers and compression, outermost first.
func (s *Server) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var rec *recorder
		if s.AccessLog != nil {
			rec = &recorder{ResponseWriter: w, start: time.Now()}
			w = rec
			defer s.logAccess(rec, r)
		}
		h := w.Header()
		h["X-Content-Type-Options"] = nosniff
		h["X-Frame-Options"] = frameDeny
		h["Referrer-Policy"] = noRef
		h["Content-Security-Policy"] = csp
		if r.TLS != nil {
			h["Strict-Transport-Security"] = hsts
		}
		if s.rate != nil && !s.rate.allow(r.RemoteAddr) {
			h.Set("Retry-After", "1")
			http.Error(w, "429 too many requests", http.StatusTooManyRequests)
			return
		}
		if !s.DisableCompression && wantsGzip(r) {
			gz := &gzipWriter{ResponseWriter: w}
			defer gz.finish()
			w = gz
		}
		next.ServeHTTP(w, r)
	})
}

// recorder keeps a response's status and size for the access log. It
// passes ReadFrom on, so that files still go out with sendfile.
type recorder struct {
	http.ResponseWriter
	start  time.Time
	status int
	bytes  int64
}

func (w *recorder) WriteHeader(code int) {
	if w.status == 0 && code >= 200 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *recorder) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(p)
	w.bytes += int64(n)
	return n, err
}

func (w *recorder) ReadFrom(src io.Reader) (int64, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := io.Copy(w.ResponseWriter, src) // the ResponseWriter's ReadFrom: sendfile
	w.bytes += n
	return n, err
}

func (w *recorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *recorder) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

var (
	logMu    sync.Mutex
	linePool = sync.Pool{New: func() any { b := make([]byte, 0, 256); return &b }}
)

// logAccess writes the Combined Log Format line of one request, built
// in a pooled buffer (nothing allocated per request).
func (s *Server) logAccess(w *recorder, r *http.Request) {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	status := w.status
	if status == 0 {
		status = http.StatusOK
	}
	bp := linePool.Get().(*[]byte)
	line := append((*bp)[:0], host...)
	line = append(line, " - "...)
	if u, _, ok := r.BasicAuth(); ok && u != "" {
		line = appendCLF(line, u)
	} else {
		line = append(line, '-')
	}
	line = w.start.AppendFormat(append(line, " ["...), "02/Jan/2006:15:04:05 -0700")
	line = append(line, "] \""...)
	line = appendCLF(line, r.Method)
	line = append(line, ' ')
	line = appendCLF(line, r.RequestURI)
	line = append(line, ' ')
	line = appendCLF(line, r.Proto)
	line = append(line, "\" "...)
	line = strconv.AppendInt(line, int64(status), 10)
	line = append(line, ' ')
	if w.bytes > 0 {
		line = strconv.AppendInt(line, w.bytes, 10)
	} else {
		line = append(line, '-')
	}
	line = append(line, " \""...)
	line = appendCLF(line, r.Referer())
	line = append(line, "\" \""...)
	line = appendCLF(line, r.UserAgent())
	line = append(line, "\"\n"...)
	logMu.Lock()
	s.AccessLog.Write(line)
	logMu.Unlock()
	if cap(line) <= 4<<10 {
		*bp = line
		linePool.Put(bp)
	}
}

// appendCLF appends v with quotes, backslashes and control bytes
// escaped as Apache does, so a client cannot forge log lines.
func appendCLF(b []byte, v string) []byte {
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20 || c == 0x7f:
			b = append(b, '\\', 'x', hexDigit[c>>4], hexDigit[c&15])
		default:
			b = append(b, c)
		}
	}
	return b
}

const hexDigit = "0123456789abcdef"

// wantsGzip reports whether a response to r may be compressed: a GET
// that accepts gzip and asks for no range (ranges are of the identity
// encoding). It also strips the "-gz" of the compressed variant's ETag
// from If-None-Match, so the file's own tag matches.
func wantsGzip(r *http.Request) bool {
	if r.Method != http.MethodGet || r.Header.Get("Range") != "" {
		return false
	}
	ae := r.Header.Get("Accept-Encoding")
	if !strings.Contains(ae, "gzip") || strings.Contains(ae, "gzip;q=0") {
		return false
	}
	if inm := r.Header.Get("If-None-Match"); strings.Contains(inm, `-gz"`) {
		r.Header.Set("If-None-Match", strings.ReplaceAll(inm, `-gz"`, `"`))
	}
	return true
}

func compressible(ct string) bool {
	ct, _, _ = strings.Cut(ct, ";")
	ct = strings.TrimSpace(ct)
	return strings.HasPrefix(ct, "text/") || ct == "application/json" || ct == "application/javascript" ||
		ct == "application/xml" || ct == "image/svg+xml" || ct == "application/xhtml+xml"
}

var gzPool = sync.Pool{New: func() any { w, _ := gzip.NewWriterLevel(nil, gzip.DefaultCompression); return w }}

// gzipMin is the size under which a body is not worth compressing.
const gzipMin = 256

// gzipTag is the strong ETag of the gzip variant of a tagged body.
func gzipTag(tag string) string { return strings.TrimSuffix(tag, `"`) + `-gz"` }

// gzipWriter compresses a 200 response of a text type.
type gzipWriter struct {
	http.ResponseWriter
	gz      *gzip.Writer
	decided bool
}

func (w *gzipWriter) WriteHeader(code int) {
	if !w.decided && code >= 200 {
		w.decided = true
		h := w.Header()
		if ct := h.Get("Content-Type"); compressible(ct) && h.Get("Content-Encoding") == "" {
			h.Add("Vary", "Accept-Encoding")
			if tag := h.Get("Etag"); strings.HasPrefix(tag, `"`) && (code == http.StatusOK || code == http.StatusNotModified) {
				h.Set("Etag", gzipTag(tag))
			}
			if code == http.StatusOK {
				if n, err := strconv.Atoi(h.Get("Content-Length")); err != nil || n >= gzipMin {
					h.Del("Content-Length")
					h.Set("Content-Encoding", "gzip")
					w.gz = gzPool.Get().(*gzip.Writer)
					w.gz.Reset(w.ResponseWriter)
				}
			}
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *gzipWriter) Write(p []byte) (int, error) {
	if !w.decided {
		if w.Header().Get("Content-Type") == "" {
			w.Header().Set("Content-Type", http.DetectContentType(p))
		}
		w.WriteHeader(http.StatusOK)
	}
	if w.gz != nil {
		return w.gz.Write(p)
	}
	return w.ResponseWriter.Write(p)
}

func (w *gzipWriter) ReadFrom(src io.Reader) (int64, error) {
	if !w.decided {
		w.WriteHeader(http.StatusOK)
	}
	if w.gz != nil {
		return io.Copy(w.gz, src)
	}
	return io.Copy(w.ResponseWriter, src)
}

func (w *gzipWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *gzipWriter) Flush() {
	if w.gz != nil {
		w.gz.Flush()
	}
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *gzipWriter) finish() {
	if w.gz != nil {
		w.gz.Close()
		w.gz.Reset(nil)
		gzPool.Put(w.gz)
		w.gz = nil
	}
}

// rateLimiter is a token bucket per client address (IPv6: per /64).
type rateLimiter struct {
	rate  float64
	burst float64
	mu    sync.Mutex
	m     map[netip.Addr]*bucket
	prune time.Time
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newRateLimiter(rate float64, burst int) *rateLimiter {
	if burst < 1 {
		burst = max(1, int(rate))
	}
	return &rateLimiter{rate: rate, burst: float64(burst), m: map[netip.Addr]*bucket{}}
}

func (l *rateLimiter) allow(remote string) bool {
	ap, err := netip.ParseAddrPort(remote)
	if err != nil {
		return true
	}
	ip := ap.Addr().Unmap()
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		ip = p.Addr()
	}
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.prune) > time.Minute {
		for k, b := range l.m {
			if now.Sub(b.last).Seconds()*l.rate > l.burst {
				delete(l.m, k)
			}
		}
		l.prune = now
	}
	b, ok := l.m[ip]
	if !ok {
		b = &bucket{tokens: l.burst, last: now}
		l.m[ip] = b
	}
	b.tokens = min(l.burst, b.tokens+now.Sub(b.last).Seconds()*l.rate)
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
