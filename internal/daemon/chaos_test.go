package daemon

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/plumbnet/plumb/internal/chaos"
	"github.com/plumbnet/plumb/internal/testkit"
	"github.com/plumbnet/plumb/internal/webadmin"
)

func faultsCounted(t *testing.T, d *Daemon, service, kind string) float64 {
	t.Helper()
	mfs, err := d.metrics.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "plumb_faults_injected_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["service"] == service && labels["kind"] == kind {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

func TestChaosConfigRefusesRCPTUntilCleared(t *testing.T) {
	d, addrs := startSMTPDaemonWith(t, t.TempDir(), func(c *Config) {
		*chaosSection.of(c) = ChaosConfig{"smtp": {Steps: []chaos.StepFault{{Step: "rcpt", Code: "451", Message: "chaos says later"}}}}
	})
	s := testkit.Dial(t, addrs["smtp"])
	s.Expect("220")
	s.Do("EHLO client.test", 250)
	s.Do("MAIL FROM:<x@client.test>", 250)
	if code, msg := s.Cmd("RCPT TO:<alice@mx.test>"); code != 451 || !strings.Contains(msg, "chaos says later") {
		t.Fatalf("RCPT under a fault = %d %q, want 451 with the rule's text", code, msg)
	}
	if n := faultsCounted(t, d, "smtp", chaos.KindStep); n != 1 {
		t.Errorf("plumb_faults_injected_total{smtp,step} = %v, want 1", n)
	}
	// The submission service has a rule of its own: none.
	sub := testkit.Dial(t, addrs["submission"])
	sub.Expect("220")
	sub.Do("EHLO client.test", 250)

	if err := d.FaultControl().ClearRule(context.Background(), "smtp"); err != nil {
		t.Fatal(err)
	}
	s.Do("RCPT TO:<alice@mx.test>", 250) // the same session, at once
}

func TestChaosStepCodeCheckedAgainstProtocol(t *testing.T) {
	d, _ := startSMTPDaemon(t, nil)
	fc := d.FaultControl()
	ctx := context.Background()
	for _, code := range []string{"abc", "250", "NO"} {
		err := fc.SetRule(ctx, "smtp", chaos.Rule{Steps: []chaos.StepFault{{Step: "rcpt", Code: code}}})
		if err == nil {
			t.Errorf("SetRule(smtp, code %q) = nil, want an error", code)
		}
	}
	if err := fc.SetRule(ctx, "nosuch", chaos.Rule{Latency: chaos.Duration{Duration: time.Second}}); err == nil {
		t.Error("SetRule(nosuch) = nil, want unknown service")
	}
}

func TestChaosConfigErrors(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ text, want string }{
		{"[chaos.smtp]\nlatency = \"-1s\"\n", "chaos.smtp"},
		{"[chaos.smtp]\nbandwidth = -5\n", "bandwidth"},
		{"[chaos.smtp]\nlatncy = \"1s\"\n", "latncy"},
		{"[[chaos.smtp.steps]]\nstep = \"rcpt\"\ncode = \"451\"\nprobability = 3\n", "probability"},
	} {
		p := filepath.Join(dir, "plumb.toml")
		os.WriteFile(p, []byte(tc.text), 0o600)
		if _, err := LoadConfig(p); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("LoadConfig(%q) = %v, want an error naming %s", tc.text, err, tc.want)
		}
	}
	p := filepath.Join(dir, "ok.toml")
	os.WriteFile(p, []byte("[chaos.ftp]\nlatency = \"20ms\"\n[[chaos.ftp.steps]]\nstep = \"stor\"\ncode = \"452\"\nprobability = 0.5\n"), 0o600)
	c, err := LoadConfig(p)
	if err != nil {
		t.Fatal(err)
	}
	r := (*chaosSection.of(c))["ftp"]
	if r.Latency.Duration != 20*time.Millisecond || len(r.Steps) != 1 || *r.Steps[0].Probability != 0.5 {
		t.Errorf("[chaos.ftp] decoded as %+v", r)
	}
	out, err := c.Marshal()
	if err != nil || !strings.Contains(string(out), "[chaos.ftp]") {
		t.Errorf("--print-config lacks [chaos.ftp]: %v\n%s", err, out)
	}
}

func TestChaosTLSHandshakeFailureOnImplicitTLS(t *testing.T) {
	d, addrs := startSMTPDaemon(t, nil)
	handshake := func() error {
		c, err := tls.Dial("tcp", addrs["submissions"], &tls.Config{InsecureSkipVerify: true})
		if err != nil {
			return err
		}
		c.Close()
		return nil
	}
	if err := handshake(); err != nil {
		t.Fatalf("handshake without a rule: %v", err)
	}
	fc := d.FaultControl()
	fc.SetRule(context.Background(), "submissions", chaos.Rule{TLSFailure: 1})
	if err := handshake(); err == nil {
		t.Fatal("handshake under tls_failure 1 succeeded")
	}
	if n := faultsCounted(t, d, "submissions", chaos.KindTLS); n != 1 {
		t.Errorf("tls faults counted %v, want 1", n)
	}
	fc.ClearRule(context.Background(), "submissions")
	if err := handshake(); err != nil {
		t.Fatalf("handshake after the rule is cleared: %v", err)
	}
}

func TestChaosDropAfterBytesCutsTheGreeting(t *testing.T) {
	d, addrs := startSMTPDaemon(t, nil)
	d.FaultControl().SetRule(context.Background(), "smtp", chaos.Rule{DropAfterBytes: 4})
	c, _ := dialLine(t, addrs["smtp"])
	got, _ := io.ReadAll(c)
	if string(got) != "220 " {
		t.Errorf("greeting under drop_after_bytes 4 = %q, want %q and the connection closed", got, "220 ")
	}
	if n := faultsCounted(t, d, "smtp", chaos.KindDrop); n != 1 {
		t.Errorf("drop faults counted %v, want 1", n)
	}
}

