package cli

import (
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/plumbnet/plumb/gopher"
)

// gopherTestServer serves a small tree in process and returns its address.
func gopherTestServer(t *testing.T) string {
	t.Helper()
	tree := fstest.MapFS{
		"notes.txt":       {Data: []byte("one\ntwo\x1b[2J\n")},
		"bin.dat":         {Data: []byte("\x00\x01\x02")},
		"docs/guide.txt":  {Data: []byte("guide\n")},
		"evil\x1b[31mred": {Data: []byte("x")}, // not listed: no selector could name it
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &gopher.Server{Backend: &gopher.FSBackend{Root: tree}}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

func TestGopherCommand(t *testing.T) {
	addr := gopherTestServer(t)
	dir := t.TempDir()
	save := filepath.Join(dir, "saved.dat")
	// Links: 1 find, 2 docs, 3 bin.dat, 4 notes.txt
	in := strings.NewReader("4\n1 guide\nb\n2\nu 1\nb\ns 3 " + save + "\n3\nzz\nq\n")
	out, errs, err := runSocketCmd(t, in, "gopher", "gopher://"+addr+"/")
	if err != nil {
		t.Fatalf("plumb gopher = %v\n%s%s", err, out, errs)
	}
	for _, want := range []string{
		"   1 find  Search file names", "   4 text  notes.txt",
		"one\ntwo^[[2J\n",           // a text, its escape made harmless
		"   1 text  docs/guide.txt", // the search's result
		"gopher://" + addr + "/0/docs/guide.txt",
		"saved " + save + " (3 bytes)",
		"a binary item (type 9): save it with s N [FILE]",
		"type N to open link N",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("plumb gopher output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "\x1b") {
		t.Errorf("plumb gopher wrote an escape character to the terminal:\n%q", out)
	}
	if b, err := os.ReadFile(save); err != nil || string(b) != "\x00\x01\x02" {
		t.Errorf("saved file = %q, %v", b, err)
	}

	out, _, err = runSocketCmd(t, nil, "gopher", "--json", "gopher://"+addr+"/1/docs/")
	var items []map[string]any
	if err != nil || json.Unmarshal([]byte(out), &items) != nil || len(items) != 1 || items[0]["selector"] != "/docs/guide.txt" ||
		items[0]["url"] != "gopher://"+addr+"/0/docs/guide.txt" {
		t.Errorf("plumb gopher --json = %q, %v", out, err)
	}
	out, _, err = runSocketCmd(t, nil, "gopher", "--dump", "gopher://"+addr+"/0/docs/guide.txt")
	if err != nil || out != "guide\n" {
		t.Errorf("plumb gopher --dump of a text = %q, %v", out, err)
	}
	out, _, err = runSocketCmd(t, nil, "get", "-o", "-", "gopher://"+addr+"/9/bin.dat")
	if err != nil || out != "\x00\x01\x02" {
		t.Errorf("plumb get gopher://…/9/bin.dat = %q, %v", out, err)
	}
	_, _, err = runSocketCmd(t, nil, "get", "-o", "-", "gopher://"+addr+"/0/nope.txt")
	if code := socketExitCode(err); code != exitTransferFailed || !strings.Contains(err.Error(), "Not found") {
		t.Errorf("plumb get of a missing item = %v (exit %d), want exit %d saying Not found", err, code, exitTransferFailed)
	}
	_, _, err = runSocketCmd(t, nil, "put", filepath.Join(dir, "saved.dat"), "gopher://"+addr+"/9/x")
	if code := socketExitCode(err); code != exitTransferUsage {
		t.Errorf("plumb put gopher:// = %v (exit %d), want exit %d", err, code, exitTransferUsage)
	}
}
