package httpfs

import (
	"crypto/sha256"
	"encoding/base64"
	"io"
	"io/fs"
	"net/http"
	"strings"
	"sync"
)

// maxDigestBytes bounds the files whose digest is computed on request.
const maxDigestBytes = 4 << 30

// digestCache keeps the sha-256 of files by their identity, so a file's
// digest is computed once per version however often it is asked for.
type digestCache struct {
	mu sync.Mutex
	m  map[cacheKey]digestEntry
}

type digestEntry struct {
	id  fileID
	sum string // the Repr-Digest value
}

// wantsDigest reports a request with Want-Repr-Digest naming sha-256
// (RFC 9530) at a non-zero preference.
func wantsDigest(r *http.Request) bool {
	for _, v := range r.Header.Values("Want-Repr-Digest") {
		for _, item := range strings.Split(v, ",") {
			k, pref, _ := strings.Cut(strings.TrimSpace(item), "=")
			if strings.EqualFold(k, "sha-256") && strings.TrimSpace(pref) != "0" {
				return true
			}
		}
	}
	return false
}

// setDigest sets Repr-Digest for file f (described by fi) of tree t,
// reading it once per version, and leaves f at its start. It does
// nothing for a file it cannot identify or over maxDigestBytes.
func (s *Server) setDigest(w http.ResponseWriter, t FS, name string, f io.ReadSeeker, fi fs.FileInfo) {
	id, ok := fileIdentity(fi)
	if !ok || fi.Size() > maxDigestBytes || !cacheable(t) {
		return
	}
	k := cacheKey{t, name}
	s.digests.mu.Lock()
	e, ok := s.digests.m[k]
	s.digests.mu.Unlock()
	if !ok || e.id != id {
		h := sha256.New()
		_, err := io.Copy(h, f)
		if _, serr := f.Seek(0, io.SeekStart); err != nil || serr != nil {
			return
		}
		e = digestEntry{id: id, sum: "sha-256=:" + base64.StdEncoding.EncodeToString(h.Sum(nil)) + ":"}
		s.digests.mu.Lock()
		if s.digests.m == nil || len(s.digests.m) >= cacheCountMax {
			s.digests.m = map[cacheKey]digestEntry{}
		}
		s.digests.m[k] = e
		s.digests.mu.Unlock()
	}
	w.Header().Set("Repr-Digest", e.sum)
}