func TestChaosAPI(t *testing.T) {
	d, addrs := startSMTPDaemon(t, nil)
	api := httptest.NewServer(webadmin.New(webadmin.Config{Faults: d.FaultControl()}))
	defer api.Close()
	do := func(method, path, body string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, api.URL+path, strings.NewReader(body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := do("PUT", "/api/chaos/smtp", `{"latency":"30ms","steps":[{"step":"mail","code":"421"}]}`); code != 200 || !strings.Contains(body, `"30ms"`) {
		t.Fatalf("PUT /api/chaos/smtp = %d %s", code, body)
	}
	start := time.Now()
	s := testkit.Dial(t, addrs["smtp"])
	s.Expect("220")
	if d := time.Since(start); d < 30*time.Millisecond {
		t.Errorf("greeting came after %s, want at least the rule's 30ms", d)
	}
	s.Do("EHLO client.test", 250)
	s.Do("MAIL FROM:<x@client.test>", 421)

	code, body := do("GET", "/api/chaos", "")
	var state struct {
		Services []string              `json:"services"`
		Rules    map[string]chaos.Rule `json:"rules"`
	}
	if err := json.Unmarshal([]byte(body), &state); code != 200 || err != nil {
		t.Fatalf("GET /api/chaos = %d %s (%v)", code, body, err)
	}
	if _, ok := state.Rules["smtp"]; !ok || len(state.Services) != 3 {
		t.Errorf("GET /api/chaos = %s, want smtp's rule and 3 services", body)
	}
	for _, c := range []struct {
		method, path, body string
		want               int
	}{
		{"PUT", "/api/chaos/smtp", `{"latency":"forever"}`, 400},
		{"PUT", "/api/chaos/smtp", `{"bandwidth":-1}`, 400},
		{"PUT", "/api/chaos/smtp", `{"steps":[{"step":"rcpt","code":"OK"}]}`, 400},
		{"PUT", "/api/chaos/smtp", `{"latncy":"1s"}`, 400},
		{"PUT", "/api/chaos/nosuch", `{}`, 404},
		{"GET", "/api/chaos/nosuch", ``, 404},
		{"DELETE", "/api/chaos/smtp", ``, 204},
	} {
		if code, body := do(c.method, c.path, c.body); code != c.want {
			t.Errorf("%s %s %s = %d %s, want %d", c.method, c.path, c.body, code, body, c.want)
		}
	}
	s.Do("MAIL FROM:<x@client.test>", 250) // cleared: at once
	if code, body := do("GET", "/api/chaos/smtp", ""); code != 200 || strings.TrimSpace(body) != "{}" {
		t.Errorf("GET /api/chaos/smtp after DELETE = %d %s, want {}", code, body)
	}
	do("PUT", "/api/chaos/submission", `{"latency":"1ms"}`)
	if code, _ := do("DELETE", "/api/chaos", ""); code != 204 || len(d.faults.Rules()) != 0 {
		t.Errorf("DELETE /api/chaos = %d, rules left %v", code, d.faults.Rules())
	}
}

func TestChaosRuleForServiceNotRunningIsKept(t *testing.T) {
	c := testConfig(t)
	*chaosSection.of(c) = ChaosConfig{"pop3": {Steps: []chaos.StepFault{{Step: "login", Code: "AUTH"}}}}
	d := startTest(t, c)
	defer d.Close()
	if _, ok := d.faults.Rules()["pop3"]; !ok {
		t.Errorf("the rule of pop3, not running, was dropped: %v", d.faults.Rules())
	}
	if _, err := d.FaultControl().Rule(context.Background(), "pop3"); err == nil {
		t.Error("the API shows a service not running")
	}
}

func TestChaosLatencyDoesNotHoldUpShutdown(t *testing.T) {
	d, addrs := startSMTPDaemon(t, nil)
	d.FaultControl().SetRule(context.Background(), "smtp", chaos.Rule{Latency: chaos.Duration{Duration: chaos.MaxLatency}})
	c, _ := dialLine(t, addrs["smtp"])
	testkit.Eventually(t, 5*time.Second, "the greeting waits under the rule", func() bool {
		return faultsCounted(t, d, "smtp", chaos.KindLatency) == 1
	})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	done := make(chan struct{})
	go func() { d.Shutdown(ctx); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Shutdown still waits 10s after its 200ms grace, held by a 5m latency")
	}
	if b, _ := io.ReadAll(c); len(b) != 0 {
		t.Errorf("the delayed greeting %q went out at shutdown", b)
	}
}

func TestChaosConfigCodeCheckedAtStart(t *testing.T) {
	c := testConfig(t)
	s := smtpSection.of(c)
	s.Enabled, s.Addr = true, "127.0.0.1:0"
	*chaosSection.of(c) = ChaosConfig{"smtp": {Steps: []chaos.StepFault{{Step: "rcpt", Code: "250"}}}}
	d := New(c, slog.New(slog.DiscardHandler), io.Discard)
	err := d.Start(context.Background())
	if err == nil {
		d.Close()
		t.Fatal("Start with a step fault answering 250 succeeded")
	}
	if want := `chaos: [chaos.smtp] steps[0]: code "250": want a reply code from 400 to 599`; err.Error() != want {
		t.Errorf("Start = %q, want %q", err, want)
	}
}
