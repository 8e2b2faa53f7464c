package httpfs

import (
	"bytes"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"reflect"
	"strconv"
	"sync"
	"time"
)

// Bounds of the small-file cache.
const (
	cacheFileMax  = 64 << 10 // files up to this size are kept in memory
	cacheBytesMax = 32 << 20 // all kept files together
	cacheCountMax = 8192
)

// fileCache keeps the bytes of small files, so that a request for one
// costs a single stat instead of open, fstat, read and close. An entry
// is used only while the file's stat (size, modification and change
// times, device and inode: fileIdentity) is what it was when read, so a
// change in place or a replacement by rename is seen at once.
type fileCache struct {
	mu    sync.RWMutex
	m     map[cacheKey]*cachedFile
	bytes int
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
}

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

// serveSmall answers a GET or HEAD for a small regular file fi from the
// cache, reading it in first if need be; false means it was not done
// and the caller serves the file from disk.
func (s *Server) serveSmall(w http.ResponseWriter, r *http.Request, t FS, name string, fi fs.FileInfo) bool {
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
		s.cache.put(k, e)
	}
	h := w.Header()
	h["Etag"] = e.etag
	h["Content-Type"] = e.ctype
	if plainGet(r) {
		// What ServeContent answers a request with no range and no
		// condition, without its work per request.
		h["Last-Modified"] = e.lastMod
		h["Content-Length"] = e.length
		h["Accept-Ranges"] = acceptBytes
		w.WriteHeader(http.StatusOK)
		if r.Method != http.MethodHead {
			w.Write(e.data)
		}
		return true
	}
	// Without ReadFrom the body joins the header in one write.
	http.ServeContent(writeOnly{w}, r, "", e.modTime, bytes.NewReader(e.data))
	return true
}

var acceptBytes = []string{"bytes"}

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
