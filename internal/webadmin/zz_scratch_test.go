package webadmin

import (
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plumbnet/plumb/internal/testkit"
)

func need(t testing.TB, name string) string {
	p, err := exec.LookPath(name)
	if err != nil {
		t.Skip(name)
	}
	return p
}

func TestScratchBrowser(t *testing.T) {
	f := newConsoleFixture(t)
	var imgHits, scriptHits atomic.Int32
	img := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "script") {
			scriptHits.Add(1)
		} else {
			imgHits.Add(1)
		}
		w.Header().Set("Content-Type", "image/gif")
		w.Write([]byte("GIF89a"))
	}))
	defer img.Close()
	b := startBrowser(t)
	dir := "/tmp/console_shots"
	b.open(f.srv.URL + "/mail/bob/INBOX")
	testkit.Eventually(t, 10*time.Second, "live", func() bool { return b.text(`return document.body.getAttribute("data-live") || ""`) == "open" })
	b.eval(`window.plumbMarker = 42; return null`, nil)
	ref := f.mail.add("bob", "INBOX", "From: x@y\nSubject: arrived live\n\nhi\n")
	<-f.events.subscribed
	f.events.publish(Event{Kind: "delivery", Message: &ref})
	testkit.Eventually(t, 10*time.Second, "row", func() bool {
		return strings.Contains(b.text(`return document.querySelector("#messages tbody").innerText`), "arrived live")
	})
	t.Log(b.text(`return String(window.plumbMarker)`))
	b.screenshot(dir, "list")
	raw := "From: shop@example.com\nSubject: evil\nContent-Type: text/html\n\n<p id=p>static text</p><script>document.getElementById('p').textContent='SCRIPT RAN';location.href='" + img.URL + "/script'</script><img src=\"" + img.URL + "/pixel.gif\">\n"
	ref = f.mail.add("bob", "INBOX", raw)
	b.open(f.srv.URL + href("", "mail", "bob", "INBOX", ref.UID))
	t.Log(b.text(`return document.readyState`))
	var el map[string]string
	if err := b.call("POST", b.session+"/element", map[string]string{"using": "css selector", "value": "#html"}, &el); err != nil {
		t.Fatal(err)
	}
	t.Log(el)
	var ref0 any
	for _, v := range el {
		ref0 = v
	}
	if err := b.call("POST", b.session+"/frame", map[string]any{"id": map[string]any{"element-6066-11e4-a52e-4f735466cecf": ref0}}, nil); err != nil {
		t.Fatal(err)
	}
	var s any
	err := b.call("POST", b.session+"/execute/sync", map[string]any{"script": "return document.body.innerText", "args": []any{}}, &s)
	t.Log("in frame:", s, err)
	var el2 map[string]string
	err = b.call("POST", b.session+"/element", map[string]string{"using": "css selector", "value": "#p"}, &el2)
	t.Log("p:", el2, err)
	for _, v := range el2 {
		var txt string
		err = b.call("GET", b.session+"/element/"+v+"/text", nil, &txt)
		t.Log("text:", txt, err)
	}
	b.call("POST", b.session+"/frame/parent", map[string]any{}, nil)
	b.screenshot(dir, "view")
	t.Log("hits", imgHits.Load(), scriptHits.Load())
	b.open(f.srv.URL + href("", "mail", "bob", "INBOX", ref.UID) + "?remote=1")
	t.Log("hits after remote", imgHits.Load(), scriptHits.Load())
	b.resize(390, 844)
	for _, u := range []string{"/mail/bob/INBOX", "/mail/bob/INBOX/2", "/", "/files/", "/sessions", "/log"} {
		b.open(f.srv.URL + u)
		var fits bool
		b.eval(`return document.documentElement.scrollWidth <= window.innerWidth`, &fits)
		t.Log(u, fits, b.text(`return String(document.documentElement.scrollWidth)`))
		b.screenshot(dir, "phone"+strings.ReplaceAll(u, "/", "_"))
	}
}
