package xmlrpc

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func BenchmarkServeHTTPAdd(b *testing.B) {
	s := &Server{}
	s.Register("add", func(a, b int) int { return a + b }, "")
	var body bytes.Buffer
	encodeCall(&body, "add", []any{41, 1}, DefaultMaxDepth)
	req := body.String()
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, httptest.NewRequest("POST", "/RPC2", strings.NewReader(req)))
		if !strings.Contains(rec.Body.String(), "<int>42</int>") {
			b.Fatal(rec.Body.String())
		}
	}
}

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
