package lookup

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
)

// ErrNotFound means a name has no address, or an address no name.
var ErrNotFound = errors.New("not found")

// Resolver answers host and address-information questions the way the
// C library does on a system whose name service is "files dns": the
// hosts table first, then DNS through Go's resolver.
type Resolver struct {
	// Hosts is the static host table; nil reads [HostsFile] on each call
	// (a missing file counts as empty).
	Hosts *Hosts
	// Services resolves service names for AddrInfo; nil uses
	// [DefaultServices].
	Services ServiceTables
	// Net is the DNS resolver; nil uses one with PreferGo set.
	Net *net.Resolver
}

func (r *Resolver) hosts() *Hosts {
	if r.Hosts != nil {
		return r.Hosts
	}
	h, err := LoadHosts(HostsFile)
	if err != nil {
		return &Hosts{Source: HostsFile}
	}
	return h
}

func (r *Resolver) net() *net.Resolver {
	if r.Net != nil {
		return r.Net
	}
	return &net.Resolver{PreferGo: true}
}

func (r *Resolver) services() ServiceTables {
	if r.Services != nil {
		return r.Services
	}
	t, _ := DefaultServices()
	return t
}

// Host looks a name up: the canonical name, its aliases and every
// address, IPv4 and IPv6. A name in the hosts table is answered from
// it alone (see [Hosts.ByName]); any other name goes to DNS, where the
// canonical name is the end of the CNAME chain and the name asked for
// becomes an alias. An IP address is its own answer, as
// gethostbyname_ex(3) gives it; use [Resolver.Reverse] for its names.
func (r *Resolver) Host(ctx context.Context, name string) (Host, error) {
	if name == "" {
		return Host{}, fmt.Errorf("lookup: empty host name")
	}
	if a, err := netip.ParseAddr(name); err == nil {
		return Host{Name: a.String(), Aliases: []string{}, Addrs: []netip.Addr{a}}, nil
	}
	if h, ok := r.hosts().ByName(name); ok {
		return h, nil
	}
	nr := r.net()
	addrs, err := nr.LookupNetIP(ctx, "ip", name)
	if err != nil {
		return Host{}, dnsError(name, err)
	}
	h := Host{Name: name, Aliases: []string{}}
	if cname, err := nr.LookupCNAME(ctx, name); err == nil && cname != "" {
		cname = strings.TrimSuffix(cname, ".")
		if !strings.EqualFold(cname, strings.TrimSuffix(name, ".")) {
			h.Name, h.Aliases = cname, []string{name}
		}
	}
	seen := map[netip.Addr]bool{}
	for _, a := range addrs {
		a = a.Unmap()
		if !seen[a] {
			seen[a] = true
			h.Addrs = append(h.Addrs, a)
		}
	}
	return h, nil
}

// Reverse returns the names of an address: from the hosts table as
// gethostbyaddr(3) gives them (the first line listing the address),
// else from DNS PTR records. Loopback addresses are never asked of DNS
// (RFC 6303 makes their reverse zones locally served and empty). No
// name is an error wrapping [ErrNotFound].
func (r *Resolver) Reverse(ctx context.Context, addr netip.Addr) (Host, error) {
	addr = addr.Unmap()
	if h, ok := r.hosts().ByAddr(addr); ok {
		return h, nil
	}
	if addr.IsLoopback() {
		return Host{}, fmt.Errorf("%s: %w", addr, ErrNotFound)
	}
	names, err := r.net().LookupAddr(ctx, addr.String())
	if err != nil {
		return Host{}, dnsError(addr.String(), err)
	}
	if len(names) == 0 {
		return Host{}, fmt.Errorf("%s: %w", addr, ErrNotFound)
	}
	h := Host{Aliases: []string{}, Addrs: []netip.Addr{addr}}
	for i, n := range names {
		n = strings.TrimSuffix(n, ".")
		if i == 0 {
			h.Name = n
		} else {
			h.Aliases = append(h.Aliases, n)
		}
	}
	return h, nil
}

func dnsError(name string, err error) error {
	var de *net.DNSError
	if errors.As(err, &de) && de.IsNotFound {
		return fmt.Errorf("%s: %w", name, ErrNotFound)
	}
	return fmt.Errorf("lookup %s: %w", name, err)
}

// Socket types and protocols as getaddrinfo(3) reports them.
const (
	SockStream = "SOCK_STREAM"
	SockDgram  = "SOCK_DGRAM"
	SockRaw    = "SOCK_RAW"

	ProtoTCP = 6
	ProtoUDP = 17
)

// AddrInfo is one answer of getaddrinfo(3): an address with the family,
// socket type and protocol to open a socket for it.
type AddrInfo struct {
	Family   string     `json:"family"`   // "AF_INET" or "AF_INET6"
	SockType string     `json:"socktype"` // SockStream, SockDgram or SockRaw
	Protocol int        `json:"protocol"` // ProtoTCP, ProtoUDP or 0
	Addr     netip.Addr `json:"address"`
	Port     int        `json:"port"`
}

// ProtoName returns "tcp", "udp" or "" for the entry's protocol.
func (ai AddrInfo) ProtoName() string {
	switch ai.Protocol {
	case ProtoTCP:
		return "tcp"
	case ProtoUDP:
		return "udp"
	}
	return ""
}

// AddrInfo lists, for every address of host, each socket type that can
// reach service there, as getaddrinfo(3) does with no hints: with no
// service or a numeric one, a stream (TCP), a datagram (UDP) and a raw
// entry per address; with a service name, one entry for each protocol
// the service table lists it under.
func (r *Resolver) AddrInfo(ctx context.Context, host, service string) ([]AddrInfo, error) {
	type kind struct {
		sockType string
		proto    int
		port     int
	}
	var kinds []kind
	port, numeric, err := ParsePort(service)
	switch {
	case err != nil:
		return nil, err
	case service == "" || numeric:
		kinds = []kind{{SockStream, ProtoTCP, port}, {SockDgram, ProtoUDP, port}, {SockRaw, 0, port}}
	default:
		svc := r.services()
		for _, p := range []struct {
			name     string
			sockType string
			proto    int
		}{{"tcp", SockStream, ProtoTCP}, {"udp", SockDgram, ProtoUDP}} {
			if e, err := svc.ByName(service, p.name); err == nil {
				kinds = append(kinds, kind{p.sockType, p.proto, e.Port})
			}
		}
		if len(kinds) == 0 {
			return nil, fmt.Errorf("%w %q", ErrUnknownService, service)
		}
	}
	var addrs []netip.Addr
	if a, err := netip.ParseAddr(host); err == nil {
		addrs = []netip.Addr{a}
	} else {
		h, err := r.Host(ctx, host)
		if err != nil {
			return nil, err
		}
		addrs = h.Addrs
		if len(addrs) > 1 {
			addrs = SortAddrs(addrs)
		}
	}
	var out []AddrInfo
	for _, a := range addrs {
		fam := "AF_INET6"
		if a.Is4() || a.Is4In6() {
			fam, a = "AF_INET", a.Unmap()
		}
		for _, k := range kinds {
			out = append(out, AddrInfo{Family: fam, SockType: k.sockType, Protocol: k.proto, Addr: a, Port: k.port})
		}
	}
	return out, nil
}
