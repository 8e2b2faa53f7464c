package lookup

import (
	"io"
	"net/netip"
	"os"
	"strings"
)

// HostsFile is where the system's static host table lives (hosts(5)).
const HostsFile = "/etc/hosts"

// Host is what a name lookup gives: the canonical name, the other names
// (aliases) and every address, as gethostbyname_ex(3) reports them.
type Host struct {
	Name    string       `json:"name"`
	Aliases []string     `json:"aliases"`
	Addrs   []netip.Addr `json:"addresses"`
}

// hostsLine is one line of a hosts file.
type hostsLine struct {
	addr  netip.Addr
	names []string // canonical name first
}

// Hosts is a parsed hosts(5) table.
type Hosts struct {
	Source string
	lines  []hostsLine
}

// ParseHosts reads a hosts(5) table. Lines whose address does not parse
// are skipped, as the C library skips them; a file or line over the
// limits is an error (*[ParseError]).
func ParseHosts(r io.Reader, source string) (*Hosts, error) {
	h := &Hosts{Source: source}
	err := scanLines(r, source, func(line []byte) {
		f := strings.Fields(string(line))
		if len(f) < 2 || len(f) > MaxNames+1 {
			return
		}
		a, err := netip.ParseAddr(f[0])
		if err != nil {
			return
		}
		h.lines = append(h.lines, hostsLine{addr: a, names: f[1:]})
	})
	if err != nil {
		return nil, err
	}
	return h, nil
}

// LoadHosts parses the hosts file at path.
func LoadHosts(path string) (*Hosts, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ParseHosts(f, path)
}

// ByName looks name up the way glibc's files backend does with
// "multi on": names compare without regard to case; the first line
// that lists name gives the canonical name and its aliases; every later
// line that lists it adds its aliases and, when it differs, its own
// canonical name as aliases, and its address. Unlike glibc, a name or
// an address is listed once only.
func (h *Hosts) ByName(name string) (Host, bool) {
	var out Host
	seenName := map[string]bool{}
	seenAddr := map[netip.Addr]bool{}
	addName := func(n string) {
		if !seenName[n] {
			seenName[n] = true
			out.Aliases = append(out.Aliases, n)
		}
	}
	for _, l := range h.lines {
		if !l.lists(name) {
			continue
		}
		if out.Name == "" {
			out.Name = l.names[0]
			seenName[out.Name] = true
			out.Aliases = []string{}
			for _, n := range l.names[1:] {
				addName(n)
			}
		} else {
			for _, n := range l.names[1:] {
				addName(n)
			}
			addName(l.names[0])
		}
		if !seenAddr[l.addr] {
			seenAddr[l.addr] = true
			out.Addrs = append(out.Addrs, l.addr)
		}
	}
	return out, out.Name != ""
}

// ByAddr returns the names of the first line for addr, as glibc's
// gethostbyaddr(3) does from the files backend.
func (h *Hosts) ByAddr(addr netip.Addr) (Host, bool) {
	addr = addr.Unmap()
	for _, l := range h.lines {
		if l.addr.Unmap() == addr {
			return Host{Name: l.names[0], Aliases: append([]string{}, l.names[1:]...), Addrs: []netip.Addr{addr}}, true
		}
	}
	return Host{}, false
}

func (l hostsLine) lists(name string) bool {
	for _, n := range l.names {
		if strings.EqualFold(n, name) {
			return true
		}
	}
	return false
}
