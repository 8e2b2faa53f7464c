package lookup

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"slices"
	"strings"
	"testing"
)

func testResolver(t *testing.T) *Resolver {
	t.Helper()
	h, err := ParseHosts(strings.NewReader(sampleHosts), "hosts")
	if err != nil {
		t.Fatal(err)
	}
	s, err := ParseServices(strings.NewReader(sampleServices+"ntp 123/udp\ndomain 53/tcp\ndomain 53/udp\n"), "services")
	if err != nil {
		t.Fatal(err)
	}
	return &Resolver{Hosts: h, Services: ServiceTables{s}}
}

func TestResolverHost(t *testing.T) {
	r := testResolver(t)
	ctx := context.Background()
	h, err := r.Host(ctx, "a3")
	if err != nil || h.Name != "multi2" || !slices.Equal(h.Addrs, addrs("10.0.0.2")) {
		t.Errorf("Host(a3) = %+v, %v; want multi2 at 10.0.0.2", h, err)
	}
	h, err = r.Host(ctx, "127.0.0.2")
	if err != nil || h.Name != "127.0.0.2" || len(h.Aliases) != 0 || !slices.Equal(h.Addrs, addrs("127.0.0.2")) {
		t.Errorf("Host(127.0.0.2) = %+v, %v; want the address itself", h, err)
	}
	if _, err := r.Host(ctx, ""); err == nil {
		t.Errorf("Host(\"\") error = nil, want one")
	}
}

func TestResolverReverse(t *testing.T) {
	r := testResolver(t)
	h, err := r.Reverse(context.Background(), netip.MustParseAddr("10.0.0.1"))
	if err != nil || h.Name != "multi" || !slices.Equal(h.Aliases, []string{"a1", "a2"}) {
		t.Errorf("Reverse(10.0.0.1) = %+v, %v; want multi [a1 a2]", h, err)
	}
}

func TestResolverAddrInfo(t *testing.T) {
	r := testResolver(t)
	ctx := context.Background()
	type row struct {
		fam, typ    string
		proto, port int
	}
	rows := func(ai []AddrInfo) []row {
		var out []row
		for _, a := range ai {
			out = append(out, row{a.Family, a.SockType, a.Protocol, a.Port})
		}
		return out
	}
	cases := []struct {
		host, service string
		want          []row
	}{
		{"10.0.0.2", "", []row{{"AF_INET", SockStream, 6, 0}, {"AF_INET", SockDgram, 17, 0}, {"AF_INET", SockRaw, 0, 0}}},
		{"10.0.0.2", "80", []row{{"AF_INET", SockStream, 6, 80}, {"AF_INET", SockDgram, 17, 80}, {"AF_INET", SockRaw, 0, 80}}},
		{"a3", "http", []row{{"AF_INET", SockStream, 6, 80}}},
		{"a3", "ntp", []row{{"AF_INET", SockDgram, 17, 123}}},
		{"::1", "domain", []row{{"AF_INET6", SockStream, 6, 53}, {"AF_INET6", SockDgram, 17, 53}}},
		{"::ffff:10.0.0.2", "echo", []row{{"AF_INET", SockStream, 6, 7}, {"AF_INET", SockDgram, 17, 7}}},
	}
	for _, c := range cases {
		got, err := r.AddrInfo(ctx, c.host, c.service)
		if err != nil || !slices.Equal(rows(got), c.want) {
			t.Errorf("AddrInfo(%q, %q) = %v, %v; want %v", c.host, c.service, rows(got), err, c.want)
		}
	}
	if _, err := r.AddrInfo(ctx, "a3", "nosuch"); !errors.Is(err, ErrUnknownService) {
		t.Errorf("AddrInfo(a3, nosuch) error = %v, want ErrUnknownService", err)
	}
	if _, err := r.AddrInfo(ctx, "a3", "70000"); err == nil {
		t.Errorf("AddrInfo(a3, 70000) error = nil, want out of range")
	}
	got, err := r.AddrInfo(ctx, "localhost", "http")
	if err != nil || len(got) != 2 {
		t.Fatalf("AddrInfo(localhost, http) = %v, %v; want two entries", got, err)
	}
	var gotAddrs []netip.Addr
	for _, a := range got {
		gotAddrs = append(gotAddrs, a.Addr)
	}
	if want := SortAddrs(addrs("127.0.0.1", "::1")); !slices.Equal(gotAddrs, want) {
		t.Errorf("AddrInfo(localhost, http) addresses = %v, want %v", gotAddrs, want)
	}
}

