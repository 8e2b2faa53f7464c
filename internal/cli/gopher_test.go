package cli

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/plumbnet/plumb/gopher"
	"github.com/plumbnet/plumb/internal/testkit"
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
	return testkit.Serve(t, &gopher.Server{Backend: &gopher.FSBackend{Root: tree}}, nil)
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

// hostileGopher answers "" (the root) with menu, made with its own
// address, and any other selector with body.
func hostileGopher(t *testing.T, menu func(addr string) string, body string) string {
	t.Helper()
	ln := testkit.Listen(t)
	addr := ln.Addr().String()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				line, _ := bufio.NewReader(c).ReadString('\n')
				if line = strings.TrimRight(line, "\r\n"); line == "" || line == "/" {
					fmt.Fprint(c, menu(addr))
				} else {
					fmt.Fprint(c, body)
				}
			}()
		}
	}()
	return addr
}

// TestGopherSaveAndURLFromHostileServer: a server's host field and file
// names reach the terminal made harmless, a default save name is never
// a dot file or a path, and an existing file is never replaced.
func TestGopherSaveAndURLFromHostileServer(t *testing.T) {
	addr := hostileGopher(t, func(addr string) string {
		host, port, _ := net.SplitHostPort(addr)
		return "9prof\t/.bash_profile\t" + host + "\t" + port + "\r\n" +
			"9up\t/a/..\\..\\x.bin\t" + host + "\t" + port + "\r\n" +
			"9esc\t/name\x1b[2J.bin\t" + host + "\t" + port + "\r\n" +
			"1far\t/\tevil\x1b]0;owned\x07.example\t70\r\n.\r\n"
	}, "payload")
	t.Chdir(t.TempDir())
	if err := os.WriteFile("bash_profile", []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	in := strings.NewReader("s 1\ns 2\ns 3\nu 4\nq\n")
	out, errs, err := runSocketCmd(t, in, "gopher", "gopher://"+addr+"/")
	if err != nil {
		t.Fatalf("plumb gopher = %v\n%s%s", err, out, errs)
	}
	if strings.ContainsAny(out, "\x1b\x07") {
		t.Errorf("plumb gopher wrote a control character to the terminal:\n%q", out)
	}
	if _, err := os.Stat(".bash_profile"); err == nil {
		t.Error("s 1 made .bash_profile in the current directory")
	}
	if b, err := os.ReadFile("bash_profile"); err != nil || string(b) != "mine" {
		t.Errorf("bash_profile = %q, %v; want it left alone", b, err)
	}
	for _, name := range []string{"bash_profile.1", "x.bin", "name_[2J.bin"} {
		if b, err := os.ReadFile(name); err != nil || string(b) != "payload" {
			t.Errorf("saved %s = %q, %v; want the payload", name, b, err)
		}
	}
	for _, want := range []string{"saved bash_profile.1 (7 bytes)", "saved x.bin (7 bytes)", "saved name_[2J.bin (7 bytes)", "evil^[]0;owned^G.example"} {
		if !strings.Contains(out, want) {
			t.Errorf("plumb gopher output lacks %q:\n%s", want, out)
		}
	}
}

func TestSaveName(t *testing.T) {
	for sel, want := range map[string]string{
		"/pub/file.txt": "file.txt", "/.bash_profile": "bash_profile", "/..": "gopher-item", "/": "gopher-item",
		"": "gopher-item", `/a\..\.ssh`: "ssh", "/x\x1b[1m": "x_[1m", "/c:boot.ini": "c_boot.ini",
	} {
		if got := saveName(sel); got != want {
			t.Errorf("saveName(%q) = %q, want %q", sel, got, want)
		}
	}
}
