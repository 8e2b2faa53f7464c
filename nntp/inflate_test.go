package nntp

import (
	"bytes"
	"compress/flate"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestInflatePartialFlush: INN ends each batch of replies with zlib's
// Z_PARTIAL_FLUSH (these bytes are its answer to GROUP and then to
// DATE); the inflater hands out each reply before the next arrives.
func TestInflatePartialFlush(t *testing.T) {
	first, _ := hex.DecodeString("32323454305000e1a4d4bce40cbd92d4e2125e2e8000")
	second, _ := hex.DecodeString("32048a1a1918991902090323537363635e2e8000")
	pr, pw := io.Pipe()
	f := newInflater(pr)
	go pw.Write(first)
	buf := make([]byte, 100)
	n, err := f.Read(buf)
	if err != nil || string(buf[:n]) != "211 0 1 0 bench.test\r\n" {
		t.Fatalf("first batch = %q, %v", buf[:n], err)
	}
	go func() { pw.Write(second); pw.Close() }()
	n, err = f.Read(buf)
	if err != nil || !strings.HasPrefix(string(buf[:n]), "111 2026") {
		t.Fatalf("second batch = %q, %v", buf[:n], err)
	}
	if n, err := f.Read(buf); err != io.ErrUnexpectedEOF {
		t.Errorf("after the end of the connection: %d, %v; want unexpected EOF", n, err)
	}
}

// deflated is data compressed by compress/flate at level, sync-flushed
// after every chunk of it.
func deflated(data []byte, level, chunk int) []byte {
	var b bytes.Buffer
	w, _ := flate.NewWriter(&b, level)
	for len(data) > 0 {
		n := min(chunk, len(data))
		w.Write(data[:n])
		w.Flush()
		data = data[n:]
	}
	w.Close()
	return b.Bytes()
}

// TestInflateRoundTrip: what compress/flate writes, at every level,
// stored, fixed and dynamic blocks, matches over the whole window,
// reads back the same.
func TestInflateRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	words := strings.Fields("the quick brown fox jumps over lazy dog news article header body Path Message-ID")
	var text bytes.Buffer
	for text.Len() < 300<<10 {
		text.WriteString(words[r.IntN(len(words))])
		text.WriteByte(" \n"[r.IntN(2)])
	}
	random := make([]byte, 100<<10)
	for i := range random {
		random[i] = byte(r.Uint32())
	}
	for _, data := range [][]byte{nil, []byte("x"), text.Bytes(), random, bytes.Repeat([]byte("ab"), 100<<10)} {
		for _, level := range []int{flate.HuffmanOnly, flate.NoCompression, flate.BestSpeed, flate.DefaultCompression, flate.BestCompression} {
			for _, chunk := range []int{100, 1 << 20} {
				got, err := io.ReadAll(newInflater(bytes.NewReader(deflated(data, level, chunk))))
				if err != nil || !bytes.Equal(got, data) {
					t.Fatalf("level %d chunk %d: %d bytes of %d back, %v", level, chunk, len(got), len(data), err)
				}
			}
		}
	}
}

// FuzzInflate: on any input the inflater ends (no panic, no hang), and
// whatever compress/flate decodes in full it decodes the same.
func FuzzInflate(f *testing.F) {
	f.Add(deflated([]byte("GROUP misc.test\r\nARTICLE 1\r\n"), flate.BestSpeed, 10))
	f.Add(deflated(bytes.Repeat([]byte("abc"), 1000), flate.BestCompression, 1000))
	f.Add([]byte{0x32, 0x32, 0x34, 0x54, 0x30, 0x50, 0x00, 0xe1, 0xa4, 0xd4, 0xbc, 0xe4, 0x0c, 0xbd, 0x92, 0xd4, 0xe2, 0x12, 0x5e, 0x2e, 0x80, 0x00})
	f.Fuzz(func(t *testing.T, in []byte) {
		got, err := io.ReadAll(io.LimitReader(newInflater(bytes.NewReader(in)), 1<<22))
		want, werr := io.ReadAll(io.LimitReader(flate.NewReader(bytes.NewReader(in)), 1<<22))
		if werr == nil && (err != nil || !bytes.Equal(got, want)) {
			t.Fatalf("compress/flate read %d bytes cleanly; the inflater %d, %v", len(want), len(got), err)
		}
		if werr != nil && err == nil && len(got) < 1<<22 {
			t.Fatalf("compress/flate failed (%v) where the inflater read %d bytes cleanly", werr, len(got))
		}
	})
}

// BenchmarkInflate: decoding speed of an article-like stream, ours and
// compress/flate's.
func BenchmarkInflate(b *testing.B) {
	var text bytes.Buffer
	for i := 0; text.Len() < 1<<20; i++ {
		fmt.Fprintf(&text, "%d\tSubject %d\tposter%d@example.org\tMon, 1 Jan 2024 10:00:00 +0000\t<%d@example.org>\t\t%d\t%d\r\n", i, i, i%97, i, 1000+i%5000, 10+i%50)
	}
	z := deflated(text.Bytes(), flate.DefaultCompression, 16<<10)
	for _, r := range []struct {
		name string
		new  func(io.Reader) io.Reader
	}{{"plumb", func(r io.Reader) io.Reader { return newInflater(r) }}, {"flate", func(r io.Reader) io.Reader { return flate.NewReader(r) }}} {
		b.Run(r.name, func(b *testing.B) {
			b.SetBytes(int64(text.Len()))
			for b.Loop() {
				io.Copy(io.Discard, r.new(bytes.NewReader(z)))
			}
		})
	}
}
