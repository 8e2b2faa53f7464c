package interop

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image/png"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/plumbnet/plumb/internal/testkit"
)

// browser is one headless Chromium driven through chromedriver's W3C
// WebDriver HTTP API with net/http: no WebDriver module.
type browser struct {
	t       testing.TB
	base    string // chromedriver's URL
	session string
	client  *http.Client
}

// chromiumArgs keep the browser headless, on this machine only: no
// update checks, sync, metrics or other background traffic.
var chromiumArgs = []string{"--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
	"--window-size=1200,900", "--no-first-run", "--no-default-browser-check", "--disable-background-networking",
	"--disable-component-update", "--disable-sync", "--disable-default-apps", "--disable-extensions",
	"--disable-domain-reliability", "--disable-client-side-phishing-detection", "--metrics-recording-only",
	"--no-proxy-server", "--password-store=basic"}

// startBrowser starts chromedriver on a free loopback port and opens a
// session of headless Chromium; both end when the test does. It skips
// (fails under PLUMB_INTEROP=require) without chromium and chromedriver.
func startBrowser(t testing.TB) *browser { return startBrowserWith(t, nil) }

// startBrowserNoScript is startBrowser with the pages' JavaScript off
// (WebDriver's own scripts still run).
func startBrowserNoScript(t testing.TB) *browser {
	return startBrowserWith(t, map[string]any{"profile.managed_default_content_settings.javascript": 2})
}

func startBrowserWith(t testing.TB, prefs map[string]any) *browser {
	t.Helper()
	driver := need(t, "chromedriver")
	chromium := need(t, "chromium")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	var logs bytes.Buffer
	cmd := exec.Command(driver, "--port="+strconv.Itoa(port), "--allowed-ips=127.0.0.1", "--log-level=WARNING")
	cmd.Stdout, cmd.Stderr = &logs, &logs
	// Its own process group, so that the browsers it starts end with it
	// even if the session cannot be closed.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
	})
	b := &browser{t: t, base: fmt.Sprintf("http://127.0.0.1:%d", port), client: &http.Client{Timeout: 60 * time.Second}}
	testkit.Eventually(t, 20*time.Second, "chromedriver ready", func() bool {
		var st struct {
			Ready bool `json:"ready"`
		}
		return b.call("GET", "/status", nil, &st) == nil && st.Ready
	})
	opts := map[string]any{"binary": chromium,
		"args": append(chromiumArgs, "--user-data-dir="+filepath.Join(t.TempDir(), "profile"))}
	if prefs != nil {
		opts["prefs"] = prefs
	}
	caps := map[string]any{"capabilities": map[string]any{"alwaysMatch": map[string]any{
		"browserName": "chrome", "goog:chromeOptions": opts,
	}}}
	var created struct {
		SessionID string `json:"sessionId"`
	}
	if err := b.call("POST", "/session", caps, &created); err != nil {
		t.Fatalf("WebDriver new session: %v\nchromedriver:\n%s", err, logs.String())
	}
	b.session = "/session/" + created.SessionID
	t.Cleanup(func() { b.call("DELETE", b.session, nil, nil) })
	return b
}

// call makes one WebDriver request and decodes its "value" into out.
func (b *browser) call(method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		j, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, b.base+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := b.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	var env struct {
		Value json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(raw, &env); err != nil {
		return fmt.Errorf("%s %s: status %d, %q", method, path, resp.StatusCode, raw)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error   string `json:"error"`
			Message string `json:"message"`
		}
		json.Unmarshal(env.Value, &e)
		return fmt.Errorf("%s %s: %s: %s", method, path, e.Error, e.Message)
	}
	if out != nil {
		return json.Unmarshal(env.Value, out)
	}
	return nil
}

// open navigates to url and waits for the page to load.
func (b *browser) open(url string) {
	b.t.Helper()
	if err := b.call("POST", b.session+"/url", map[string]string{"url": url}, nil); err != nil {
		b.t.Fatalf("open %s: %v", url, err)
	}
}

