package lookup

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

const sampleServices = `# comment line
echo		7/tcp
echo		7/udp
ftp		21/tcp
fsp		21/udp		fspd
http		80/tcp		www		# WorldWideWeb HTTP
bad		x/tcp
noproto		99
toolarge	70000/tcp
neg		-1/tcp
imap2		143/tcp		imap
`

func TestParseServices(t *testing.T) {
	s, err := ParseServices(strings.NewReader(sampleServices), "test")
	if err != nil {
		t.Fatalf("ParseServices: %v", err)
	}
	if s.Len() != 6 {
		t.Errorf("Len() = %d, want 6 (malformed lines skipped)", s.Len())
	}
	cases := []struct {
		name, proto string
		port        int
		ok          bool
	}{
		{"echo", "tcp", 7, true},
		{"echo", "udp", 7, true},
		{"echo", "", 7, true},
		{"www", "tcp", 80, true},
		{"http", "udp", 0, false},
		{"imap", "tcp", 143, true},
		{"fspd", "", 21, true},
		{"HTTP", "tcp", 0, false},
		{"bad", "", 0, false},
		{"toolarge", "", 0, false},
		{"neg", "", 0, false},
	}
	for _, c := range cases {
		e, ok := s.ByName(c.name, c.proto)
		if ok != c.ok || (ok && e.Port != c.port) {
			t.Errorf("ByName(%q, %q) = %v, %v; want port %d, %v", c.name, c.proto, e, ok, c.port, c.ok)
		}
	}
	ports := []struct {
		port        int
		proto, name string
	}{
		{21, "", "ftp"}, {21, "tcp", "ftp"}, {21, "udp", "fsp"}, {80, "tcp", "http"}, {143, "", "imap2"},
	}
	for _, c := range ports {
		e, ok := s.ByPort(c.port, c.proto)
		if !ok || e.Name != c.name {
			t.Errorf("ByPort(%d, %q) = %v, %v; want %q", c.port, c.proto, e, ok, c.name)
		}
	}
	if _, ok := s.ByPort(80, "udp"); ok {
		t.Errorf("ByPort(80, udp) found an entry, want none")
	}
	if got := s.AllByName("echo"); len(got) != 2 || got[0].Proto != "tcp" || got[1].Proto != "udp" {
		t.Errorf("AllByName(echo) = %v, want tcp then udp", got)
	}
	e, _ := s.ByName("http", "tcp")
	if got, want := e.String(), "http 80/tcp www"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if e.Source != "test" {
		t.Errorf("Source = %q, want %q", e.Source, "test")
	}
}

func TestParseServicesLimits(t *testing.T) {
	long := "x " + strings.Repeat("a", MaxLineLength) + "\n"
	_, err := ParseServices(strings.NewReader("echo 7/tcp\n"+long), "f")
	var pe *ParseError
	if !errors.As(err, &pe) || !errors.Is(err, ErrLineTooLong) || pe.Line != 2 {
		t.Errorf("ParseServices(long line) error = %v, want ErrLineTooLong at line 2", err)
	}
	comment := "#" + strings.Repeat("c", 1022) + "\n" // 1 KiB
	line := strings.Repeat(comment, MaxFileSize/1024) + "s 1/tcp\n"
	if _, err := ParseServices(strings.NewReader(line), "f"); !errors.Is(err, ErrFileTooLarge) {
		t.Errorf("ParseServices(%d bytes) error = %v, want ErrFileTooLarge", len(line), err)
	}
	exact := strings.Repeat(comment, MaxFileSize/1024-1) + strings.Repeat("s 1/tcp\n", 128)
	if _, err := ParseServices(strings.NewReader(exact), "f"); err != nil {
		t.Errorf("ParseServices(%d bytes, the limit) error = %v, want nil", len(exact), err)
	}
	names := "svc 1/tcp" + strings.Repeat(" a", MaxNames+1) + "\n"
	s, err := ParseServices(strings.NewReader(names), "f")
	if err != nil || s.Len() != 0 {
		t.Errorf("ParseServices(too many aliases) = %d entries, %v; want the line skipped", s.Len(), err)
	}
}

