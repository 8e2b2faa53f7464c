package mailstore

import (
	"bytes"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestReadFileString: readFileString gives what os.ReadFile does, for
// an empty file, a file, a missing one, and a FIFO, whose length (0)
// says nothing of what it gives.
func TestReadFileString(t *testing.T) {
	dir := t.TempDir()
	big := bytes.Repeat([]byte("12 1700000000.M1P2Q3.host,S=5,W=6\n"), 10000)
	for name, b := range map[string][]byte{"empty": nil, "short": []byte("x"), "big": big} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		if s, err := readFileString(p); err != nil || s != string(b) {
			t.Errorf("%s: readFileString = %d bytes, %v; want %d", name, len(s), err, len(b))
		}
	}
	if _, err := readFileString(filepath.Join(dir, "missing")); !os.IsNotExist(err) {
		t.Errorf("missing file: %v", err)
	}

	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skip(err)
	}
	go func() {
		w, err := os.OpenFile(fifo, os.O_WRONLY, 0)
		if err != nil {
			return
		}
		w.Write(big)
		w.Close()
	}()
	if s, err := readFileString(fifo); err != nil || s != string(big) {
		t.Errorf("fifo: readFileString = %d bytes, %v; want %d", len(s), err, len(big))
	}
}
