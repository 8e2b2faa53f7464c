package interop

// plumb service and plumb lookup against the C library, through
// Python's socket module.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// pyLookup runs socket_lookup.py on q and decodes its answer.
func pyLookup(t *testing.T, q map[string]any) map[string][]json.RawMessage {
	t.Helper()
	py := needPyModule(t, "socket")
	in, err := json.Marshal(q)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(py, "-W", "ignore", "testdata/socket_lookup.py")
	cmd.Stdin = bytes.NewReader(in)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("socket_lookup.py: %v", err)
	}
	var res map[string][]json.RawMessage
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("socket_lookup.py output %q: %v", out, err)
	}
	return res
}

func isPyError(m json.RawMessage) bool {
	return bytes.HasPrefix(bytes.TrimSpace(m), []byte(`{"error"`))
}

type serviceJSON struct {
	Name    string   `json:"name"`
	Port    int      `json:"port"`
	Proto   string   `json:"proto"`
	Aliases []string `json:"aliases"`
	Source  string   `json:"source"`
}

// plumbServices runs plumb service --json and decodes it; ok is false
// when plumb found nothing.
func plumbServices(t *testing.T, args ...string) ([]serviceJSON, bool) {
	t.Helper()
	out, stderr, code := sockRun(t, "", append([]string{"service", "--json"}, args...)...)
	if code != 0 {
		if !strings.Contains(stderr, "unknown service") {
			t.Errorf("plumb service %v: exit %d, stderr %q", args, code, stderr)
		}
		return nil, false
	}
	var s []serviceJSON
	if err := json.Unmarshal(out, &s); err != nil || len(s) == 0 {
		t.Fatalf("plumb service %v output %q: %v", args, out, err)
	}
	return s, true
}

var serviceNames = []string{"echo", "discard", "daytime", "qotd", "chargen", "time", "ftp", "ftp-data", "ftps",
	"telnet", "smtp", "submission", "submissions", "finger", "gopher", "http", "www", "https", "pop3", "pop3s",
	"nntp", "nntps", "imap", "imap2", "imaps", "ssh", "domain", "ntp", "snmp", "ldap", "ldaps", "rsync", "mysql", "postgresql"}

var servicePorts = []int{1, 7, 9, 13, 17, 19, 20, 21, 22, 23, 25, 37, 53, 70, 79, 80, 110, 119, 123, 143, 161,
	389, 443, 465, 563, 587, 636, 873, 990, 993, 995, 3306, 5432, 10007}

// TestServiceMatchesPython compares plumb service with getservbyname and
// getservbyport for the same names, ports and protocols.
func TestServiceMatchesPython(t *testing.T) {
	protos := []any{"tcp", "udp", nil}
	var qs, qp [][]any
	for _, n := range serviceNames {
		for _, p := range protos {
			qs = append(qs, []any{n, p})
		}
	}
	for _, n := range servicePorts {
		for _, p := range protos {
			qp = append(qp, []any{n, p})
		}
	}
	res := pyLookup(t, map[string]any{"services": qs, "ports": qp})
	check := func(what string, q []any, py json.RawMessage, args []string, match func(serviceJSON) bool) {
		got, ok := plumbServices(t, args...)
		if isPyError(py) {
			// Not in the system table: plumb may answer from its own.
			if ok && got[0].Source != "built-in" {
				t.Errorf("plumb service %v = %+v, but %s%v has no answer (%s)", args, got[0], what, q, py)
			}
			return
		}
		if !ok || !match(got[0]) {
			t.Errorf("plumb service %v = %+v, want %s%v = %s", args, got, what, q, py)
		}
	}
	for i, q := range qs {
		args := []string{q[0].(string)}
		if q[1] != nil {
			args = append(args, "--proto", q[1].(string))
		}
		var port int
		json.Unmarshal(res["services"][i], &port)
		check("getservbyname", q, res["services"][i], args, func(s serviceJSON) bool { return s.Port == port })
	}
	for i, q := range qp {
		args := []string{fmt.Sprint(q[0])}
		if q[1] != nil {
			args = append(args, "--proto", q[1].(string))
		}
		var name string
		json.Unmarshal(res["ports"][i], &name)
		check("getservbyport", q, res["ports"][i], args, func(s serviceJSON) bool { return s.Name == name })
	}
}

// lookupHosts are the names and addresses both sides are asked about:
// the loopbacks and everything in /etc/hosts. listed holds the
// addresses /etc/hosts has; only those are given to gethostbyaddr, so
// that no test query leaves the machine for DNS.
func lookupHosts(t *testing.T) (names, addrs, listed []string) {
	names = []string{"localhost"}
	addrs = []string{"127.0.0.1", "::1"}
	if b, err := os.ReadFile("/etc/hosts"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			l, _, _ = strings.Cut(l, "#")
			f := strings.Fields(l)
			if len(f) < 2 {
				continue
			}
			if !slices.Contains(addrs, f[0]) {
				addrs = append(addrs, f[0])
			}
			if !slices.Contains(listed, f[0]) {
				listed = append(listed, f[0])
			}
			for _, n := range f[1:] {
				if !slices.Contains(names, n) {
					names = append(names, n)
				}
			}
		}
	}
	return names, addrs, listed
}

type hostResult struct {
	Name      string   `json:"name"`
	Aliases   []string `json:"aliases"`
	Addresses []string `json:"addresses"`
}

