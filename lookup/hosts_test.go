package lookup

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
)

// sampleHosts exercises glibc's "multi on" merging; the expectations
// below are what glibc 2.36 gave for this file, less its duplicates.
const sampleHosts = `127.0.0.1 localhost
::1 localhost ip6-localhost
10.0.0.1 multi a1 a2
10.0.0.2 multi2 multi a3
10.0.0.1 multi a1 b1
fe80::1 multi
10.0.0.3 MULTI
not-an-address foo
10.0.0.9
`

func addrs(s ...string) []netip.Addr {
	var out []netip.Addr
	for _, a := range s {
		out = append(out, netip.MustParseAddr(a))
	}
	return out
}

func TestHostsByName(t *testing.T) {
	h, err := ParseHosts(strings.NewReader(sampleHosts), "hosts")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		want   Host
		wantOK bool
	}{
		{"multi", Host{"multi", []string{"a1", "a2", "a3", "multi2", "b1", "MULTI"}, addrs("10.0.0.1", "10.0.0.2", "fe80::1", "10.0.0.3")}, true},
		{"Multi", Host{"multi", []string{"a1", "a2", "a3", "multi2", "b1", "MULTI"}, addrs("10.0.0.1", "10.0.0.2", "fe80::1", "10.0.0.3")}, true},
		{"a3", Host{"multi2", []string{"multi", "a3"}, addrs("10.0.0.2")}, true},
		{"localhost", Host{"localhost", []string{"ip6-localhost"}, addrs("127.0.0.1", "::1")}, true},
		{"ip6-localhost", Host{"localhost", []string{"ip6-localhost"}, addrs("::1")}, true},
		{"foo", Host{}, false},
	}
	for _, c := range cases {
		got, ok := h.ByName(c.name)
		if ok != c.wantOK || got.Name != c.want.Name || !slices.Equal(got.Aliases, c.want.Aliases) || !slices.Equal(got.Addrs, c.want.Addrs) {
			t.Errorf("ByName(%q) = %+v, %v; want %+v, %v", c.name, got, ok, c.want, c.wantOK)
		}
	}
}

func TestHostsByAddr(t *testing.T) {
	h, err := ParseHosts(strings.NewReader(sampleHosts), "hosts")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		addr    string
		name    string
		aliases []string
	}{
		{"10.0.0.1", "multi", []string{"a1", "a2"}},
		{"::1", "localhost", []string{"ip6-localhost"}},
		{"fe80::1", "multi", []string{}},
		{"::ffff:127.0.0.1", "localhost", []string{}},
	}
	for _, c := range cases {
		got, ok := h.ByAddr(netip.MustParseAddr(c.addr))
		if !ok || got.Name != c.name || !slices.Equal(got.Aliases, c.aliases) {
			t.Errorf("ByAddr(%s) = %+v, %v; want %q %q", c.addr, got, ok, c.name, c.aliases)
		}
	}
	if got, ok := h.ByAddr(netip.MustParseAddr("10.0.0.9")); ok {
		t.Errorf("ByAddr(10.0.0.9) = %+v, want not found (its line has no name)", got)
	}
}

func FuzzParseHosts(f *testing.F) {
	f.Add(sampleHosts)
	f.Add("::ffff:1.2.3.4 a b\nfe80::1%eth0 c # d\n")
	f.Fuzz(func(t *testing.T, in string) {
		h, err := ParseHosts(strings.NewReader(in), "fuzz")
		if err != nil {
			return
		}
		for _, l := range h.lines {
			if len(l.names) == 0 || len(l.names) > MaxNames {
				t.Fatalf("line %+v from %q", l, in)
			}
			got, ok := h.ByName(l.names[0])
			if !ok || !slices.Contains(got.Addrs, l.addr) {
				t.Fatalf("ByName(%q) = %+v, %v; want it to list %s", l.names[0], got, ok, l.addr)
			}
			if _, ok := h.ByAddr(l.addr); !ok {
				t.Fatalf("ByAddr(%s) not found after parsing it", l.addr)
			}
		}
	})
}