func TestSortAddrsPolicy(t *testing.T) {
	cases := []struct {
		addr            string
		precedence, lbl int
		scope           int
	}{
		{"::1", 50, 0, scopeLinkLocal},
		{"127.0.0.1", 35, 4, scopeLinkLocal},
		{"192.0.2.1", 35, 4, scopeGlobal},
		{"2001:0:1::1", 5, 5, scopeGlobal}, // Teredo
		{"2001:db8::1", 40, 1, scopeGlobal},
		{"2a00::1", 40, 1, scopeGlobal},
		{"fe80::1", 40, 1, scopeLinkLocal},
		{"fd00::1", 3, 13, scopeGlobal},
		{"fec0::1", 1, 11, scopeSiteLocal},
		{"ff02::1", 40, 1, scopeLinkLocal},
	}
	for _, c := range cases {
		a := netip.MustParseAddr(c.addr)
		if p := policyFor(a); p.precedence != c.precedence || p.label != c.lbl {
			t.Errorf("policyFor(%s) = %d/%d, want %d/%d", c.addr, p.precedence, p.label, c.precedence, c.lbl)
		}
		if s := scope(a); s != c.scope {
			t.Errorf("scope(%s) = %#x, want %#x", c.addr, s, c.scope)
		}
	}
	if n := commonPrefix(netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("2001:db8:8000::1")); n != 32 {
		t.Errorf("commonPrefix = %d, want 32", n)
	}
	// Where IPv6 loopback works, ::1 (precedence 50) sorts before
	// 127.0.0.1 (35), as glibc's getaddrinfo orders "localhost".
	if _, ok := sourceFor(netip.IPv6Loopback()); ok {
		got := SortAddrs(addrs("127.0.0.1", "::1"))
		if !slices.Equal(got, addrs("::1", "127.0.0.1")) {
			t.Errorf("SortAddrs(127.0.0.1, ::1) = %v, want ::1 first", got)
		}
	}
	got := SortAddrs(addrs("10.0.0.1", "10.0.0.2", "10.0.0.1"))
	if !slices.Equal(got, addrs("10.0.0.1", "10.0.0.2", "10.0.0.1")) {
		t.Errorf("SortAddrs kept IPv4 order? got %v", got)
	}
}

// TestReverseLoopbackStaysLocal: a loopback address missing from the
// hosts table has no name, and DNS is not asked (RFC 6303).
func TestReverseLoopbackStaysLocal(t *testing.T) {
	r := testResolver(t)
	r.Net = &net.Resolver{PreferGo: true, Dial: func(context.Context, string, string) (net.Conn, error) {
		t.Errorf("Reverse asked DNS about a loopback address")
		return nil, errors.New("no DNS in this test")
	}}
	for _, a := range []string{"127.0.0.2", "::1"} {
		if h, err := r.Reverse(context.Background(), netip.MustParseAddr(a)); a == "::1" {
			if err != nil || h.Name != "localhost" {
				t.Errorf("Reverse(::1) = %+v, %v; want localhost from the hosts table", h, err)
			}
		} else if !errors.Is(err, ErrNotFound) {
			t.Errorf("Reverse(%s) = %+v, %v; want ErrNotFound", a, h, err)
		}
	}
}
