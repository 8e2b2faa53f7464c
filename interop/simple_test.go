package interop

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// simpleRingLine is line n of RFC 864's pattern, computed here apart
// from plumb's code.
func simpleRingLine(n int) string {
	var sb strings.Builder
	for i := range 72 {
		sb.WriteByte(byte(32 + (n+i)%95))
	}
	return sb.String() + "\r\n"
}

// simpleIsPattern reports whether s is the chargen pattern from the
// start of some line (from line 0 when fromZero).
func simpleIsPattern(s string, fromZero bool) bool {
	for first := range 95 {
		if fromZero && first > 0 {
			return false
		}
		var want strings.Builder
		for n := first; want.Len() < len(s); n++ {
			want.WriteString(simpleRingLine(n))
		}
		if strings.HasPrefix(want.String(), s) {
			return true
		}
	}
	return false
}

// simpleOnly returns config that turns off every service but the small
// ones (read from plumb serve --print-config), so these tests do not
// bind other protocols' fixed ports.
func simpleOnly(t *testing.T) string {
	t.Helper()
	out := run(t, 30*time.Second, plumbBin, "serve", "--print-config")
	keep := map[string]bool{"admin": true}
	for _, s := range simpleServices {
		keep[s] = true
	}
	var cfg strings.Builder
	section := ""
	for _, line := range strings.Split(out, "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]") {
			section = strings.Trim(line, "[]")
			continue
		}
		if section != "" && !keep[section] && strings.HasPrefix(line, "enabled") {
			fmt.Fprintf(&cfg, "[%s]\nenabled = false\n", section)
		}
	}
	return cfg.String()
}

// TestSimplePythonClients asks every small service of plumb serve, over
// TCP and UDP, with Python socket clients written against the RFCs.
func TestSimplePythonClients(t *testing.T) {
	py := needPyModule(t, "socket")
	s := startServe(t, simpleOnly(t))
	var args []string
	for _, svc := range []string{"echo", "discard", "daytime", "qotd", "chargen", "time"} {
		if got, want := s.Addr(t, svc+"/udp"), s.Addr(t, svc); got != want {
			t.Errorf("%s/udp listens on %s, want the TCP address %s", svc, got, want)
		}
		args = append(args, svc+"="+s.Addr(t, svc))
	}
	out := run(t, 60*time.Second, py, append([]string{"-W", "ignore", filepath.Join("testdata", "simple_client.py")}, args...)...)
	var r struct {
		Echo struct {
			TCPIntact []bool `json:"tcp_intact"`
			TCPEOF    bool   `json:"tcp_eof_after_half_close"`
			UDP       []struct {
				Size, Got int
				Same      bool
			}
		}
		Discard struct {
			TCPReply    string `json:"tcp_reply"`
			UDPAnswered bool   `json:"udp_answered"`
		}
		Daytime struct {
			TCP, UDP string
			Now      float64
		}
		QOTD    struct{ TCP, UDP []string } `json:"qotd"`
		Chargen struct {
			TCP string
			UDP []string
		}
		Time struct {
			TCP, UDP []byte
			Now      float64
		}
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("python client output: %v\n%s", err, out)
	}

	if len(r.Echo.TCPIntact) != 3 || !r.Echo.TCPIntact[0] || !r.Echo.TCPIntact[1] || !r.Echo.TCPIntact[2] {
		t.Errorf("echo over TCP: python saw intact echoes %v, want all three", r.Echo.TCPIntact)
	}
	if !r.Echo.TCPEOF {
		t.Errorf("echo over TCP: no EOF after python half-closed")
	}
	if len(r.Echo.UDP) != 4 {
		t.Errorf("echo over UDP: %d results, want 4", len(r.Echo.UDP))
	}
	for _, u := range r.Echo.UDP {
		if !u.Same || u.Got != u.Size {
			t.Errorf("echo over UDP of %d bytes: got %d bytes back, same=%v", u.Size, u.Got, u.Same)
		}
	}

	if r.Discard.TCPReply != "" || r.Discard.UDPAnswered {
		t.Errorf("discard answered %q over TCP, udp answered=%v; want silence", r.Discard.TCPReply, r.Discard.UDPAnswered)
	}

	for proto, line := range map[string]string{"tcp": r.Daytime.TCP, "udp": r.Daytime.UDP} {
		got, err := time.Parse("Monday, January 2, 2006 15:04:05 -0700\r\n", line)
		if err != nil {
			t.Errorf("daytime over %s = %q, not the documented layout: %v", proto, line, err)
			continue
		}
		if d := got.Sub(simpleUnixFloat(r.Daytime.Now)); math.Abs(d.Seconds()) > 5 {
			t.Errorf("daytime over %s = %q, %v from python's clock", proto, line, d)
		}
	}

	for proto, list := range map[string][]string{"tcp": r.QOTD.TCP, "udp": r.QOTD.UDP} {
		if len(list) != 5 {
			t.Errorf("qotd over %s: %d replies, want 5", proto, len(list))
		}
		for _, q := range list {
			if len(q) < 3 || len(q) >= 512 || !strings.HasSuffix(q, "\r\n") {
				t.Errorf("qotd over %s = %q: want 3..511 bytes ending CRLF", proto, q)
			}
		}
	}

	if len(r.Chargen.TCP) != 74*200 || !simpleIsPattern(r.Chargen.TCP, true) {
		t.Errorf("chargen over TCP: %d bytes, not RFC 864's pattern from line 0: %.148q", len(r.Chargen.TCP), r.Chargen.TCP)
	}
	for i, d := range r.Chargen.UDP {
		if len(d) < 1 || len(d) > 512 || !simpleIsPattern(d, false) {
			t.Errorf("chargen over UDP reply %d: %d bytes %.80q; want 1..512 bytes of the pattern", i, len(d), d)
		}
	}

	for proto, b := range map[string][]byte{"tcp": r.Time.TCP, "udp": r.Time.UDP} {
		if len(b) != 4 {
			t.Errorf("time over %s = % x, want 4 bytes", proto, b)
			continue
		}
		secs := int64(binary.BigEndian.Uint32(b)) - 2208988800
		if d := float64(secs) - r.Time.Now; math.Abs(d) > 5 {
			t.Errorf("time over %s = %d (unix %d), %.1fs from python's clock %.0f", proto, binary.BigEndian.Uint32(b), secs, d, r.Time.Now)
		}
	}
}

