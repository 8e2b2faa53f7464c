package xmlrpc

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkServeHTTPAdd is the server's own work on add(41, 1): read
// the body, parse, dispatch, encode, write, through ServeHTTP with a
// minimal ResponseWriter and one request reused, so that nothing of
// net/http's connection handling (or httptest's) is counted.
func BenchmarkServeHTTPAdd(b *testing.B) {
	s := &Server{}
	s.Register("add", func(a, b int) int { return a + b }, "")
	var body bytes.Buffer
	encodeCall(&body, "add", []any{41, 1}, DefaultMaxDepth)
	rd := bytes.NewReader(body.Bytes())
	r := httptest.NewRequest("POST", "/RPC2", nil)
	w := &nullWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		rd.Reset(body.Bytes())
		r.Body = io.NopCloser(rd)
		w.body = w.body[:0]
		s.ServeHTTP(w, r)
		if !bytes.Contains(w.body, []byte("<int>42</int>")) {
			b.Fatal(string(w.body))
		}
	}
}

// nullWriter is the least a ResponseWriter can be: a header map kept
// between calls, as net/http keeps none, and the body in a slice.
type nullWriter struct {
	h    http.Header
	body []byte
}

func (w *nullWriter) Header() http.Header         { return w.h }
func (w *nullWriter) WriteHeader(int)             {}
func (w *nullWriter) Write(p []byte) (int, error) { w.body = append(w.body, p...); return len(p), nil }

func BenchmarkParseResponse(b *testing.B) {
	var buf bytes.Buffer
	v, _ := encodeValue(42, DefaultMaxDepth)
	writeResponse(&buf, v)
	doc := buf.String()
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := parseResponseBytes([]byte(doc), newLimits(0, 0)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRoundTrip(b *testing.B) {
	s := &Server{}
	s.Register("add", func(a, b int) int { return a + b }, "")
	ts := httptest.NewServer(s)
	defer ts.Close()
	c := &Client{URL: ts.URL + "/RPC2", HTTPClient: ts.Client()}
	ts.Client().Transport.(*http.Transport).MaxIdleConnsPerHost = 64
	b.ReportAllocs()
	b.SetParallelism(8)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			var n int
			if err := c.Call(context.Background(), "add", &n, 41, 1); err != nil || n != 42 {
				b.Error(n, err)
				return
			}
		}
	})
}

// BenchmarkParseCall is the request parser on add(41, 1): plainTokens,
// and encoding/xml for comparison.
func BenchmarkParseCall(b *testing.B) {
	var buf bytes.Buffer
	encodeCall(&buf, "add", []any{41, 1}, DefaultMaxDepth)
	doc := buf.Bytes()
	b.Run("plain", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := newPlainDecoder(doc, newLimits(0, 0)).call(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding-xml", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := parseCall(bytes.NewReader(doc), newLimits(0, 0)); err != nil {
				b.Fatal(err)
			}
		}
	})
}
