package mailstore

import (
	"bytes"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/plumbnet/plumb/internal/wire"
)

// FuzzCRLFSizeMatchesDotWriter: the size a mailbox reports (POP3 LIST,
// STAT) is the number of bytes the dot writer sends for the message,
// stuffing dots aside, however the message's line ends look.
func FuzzCRLFSizeMatchesDotWriter(f *testing.F) {
	for _, s := range []string{"", "a", "a\n", "a\r\n", "a\rb", "a\r", "\r\r\n\n", ".x\r\n..\n", "a\r\r"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, msg string) {
		var out bytes.Buffer
		w := wire.NewDotWriter(&out)
		if _, err := w.Write([]byte(msg)); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		wireForm := strings.TrimSuffix(out.String(), ".\r\n")
		stuffed := strings.Count("\n"+wireForm, "\n.") // dots the writer added
		if msg == "" {
			wireForm = ""
		}
		want := int64(len(wireForm) - stuffed)
		got, err := CRLFSize(iotest.OneByteReader(strings.NewReader(msg)))
		if err != nil || got != want {
			t.Fatalf("CRLFSize(%q) = %d, %v; want %d (dot writer sent %q)", msg, got, err, want, out.String())
		}
	})
}