func simpleUnixFloat(f float64) time.Time {
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9))
}

// TestSimpleQuotesFile: qotd answers from <data>/qotd.txt.
func TestSimpleQuotesFile(t *testing.T) {
	py := needPyModule(t, "socket")
	data := t.TempDir()
	file := "First plumb quote.\n%\nSecond plumb quote,\n  on two lines.\n\n" + strings.Repeat("far too long ", 50) + "\n"
	if err := os.WriteFile(filepath.Join(data, "qotd.txt"), []byte(file), 0o644); err != nil {
		t.Fatal(err)
	}
	s := startServe(t, simpleOnly(t), "--data", data)
	out := run(t, 30*time.Second, py, "-W", "ignore", filepath.Join("testdata", "simple_client.py"), "qotd="+s.Addr(t, "qotd"))
	var r struct {
		QOTD struct{ TCP, UDP []string } `json:"qotd"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("python client output: %v\n%s", err, out)
	}
	want := map[string]bool{"First plumb quote.\r\n": true, "Second plumb quote,\r\n  on two lines.\r\n": true}
	for _, q := range append(r.QOTD.TCP, r.QOTD.UDP...) {
		if !want[q] {
			t.Errorf("qotd = %q, want one of the file's short quotations %v", q, want)
		}
	}
}

// simplePyServers starts the Python socketserver peers and returns the
// port of each service (TCP and UDP share it).
func simplePyServers(t *testing.T) map[string]int {
	t.Helper()
	py := needPyModule(t, "socketserver")
	cmd := exec.Command(py, "-W", "ignore", filepath.Join("testdata", "simple_servers.py"))
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		if sc.Scan() {
			line <- sc.Text()
		}
		close(line)
	}()
	var ports map[string]int
	select {
	case l := <-line:
		if err := json.Unmarshal([]byte(l), &ports); err != nil {
			t.Fatalf("python servers printed %q: %v", l, err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("python servers did not start in 20s")
	}
	return ports
}

// TestSimplePlumbClientsAgainstPython runs plumb echo, daytime, time,
// qotd and chargen against Python socketserver servers.
func TestSimplePlumbClientsAgainstPython(t *testing.T) {
	ports := simplePyServers(t)
	at := func(svc string) string { return "127.0.0.1:" + strconv.Itoa(ports[svc]) }
	for _, proto := range []string{"tcp", "udp"} {
		var udp []string
		if proto == "udp" {
			udp = []string{"--udp"}
		}
		plumb := func(args ...string) string {
			return run(t, 30*time.Second, plumbBin, append(append(args[:1:1], udp...), args[1:]...)...)
		}
		out := plumb("echo", "--count", "3", "--size", "1400", at("echo"))
		if !strings.Contains(out, "3 sent, 3 echoed intact, 0 failed") || !strings.Contains(out, "rtt min/avg/max") {
			t.Errorf("plumb echo (%s) against python:\n%s", proto, out)
		}
		if got := plumb("daytime", at("daytime")); got != "Tuesday, February 22, 1982 17:37:43-PST\n" {
			t.Errorf("plumb daytime (%s) = %q, want python's line", proto, got)
		}
		if got := plumb("time", "--utc", at("time")); got != "1985-11-05T00:53:20Z\n" {
			t.Errorf("plumb time --utc (%s) = %q, want 1985-11-05T00:53:20Z", proto, got)
		}
		if got := plumb("time", "--raw", at("time")); got != "2708988800\n" {
			t.Errorf("plumb time --raw (%s) = %q, want 2708988800", proto, got)
		}
		if got := plumb("qotd", at("qotd")); got != "Python peer: simple is better than complex.\n" {
			t.Errorf("plumb qotd (%s) = %q, want python's quote", proto, got)
		}
		got := plumb("chargen", "--bytes", "1000", at("chargen"))
		if proto == "tcp" && (len(got) != 1000 || !simpleIsPattern(got, true)) {
			t.Errorf("plumb chargen --bytes 1000 (tcp) = %d bytes %.80q, want 1000 of the pattern", len(got), got)
		}
		if proto == "udp" && (len(got) != 1024 || !simpleIsPattern(got[:512], true)) {
			t.Errorf("plumb chargen --udp --bytes 1000 = %d bytes, want two 512-byte datagrams of the pattern", len(got))
		}
	}
	out := run(t, 60*time.Second, plumbBin, "echo", "--conns", "4", "--size", "512", "--duration", "1s", "--json", at("echo"))
	var load struct {
		RoundTrips int64 `json:"round_trips"`
		Errors     int   `json:"errors"`
	}
	if err := json.Unmarshal([]byte(out), &load); err != nil || load.RoundTrips == 0 || load.Errors != 0 {
		t.Errorf("plumb echo load mode against python = %s (%v), want round trips and no errors", out, err)
	}
}

// TestSimpleChargenInterrupt: plumb chargen runs until SIGINT, then exits 0.
func TestSimpleChargenInterrupt(t *testing.T) {
	ports := simplePyServers(t)
	cmd := exec.Command(plumbBin, "chargen", fmt.Sprintf("127.0.0.1:%d", ports["chargen"]))
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	first := make([]byte, 74)
	if _, err := stdout.Read(first); err != nil {
		t.Fatal(err)
	}
	cmd.Process.Signal(syscall.SIGINT)
	done := make(chan error, 1)
	go func() {
		for {
			if _, err := stdout.Read(make([]byte, 65536)); err != nil {
				break
			}
		}
		done <- cmd.Wait()
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("plumb chargen after SIGINT: %v, want exit 0", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("plumb chargen did not stop within 10s of SIGINT")
	}
}

// TestSimpleManyIdleConnections: plumb serve holds 2,000 idle echo
// connections from one client, and every one still echoes.
func TestSimpleManyIdleConnections(t *testing.T) {
	const n = 2000
	s := startServe(t, simpleOnly(t))
	addr := s.Addr(t, "echo")
	conns := make([]net.Conn, 0, n)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for i := range n {
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatalf("dial %d of %d: %v", i+1, n, err)
		}
		conns = append(conns, c)
	}
	buf := make([]byte, 4)
	for i, c := range conns {
		c.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := c.Write([]byte("ping")); err != nil {
			t.Fatalf("conn %d: write: %v", i, err)
		}
		if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "ping" {
			t.Fatalf("conn %d of %d: echo = %q, %v; want %q", i+1, n, buf, err, "ping")
		}
	}
}
