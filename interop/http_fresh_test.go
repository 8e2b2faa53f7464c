package interop

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/plumbnet/plumb/internal/testkit"
)

// freshBound is how soon a change made over FTP must be served over
// HTTP: httpfs trusts a cached small file's stat for 100 ms.
const freshBound = time.Second

// httpGot is one HTTP GET's answer.
type httpGot struct {
	code               int
	body, etag, length string
}

func httpGet(t *testing.T, url string) httpGot {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(ftpUser, ftpPass)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		t.Fatal(err)
	}
	return httpGot{code: resp.StatusCode, body: string(b), etag: resp.Header.Get("ETag"),
		length: resp.Header.Get("Content-Length")}
}

// ftpPut stores body as name in alice's home with curl over FTP.
func ftpPut(t *testing.T, ftpBase, name, body string) {
	t.Helper()
	src := filepath.Join(t.TempDir(), "src")
	if err := os.WriteFile(src, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	curl(t, "-u", ftpUser+":"+ftpPass, "-T", src, ftpBase+"/"+name)
}

// TestHTTPFreshAfterFTP: a small file HTTP has cached, overwritten over
// FTP (curl) with other bytes of another length, is served new, with
// its length and a new ETag, within a second; deleted over FTP, it is
// 404 as soon.
func TestHTTPFreshAfterFTP(t *testing.T) {
	need(t, "curl")
	s, _, _ := startHTTPServe(t)
	ftpBase := "ftp://" + s.Addr(t, "ftp")
	url := "http://" + s.Addr(t, "http") + "/~alice/fresh.txt"

	old := "the first version\n"
	ftpPut(t, ftpBase, "fresh.txt", old)
	first := httpGet(t, url)
	if first.code != 200 || first.body != old || first.etag == "" {
		t.Fatalf("first GET = %+v, want 200 with FTP's bytes and an ETag", first)
	}
	if again := httpGet(t, url); again.body != old || again.etag != first.etag {
		t.Fatalf("second GET (from the cache) = %+v, want %+v", again, first)
	}

	updated := strings.Repeat("the second, longer version\n", 3)
	ftpPut(t, ftpBase, "fresh.txt", updated)
	var got httpGot
	testkit.Eventually(t, freshBound, "serving the file as FTP overwrote it", func() bool {
		got = httpGet(t, url)
		return got.body != old
	})
	if got.code != 200 || got.body != updated {
		t.Errorf("GET after the FTP overwrite = %d %q, want 200 %q", got.code, got.body, updated)
	}
	if got.length != strconv.Itoa(len(updated)) {
		t.Errorf("Content-Length after the overwrite = %q, want %d", got.length, len(updated))
	}
	if got.etag == "" || got.etag == first.etag {
		t.Errorf("ETag after the overwrite = %q, want a new one (was %q)", got.etag, first.etag)
	}
	if again := httpGet(t, url); again.body != updated || again.etag != got.etag {
		t.Errorf("GET once more = %+v, want the new bytes and ETag %q", again, got.etag)
	}

	curl(t, "-u", ftpUser+":"+ftpPass, "-Q", "DELE fresh.txt", ftpBase+"/")
	testkit.Eventually(t, freshBound, "404 for the file FTP deleted", func() bool {
		got = httpGet(t, url)
		return got.code == http.StatusNotFound
	})
	if strings.Contains(got.body, updated) {
		t.Errorf("404 after the FTP delete still carries the file's bytes: %q", got.body)
	}
}
