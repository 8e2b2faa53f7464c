package interop

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestNNTPCompressZlib: Python's zlib, an inflater and deflater plumb
// did not write, holds a COMPRESS DEFLATE session with plumb serve
// over several batches of commands. The server gives its deflater back
// after each batch and takes a fresh one for the next (see
// nntp/compress.go); the client's single inflater must read the whole
// session as one stream.
func TestNNTPCompressZlib(t *testing.T) {
	py := need(t, "python3")
	s := startNNTP(t)
	for i := 1; i <= 3; i++ {
		art := fmt.Sprintf("From: a@example.org\r\nNewsgroups: local.test\r\nSubject: z%d\r\n\r\n%s\r\n.dot\r\n", i, strings.Repeat("compressible line\r\n", 200*i))
		if _, errs, code := plumbNews(t, art, "post", "nntp://alice:alice-password@"+s.Addr(t, "nntp")+"/local.test"); code != 0 {
			t.Fatalf("plumb news post: %s", errs)
		}
	}
	host, port, _ := strings.Cut(s.Addr(t, "nntp"), ":")
	out := run(t, 60*time.Second, py, "testdata/nntp_compress.py", host, port, "local.test")
	var got struct {
		Greeting, Compress string
		Batches            [][]string
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("output %q: %v", out, err)
	}
	if !strings.HasPrefix(got.Compress, "206 ") || len(got.Batches) != 6 {
		t.Fatalf("COMPRESS %q, %d batches; want 206 and 6:\n%s", got.Compress, len(got.Batches), out)
	}
	if b := got.Batches[0]; !strings.HasPrefix(b[1], "211 3 1 3 local.test") {
		t.Errorf("GROUP under COMPRESS = %q", b)
	}
	for i := 1; i <= 3; i++ {
		b := got.Batches[i]
		body := strings.Join(b, "\n")
		if !strings.HasPrefix(b[0], fmt.Sprintf("220 %d ", i)) || strings.Count(body, "compressible line") != 200*i ||
			!strings.Contains(body, "\n..dot\n.") || b[len(b)-1] != "." {
			t.Errorf("ARTICLE %d under COMPRESS: %d lines, first %q, last %q", i, len(b), b[0], b[len(b)-1])
		}
	}
	if b := got.Batches[4]; !strings.HasPrefix(b[0], "224 ") || len(b) != 6 || !strings.Contains(b[3], "z3") || !strings.HasPrefix(b[5], "111 ") {
		t.Errorf("OVER and DATE under COMPRESS = %q", b)
	}
	if b := got.Batches[5]; !strings.HasPrefix(b[0], "205") {
		t.Errorf("QUIT under COMPRESS = %q", b)
	}
}
