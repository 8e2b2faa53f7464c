package httpfs

import (
	"bytes"
	"compress/gzip"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"reflect"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Bounds of the small-file cache.
const (
	cacheFileMax  = 64 << 10 // files up to this size are kept in memory
	cacheBytesMax = 32 << 20 // all kept files together
	cacheCountMax = 8192
)

// DefaultStatCacheTTL is how long a cached small file's stat is trusted
// without asking the file system again (Server.StatCacheTTL).
const DefaultStatCacheTTL = 100 * time.Millisecond

// fileCache keeps the bytes of small files, so that a request for one
// costs no system call, or a single stat instead of open, fstat, read
// and close. An entry is used only while the file's stat (size,
// modification and change times, device and inode: fileIdentity) is
// what it was when read, so a change in place or a replacement by
// rename is seen at once when the file is stat'ed again. A stat that
// matched is trusted for the server's StatCacheTTL, and only while no
// write went through the server (gen): a change made by another
// program, or over another protocol, is served at most that long
// after it was made.
type fileCache struct {
	mu    sync.RWMutex
	m     map[cacheKey]*cachedFile
	bytes int
	// gen counts the writing requests this server began and ended;
	// an entry's trusted stat is from one generation.
	gen atomic.Uint64
}

type cacheKey struct {
	fs   FS
	name string
}

type cachedFile struct {
	id      fileID
	data    []byte
	modTime time.Time
	etag    []string
	ctype   []string
	lastMod []string // the header values, made once
	length  []string
	// seen is when the file's stat last matched id (Server.clock),
	// seenGen the cache's gen before that stat.
	seen    atomic.Int64
	seenGen atomic.Uint64
	// gz is the gzip variant of a compressible text, made once when
	// first asked for and kept only if smaller (so the cache holds at
	// most twice cacheBytesMax); gzLength and gzTag its header values.
	gzOnce   sync.Once
	gz       []byte
	gzLength []string
	gzTag    []string
}

// gzipped returns e's gzip variant, or nil when it has none.
func (e *cachedFile) gzipped() []byte {
	if len(e.data) < gzipMin || !compressible(e.ctype[0]) {
		return nil
	}
	e.gzOnce.Do(func() {
		var b bytes.Buffer
		zw := gzPool.Get().(*gzip.Writer)
		zw.Reset(&b)
		zw.Write(e.data)
		zw.Close()
		zw.Reset(nil)
		gzPool.Put(zw)
		if b.Len() < len(e.data) {
			e.gz = b.Bytes()
			e.gzLength = []string{strconv.Itoa(b.Len())}
			e.gzTag = []string{gzipTag(e.etag[0])}
		}
	})
	return e.gz
}

// trust records that a stat begun in generation gen matched e at now.
func (e *cachedFile) trust(now int64, gen uint64) {
	e.seenGen.Store(gen)
	e.seen.Store(now)
}

// trusted returns the entry for k whose stat is recent enough to serve
// it without a new one, or nil.
func (s *Server) trusted(k cacheKey) *cachedFile {
	if s.statTTL <= 0 {
		return nil
	}
	s.cache.mu.RLock()
	e := s.cache.m[k]
	s.cache.mu.RUnlock()
	if e == nil || e.seenGen.Load() != s.cache.gen.Load() || s.clock()-e.seen.Load() >= int64(s.statTTL) {
		return nil
	}
	return e
}

// writing marks a request that may change files: entries trusted
// before it are stat'ed again, so this server's own writes are seen
// at once. Call it when the request begins and when it ends.
func (c *fileCache) writing() { c.gen.Add(1) }

func (c *fileCache) get(k cacheKey, id fileID) *cachedFile {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if e := c.m[k]; e != nil && e.id == id {
		return e
	}
	return nil
}

func (c *fileCache) put(k cacheKey, e *cachedFile) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[cacheKey]*cachedFile{}
	}
	if old := c.m[k]; old != nil {
		c.bytes -= len(old.data)
	}
	for k2, old := range c.m { // map order is random: a random eviction
		if c.bytes+len(e.data) <= cacheBytesMax && len(c.m) < cacheCountMax {
			break
		}
		c.bytes -= len(old.data)
		delete(c.m, k2)
	}
	c.m[k] = e
	c.bytes += len(e.data)
}