func plumbLookup(t *testing.T, host string) (hostResult, bool) {
	t.Helper()
	out, stderr, code := sockRun(t, "", "lookup", "--json", host)
	if code != 0 {
		return hostResult{}, false
	}
	var h hostResult
	if err := json.Unmarshal(out, &h); err != nil {
		t.Fatalf("plumb lookup --json %s output %q (stderr %q): %v", host, out, stderr, err)
	}
	return h, true
}

// sockDedup drops repeated entries, which glibc keeps and plumb does not.
func sockDedup(s []string) []string {
	var out []string
	for _, x := range s {
		if !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}

// TestLookupMatchesPython compares plumb lookup with gethostbyname_ex
// (names) and gethostbyaddr (addresses).
func TestLookupMatchesPython(t *testing.T) {
	names, addrs, listed := lookupHosts(t)
	res := pyLookup(t, map[string]any{"hosts": names, "addrs": listed})
	for i, n := range names {
		var py [3]json.RawMessage
		got, ok := plumbLookup(t, n)
		if isPyError(res["hosts"][i]) || json.Unmarshal(res["hosts"][i], &py) != nil {
			if ok && slices.ContainsFunc(got.Addresses, func(a string) bool { return !strings.Contains(a, ":") }) {
				t.Errorf("plumb lookup %s = %+v, but gethostbyname_ex failed: %s", n, got, res["hosts"][i])
			}
			continue
		}
		var name string
		var aliases, v4 []string
		json.Unmarshal(py[0], &name)
		json.Unmarshal(py[1], &aliases)
		json.Unmarshal(py[2], &v4)
		if !ok {
			t.Errorf("plumb lookup %s failed; gethostbyname_ex = %s", n, res["hosts"][i])
			continue
		}
		// gethostbyname_ex is IPv4 only, and glibc reports ::1 lines as 127.0.0.1.
		var gotV4 []string
		for _, a := range got.Addresses {
			if a == "::1" {
				a = "127.0.0.1"
			}
			if !strings.Contains(a, ":") {
				gotV4 = append(gotV4, a)
			}
		}
		if got.Name != name || !slices.Equal(got.Aliases, sockDedup(aliases)) || !slices.Equal(sockDedup(gotV4), sockDedup(v4)) {
			t.Errorf("plumb lookup %s = %+v; gethostbyname_ex = %q %q %q", n, got, name, aliases, v4)
		}
	}
	for _, a := range addrs {
		got, ok := plumbLookup(t, a)
		if !ok {
			t.Errorf("plumb lookup %s failed", a)
			continue
		}
		// An address without a name is its own name, as gethostbyname_ex gives it.
		want := hostResult{Name: a, Aliases: []string{}, Addresses: []string{a}}
		if i := slices.Index(listed, a); i >= 0 && !isPyError(res["addrs"][i]) {
			var py [3]json.RawMessage
			json.Unmarshal(res["addrs"][i], &py)
			json.Unmarshal(py[0], &want.Name)
			json.Unmarshal(py[1], &want.Aliases)
		}
		if got.Name != want.Name || !slices.Equal(got.Aliases, want.Aliases) || !slices.Equal(got.Addresses, want.Addresses) {
			t.Errorf("plumb lookup %s = %+v, want %+v", a, got, want)
		}
	}
}

// TestAddrInfoMatchesPython compares plumb lookup --addrinfo with
// getaddrinfo for hosts and services (none, numeric, tcp-only, udp-only,
// both).
func TestAddrInfoMatchesPython(t *testing.T) {
	names, _, _ := lookupHosts(t)
	hosts := append([]string{"127.0.0.1", "::1"}, names...)
	services := []any{nil, "80", "http", "echo", "domain", "ntp", "ssh", "smtp", "imaps"}
	var q [][]any
	for _, h := range hosts {
		for _, s := range services {
			q = append(q, []any{h, s})
		}
	}
	res := pyLookup(t, map[string]any{"addrinfo": q})
	type entry struct {
		Family   string `json:"family"`
		SockType string `json:"socktype"`
		Protocol int    `json:"protocol"`
		Address  string `json:"address"`
		Port     int    `json:"port"`
	}
	for i, qq := range q {
		args := []string{"lookup", "--json", qq[0].(string), "--addrinfo"}
		if qq[1] != nil {
			args = append(args, qq[1].(string))
		}
		out, stderr, code := sockRun(t, "", args...)
		if isPyError(res["addrinfo"][i]) {
			if code == 0 {
				t.Errorf("plumb %v succeeded with %s, but getaddrinfo%v = %s", args, out, qq, res["addrinfo"][i])
			}
			continue
		}
		var want, got []entry
		json.Unmarshal(res["addrinfo"][i], &want)
		if code != 0 || json.Unmarshal(out, &got) != nil {
			t.Errorf("plumb %v: exit %d, stderr %q, output %q; want %v", args, code, stderr, out, want)
			continue
		}
		want = slices.CompactFunc(want, func(a, b entry) bool { return a == b })
		if !slices.Equal(sockDedupEntries(want), got) {
			t.Errorf("plumb %v = %+v, want getaddrinfo%v = %+v", args, got, qq, want)
		}
	}
}

func sockDedupEntries[E comparable](s []E) []E {
	var out []E
	for _, x := range s {
		if !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}
