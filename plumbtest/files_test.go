package plumbtest_test

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"strings"
	"testing"

	"github.com/plumbnet/plumb/ftp"
	"github.com/plumbnet/plumb/plumbtest"
)

// An FTP client (plumb's) uploads into alice's home; Home("alice").Read
// has the bytes, and Files sees the same file under home/alice/.
func TestFTPUploadThenRead(t *testing.T) {
	srv := plumbtest.NewServer(t, plumbtest.With("ftp"))
	ctx := testContext(t)
	c, err := ftp.Dial(ctx, srv.Addr("ftp"))
	if err != nil {
		t.Fatalf("ftp.Dial: %v", err)
	}
	defer c.Close()
	if err := c.Login("alice", "secret"); err != nil {
		t.Fatalf("ftp Login: %v", err)
	}
	if _, err := c.MakeDir("reports"); err != nil {
		t.Fatalf("ftp MKD: %v", err)
	}
	data := bytes.Repeat([]byte("row,1,2,3\r\n"), 1000)
	if _, err := c.Stor("reports/day.csv", bytes.NewReader(data)); err != nil {
		t.Fatalf("ftp STOR: %v", err)
	}
	c.Quit()

	got, err := srv.Home("alice").Read("reports/day.csv")
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("Home(alice).Read(reports/day.csv) = %d bytes, %v; want the %d uploaded", len(got), err, len(data))
	}
	if got, err := srv.Files().Read("/home/alice/reports/day.csv"); err != nil || !bytes.Equal(got, data) {
		t.Errorf("Files().Read(/home/alice/reports/day.csv) = %d bytes, %v; want the same", len(got), err)
	}
	list, err := srv.Home("alice").List("reports")
	if err != nil || len(list) != 1 || list[0].Name() != "day.csv" || list[0].Size() != int64(len(data)) {
		t.Errorf("Home(alice).List(reports) = %v, %v; want day.csv of %d bytes", names(list), err, len(data))
	}
}

// Files().Write puts a file in the anonymous area, making its
// directories; anonymous FTP over implicit TLS (trusting srv.TLSConfig)
// and HTTPS (srv.Client) both serve it; Remove takes it away.
func TestWriteThenFetchOverFTPSAndHTTPS(t *testing.T) {
	srv := plumbtest.NewServer(t, plumbtest.With("ftp", "http"))
	ctx := testContext(t)
	want := []byte("hello, world\n")
	if err := srv.Files().Write("anonymous/pub/hello.txt", want); err != nil {
		t.Fatalf("Files().Write: %v", err)
	}

	c, err := ftp.DialTLS(ctx, srv.Addr("ftps"), srv.TLSConfig())
	if err != nil {
		t.Fatalf("ftp.DialTLS with srv.TLSConfig(): %v", err)
	}
	defer c.Close()
	if err := c.Login("anonymous", "test@example.org"); err != nil {
		t.Fatalf("ftp anonymous Login: %v", err)
	}
	var got bytes.Buffer
	if _, err := c.Retr("pub/hello.txt", &got); err != nil || !bytes.Equal(got.Bytes(), want) {
		t.Fatalf("ftps RETR pub/hello.txt = %q, %v; want %q", got.Bytes(), err, want)
	}
	c.Quit()

	resp, err := srv.Client().Get(srv.URL("https") + "/pub/hello.txt")
	if err != nil {
		t.Fatalf("srv.Client().Get over https: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !bytes.Equal(body, want) {
		t.Errorf("GET https /pub/hello.txt = %d %q, want 200 %q", resp.StatusCode, body, want)
	}

	if err := srv.Files().Remove("anonymous/pub/hello.txt"); err != nil {
		t.Fatalf("Remove: %v", err)
	}
	if _, err := srv.Files().Read("anonymous/pub/hello.txt"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Read after Remove: %v, want fs.ErrNotExist", err)
	}
}

// The whole tree's root shows its layout, and a path outside it (or
// outside the layout) is refused.
func TestFilesLayoutAndJail(t *testing.T) {
	srv := plumbtest.NewServer(t, plumbtest.With("ftp"))
	if err := srv.Home("alice").Write("a.txt", []byte("a")); err != nil {
		t.Fatal(err)
	}
	top, err := srv.Files().List("")
	if err != nil || strings.Join(names(top), " ") != "anonymous home" {
		t.Errorf("Files().List(\"\") = %v, %v; want [anonymous home]", names(top), err)
	}
	homes, err := srv.Files().List("home")
	if err != nil || strings.Join(names(homes), " ") != "alice" {
		t.Errorf("Files().List(home) = %v, %v; want [alice]", names(homes), err)
	}
	if err := srv.Files().Write("elsewhere/x", []byte("x")); err == nil {
		t.Errorf("Files().Write(elsewhere/x) = nil, want an error (not in the layout)")
	}
	if b, err := srv.Home("alice").Read("../../accounts.toml"); err == nil {
		t.Errorf("Home(alice).Read(../../accounts.toml) = %q, want an error", b)
	}
	if got, err := srv.Home("alice").Read("/../a.txt"); err != nil || string(got) != "a" {
		t.Errorf("Home(alice).Read(/../a.txt) = %q, %v; want the home's a.txt (cleaned inside the tree)", got, err)
	}
}

func names(list []fs.FileInfo) []string {
	var out []string
	for _, fi := range list {
		out = append(out, fi.Name())
	}
	return out
}
