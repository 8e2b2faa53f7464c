package lookup

import (
	"net"
	"net/netip"
	"slices"
)

// SortAddrs orders destination addresses as RFC 6724 section 6 asks
// (and as getaddrinfo(3) returns them): reachable before unreachable,
// matching scope and label, higher precedence, smaller scope, longer
// prefix shared with the source (IPv6 only), else the original order.
// The source for each address is the one the kernel would pick, found
// by connecting a UDP socket, which sends nothing.
func SortAddrs(addrs []netip.Addr) []netip.Addr {
	type dest struct {
		dst, src netip.Addr
		ok       bool
	}
	ds := make([]dest, len(addrs))
	for i, a := range addrs {
		ds[i].dst = a
		ds[i].src, ds[i].ok = sourceFor(a)
	}
	slices.SortStableFunc(ds, func(a, b dest) int {
		// Rule 1: avoid unusable destinations.
		if a.ok != b.ok {
			return boolOrder(a.ok, b.ok)
		}
		if !a.ok {
			return 0
		}
		// Rule 2: prefer matching scope.
		ma, mb := scope(a.dst) == scope(a.src), scope(b.dst) == scope(b.src)
		if ma != mb {
			return boolOrder(ma, mb)
		}
		// Rule 5: prefer matching label.
		pa, pb := policyFor(a.dst), policyFor(b.dst)
		la, lb := pa.label == policyFor(a.src).label, pb.label == policyFor(b.src).label
		if la != lb {
			return boolOrder(la, lb)
		}
		// Rule 6: prefer higher precedence.
		if pa.precedence != pb.precedence {
			return pb.precedence - pa.precedence
		}
		// Rule 8: prefer smaller scope.
		if sa, sb := scope(a.dst), scope(b.dst); sa != sb {
			return sa - sb
		}
		// Rule 9: longest matching prefix, for IPv6 destinations.
		if a.dst.Is6() && !a.dst.Is4In6() && b.dst.Is6() && !b.dst.Is4In6() {
			return commonPrefix(b.dst, b.src) - commonPrefix(a.dst, a.src)
		}
		return 0 // Rule 10: leave the order unchanged.
	})
	out := make([]netip.Addr, len(ds))
	for i, d := range ds {
		out[i] = d.dst
	}
	return out
}

// boolOrder sorts true before false.
func boolOrder(a, b bool) int {
	if a {
		return -1
	}
	return 1
}

func sourceFor(dst netip.Addr) (netip.Addr, bool) {
	c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(netip.AddrPortFrom(dst, 9)))
	if err != nil {
		return netip.Addr{}, false
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).AddrPort().Addr(), true
}

// Scope values from RFC 4291 section 2.7, as RFC 6724 section 3.1 uses them.
const (
	scopeLinkLocal = 0x2
	scopeSiteLocal = 0x5
	scopeGlobal    = 0xe
)

func scope(a netip.Addr) int {
	a = a.Unmap()
	switch {
	case a.IsMulticast() && a.Is6():
		return int(a.As16()[1] & 0xf)
	case a.IsLoopback(), a.IsLinkLocalUnicast():
		return scopeLinkLocal
	case a.Is6() && a.As16()[0] == 0xfe && a.As16()[1]&0xc0 == 0xc0:
		return scopeSiteLocal
	}
	return scopeGlobal
}

type policy struct {
	prefix     netip.Prefix
	precedence int
	label      int
}

// policyTable is RFC 6724 section 2.1's default, longest prefix first.
var policyTable = []policy{
	{netip.MustParsePrefix("::1/128"), 50, 0},
	{netip.MustParsePrefix("::ffff:0:0/96"), 35, 4},
	{netip.MustParsePrefix("::/96"), 1, 3},
	{netip.MustParsePrefix("2001::/32"), 5, 5},
	{netip.MustParsePrefix("2002::/16"), 30, 2},
	{netip.MustParsePrefix("3ffe::/16"), 1, 12},
	{netip.MustParsePrefix("fec0::/10"), 1, 11},
	{netip.MustParsePrefix("fc00::/7"), 3, 13},
	{netip.MustParsePrefix("::/0"), 40, 1},
}

func policyFor(a netip.Addr) policy {
	if a.Is4() {
		a = netip.AddrFrom16(a.As16())
	}
	for _, p := range policyTable {
		if p.prefix.Contains(a.WithZone("")) {
			return p
		}
	}
	return policyTable[len(policyTable)-1]
}

func commonPrefix(a, b netip.Addr) int {
	x, y := a.As16(), b.As16()
	n := 0
	for i := range 16 {
		d := x[i] ^ y[i]
		if d == 0 {
			n += 8
			continue
		}
		for d&0x80 == 0 {
			n++
			d <<= 1
		}
		break
	}
	return min(n, 64) // RFC 6724: only the prefix part counts
}