// cacheable reports whether t can be a map key: trees that are pointers
// or comparable values (the daemon's are) share one cache entry across
// requests.
func cacheable(t FS) bool { return t != nil && reflect.TypeOf(t).Comparable() }

// serveSmall answers a GET or HEAD for a small regular file fi (stat'ed
// in cache generation gen) from the cache, reading it in first if need
// be; false means it was not done and the caller serves the file from
// disk.
func (s *Server) serveSmall(w http.ResponseWriter, r *http.Request, t FS, name string, fi fs.FileInfo, gen uint64) bool {
	id, ok := fileIdentity(fi)
	if !ok || !cacheable(t) {
		return false
	}
	k := cacheKey{t, name}
	e := s.cache.get(k, id)
	if e == nil {
		f, err := t.Open(r.Context(), name)
		if err != nil {
			return false
		}
		data, err := io.ReadAll(io.LimitReader(f, cacheFileMax+1))
		st, serr := f.Stat()
		f.Close()
		if err != nil || serr != nil || len(data) > cacheFileMax {
			return false
		}
		if id2, ok := fileIdentity(st); !ok || id2 != id || int64(len(data)) != st.Size() {
			return false // it changed while read: serve it from disk
		}
		e = &cachedFile{id: id, data: data, modTime: st.ModTime(), etag: []string{ETag(st)}}
		if ct := mime.TypeByExtension(path.Ext(st.Name())); ct != "" {
			e.ctype = []string{ct}
		} else {
			e.ctype = []string{http.DetectContentType(data)}
		}
		e.lastMod = []string{st.ModTime().UTC().Format(http.TimeFormat)}
		e.length = []string{strconv.Itoa(len(data))}
		e.trust(s.clock(), gen)
		s.cache.put(k, e)
	} else {
		e.trust(s.clock(), gen)
	}
	s.serveCached(w, r, e)
	return true
}

// serveCached answers a GET or HEAD with the cached file e.
func (s *Server) serveCached(w http.ResponseWriter, r *http.Request, e *cachedFile) {
	h := w.Header()
	h["Etag"] = e.etag
	h["Content-Type"] = e.ctype
	gw, _ := w.(*gzipWriter)
	if gw != nil && !gw.decided && plainGet(r) {
		// Compressed once, not per request: the gzipWriter is told the
		// answer is made, and passes it through.
		if gz := e.gzipped(); gz != nil {
			gw.decided = true
			h.Add("Vary", "Accept-Encoding")
			h["Etag"] = e.gzTag
			h["Content-Encoding"] = gzipEncoding
			h["Last-Modified"] = e.lastMod
			h["Content-Length"] = e.gzLength
			h["Accept-Ranges"] = acceptBytes
			w.WriteHeader(http.StatusOK)
			w.Write(gz)
			return
		}
	}
	if plainGet(r) {
		// What ServeContent answers a request with no range and no
		// condition, without its work per request.
		h["Last-Modified"] = e.lastMod
		h["Accept-Ranges"] = acceptBytes
		if r.Method == http.MethodHead || len(e.data) >= autoLengthMax || gw != nil { // gzipWriter decides by it
			h["Content-Length"] = e.length
		}
		w.WriteHeader(http.StatusOK)
		if r.Method != http.MethodHead {
			w.Write(e.data)
		}
		return
	}
	// Without ReadFrom the body joins the header in one write.
	http.ServeContent(writeOnly{w}, r, "", e.modTime, bytes.NewReader(e.data))
}

// autoLengthMax: net/http gives a body shorter than this, written
// whole before the handler returns, its Content-Length itself, from the
// one write. Leaving the header to it keeps the handler's header map
// at 8 keys, the most a Go map holds before it grows into a table
// (which net/http's Header.Clone of it then copies again).
const autoLengthMax = 2048

var (
	acceptBytes  = []string{"bytes"}
	gzipEncoding = []string{"gzip"}
)

// plainGet reports a request that asks for the whole file, whatever
// its state: no Range and no condition.
func plainGet(r *http.Request) bool {
	h := r.Header
	for _, k := range []string{"Range", "If-Match", "If-None-Match", "If-Modified-Since", "If-Unmodified-Since", "If-Range"} {
		if _, ok := h[k]; ok {
			return false
		}
	}
	return true
}

// writeOnly hides a ResponseWriter's ReadFrom.
type writeOnly struct{ http.ResponseWriter }

func (w writeOnly) Unwrap() http.ResponseWriter { return w.ResponseWriter }