// TestEmbeddedCoversDesign checks the built-in table against the
// services plumb serves (the protocol table, by well-known port) and common ones.
func TestEmbeddedCoversDesign(t *testing.T) {
	want := map[string][]int{ // name -> port; proto tcp
		"echo": {7}, "discard": {9}, "daytime": {13}, "qotd": {17}, "chargen": {19}, "time": {37},
		"ftp": {21}, "ftps": {990}, "ftp-data": {20}, "telnet": {23}, "smtp": {25}, "submission": {587},
		"submissions": {465}, "finger": {79}, "gopher": {70}, "http": {80}, "https": {443}, "pop3": {110},
		"pop3s": {995}, "nntp": {119}, "nntps": {563}, "imap": {143}, "imaps": {993}, "ssh": {22},
		"domain": {53}, "ldap": {389}, "ldaps": {636}, "rsync": {873}, "mysql": {3306}, "postgresql": {5432},
		"snmp": {161},
	}
	e := Embedded()
	for name, ports := range want {
		got, ok := e.ByName(name, "tcp")
		if !ok || got.Port != ports[0] {
			t.Errorf("Embedded().ByName(%q, tcp) = %v, %v; want port %d", name, got, ok, ports[0])
		}
		if back, ok := e.ByPort(ports[0], "tcp"); !ok || back.Name != name {
			t.Errorf("Embedded().ByPort(%d, tcp) = %v, %v; want %q", ports[0], back, ok, name)
		}
	}
	for _, name := range []string{"echo", "discard", "daytime", "qotd", "chargen", "time", "domain", "ntp", "snmp"} {
		if _, ok := e.ByName(name, "udp"); !ok {
			t.Errorf("Embedded().ByName(%q, udp) not found", name)
		}
	}
}

func TestServiceTablesFallBack(t *testing.T) {
	sys, err := ParseServices(strings.NewReader("imap2 143/tcp imap\nlocal 9999/tcp\n"), "sys")
	if err != nil {
		t.Fatal(err)
	}
	tables := ServiceTables{sys, Embedded()}
	if e, err := tables.ByPort(143, "tcp"); err != nil || e.Name != "imap2" || e.Source != "sys" {
		t.Errorf("ByPort(143, tcp) = %v, %v; want imap2 from sys", e, err)
	}
	if e, err := tables.ByName("gopher", "tcp"); err != nil || e.Port != 70 || e.Source != EmbeddedSource {
		t.Errorf("ByName(gopher, tcp) = %v, %v; want 70 from the built-in table", e, err)
	}
	if _, err := tables.ByName("nosuch", ""); !errors.Is(err, ErrUnknownService) {
		t.Errorf("ByName(nosuch) error = %v, want ErrUnknownService", err)
	}
	if got := tables.AllByName("local"); len(got) != 1 || got[0].Port != 9999 {
		t.Errorf("AllByName(local) = %v, want one entry for 9999", got)
	}
	for _, c := range []struct {
		in   string
		port int
		err  bool
	}{{"80", 80, false}, {"0", 0, false}, {"65535", 65535, false}, {"65536", 0, true}, {"smtp", 25, false}, {"nosuch", 0, true}} {
		p, err := tables.Port(c.in, "tcp")
		if p != c.port || (err != nil) != c.err {
			t.Errorf("Port(%q, tcp) = %d, %v; want %d, error %v", c.in, p, err, c.port, c.err)
		}
	}
}

func FuzzParseServices(f *testing.F) {
	f.Add(sampleServices)
	f.Add(string(embeddedServices))
	f.Add("a 1/tcp b c\n\x00 2/\n 3/udp#x\n")
	f.Fuzz(func(t *testing.T, in string) {
		s, err := ParseServices(strings.NewReader(in), "fuzz")
		if err != nil {
			return
		}
		for _, e := range s.entries {
			if e.Port < 0 || e.Port > 65535 || e.Proto == "" || e.Name == "" || strings.ContainsAny(e.Name, " \t\n#") {
				t.Fatalf("bad entry %+v from %q", e, in)
			}
			if got, ok := s.ByName(e.Name, e.Proto); !ok || got.Name != e.Name && !slices.Contains(got.Aliases, e.Name) {
				t.Fatalf("ByName(%q, %q) = %v, %v after parsing it", e.Name, e.Proto, got, ok)
			}
			if _, ok := s.ByPort(e.Port, e.Proto); !ok {
				t.Fatalf("ByPort(%d, %q) not found after parsing it", e.Port, e.Proto)
			}
		}
	})
}