// eval runs script (a function body; arguments in arguments[]) in the
// current page and decodes what it returns into out.
func (b *browser) eval(script string, out any, args ...any) {
	b.t.Helper()
	if args == nil {
		args = []any{}
	}
	if err := b.call("POST", b.session+"/execute/sync", map[string]any{"script": script, "args": args}, out); err != nil {
		b.t.Fatalf("execute %q: %v", script, err)
	}
}

// text returns the result of a script that returns a string.
func (b *browser) text(script string, args ...any) string {
	b.t.Helper()
	var s string
	b.eval(script, &s, args...)
	return s
}

// screenshot takes a PNG of the window, checks that it is a PNG with
// more than one colour (not a blank page) and keeps it in dir.
func (b *browser) screenshot(dir, name string) {
	b.t.Helper()
	var enc string
	if err := b.call("GET", b.session+"/screenshot", nil, &enc); err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	raw, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		b.t.Fatalf("screenshot %s: not base64: %v", name, err)
	}
	if !bytes.HasPrefix(raw, []byte("\x89PNG\r\n\x1a\n")) {
		b.t.Fatalf("screenshot %s: not a PNG (%q...)", name, raw[:min(8, len(raw))])
	}
	img, err := png.Decode(bytes.NewReader(raw))
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	bounds := img.Bounds()
	first := img.At(bounds.Min.X, bounds.Min.Y)
	r0, g0, b0, _ := first.RGBA()
	colours := 1
	for y := bounds.Min.Y; y < bounds.Max.Y && colours == 1; y += 3 {
		for x := bounds.Min.X; x < bounds.Max.X; x += 3 {
			if r, g, bl, _ := img.At(x, y).RGBA(); r != r0 || g != g0 || bl != b0 {
				colours++
				break
			}
		}
	}
	if colours == 1 {
		b.t.Errorf("screenshot %s (%dx%d) is blank: one colour", name, bounds.Dx(), bounds.Dy())
	}
	file := filepath.Join(dir, name+".png")
	if err := os.WriteFile(file, raw, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("screenshot %s: %dx%d, %d bytes, %s", name, bounds.Dx(), bounds.Dy(), len(raw), file)
}

// webElement is the W3C name of an element reference in JSON.
const webElement = "element-6066-11e4-a52e-4f735466cecf"

// find returns the reference of the first element matching css.
func (b *browser) find(css string) string {
	b.t.Helper()
	var el map[string]string
	if err := b.call("POST", b.session+"/element", map[string]string{"using": "css selector", "value": css}, &el); err != nil {
		b.t.Fatalf("find %s: %v", css, err)
	}
	return el[webElement]
}

// frame makes the frame element matching css the current browsing
// context, so that eval and find look inside it; parent goes back.
func (b *browser) frame(css string) {
	b.t.Helper()
	id := b.find(css)
	if err := b.call("POST", b.session+"/frame", map[string]any{"id": map[string]string{webElement: id}}, nil); err != nil {
		b.t.Fatalf("switch to frame %s: %v", css, err)
	}
}

func (b *browser) parent() {
	b.t.Helper()
	if err := b.call("POST", b.session+"/frame/parent", map[string]any{}, nil); err != nil {
		b.t.Fatalf("switch to the parent frame: %v", err)
	}
}

// resize sets the window's size in CSS pixels.
func (b *browser) resize(w, h int) {
	b.t.Helper()
	if err := b.call("POST", b.session+"/window/rect", map[string]int{"width": w, "height": h}, nil); err != nil {
		b.t.Fatalf("resize to %dx%d: %v", w, h, err)
	}
}

// click clicks the element matching css.
func (b *browser) click(css string) {
	b.t.Helper()
	if err := b.call("POST", b.session+"/element/"+b.find(css)+"/click", map[string]any{}, nil); err != nil {
		b.t.Fatalf("click %s: %v", css, err)
	}
}

// typeInto sends text to the element matching css; for a file input,
// text is the path of the file to choose.
func (b *browser) typeInto(css, text string) {
	b.t.Helper()
	if err := b.call("POST", b.session+"/element/"+b.find(css)+"/value", map[string]string{"text": text}, nil); err != nil {
		b.t.Fatalf("type into %s: %v", css, err)
	}
}
