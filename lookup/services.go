package lookup

import (
	"bufio"
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
)

// Limits on a services or hosts file. A file over them is refused as a
// whole rather than read in part, so a lookup never answers from half a
// table.
const (
	// MaxFileSize is the largest services or hosts file read (bytes).
	MaxFileSize = 4 << 20
	// MaxLineLength is the longest line accepted (bytes, without the newline).
	MaxLineLength = 4096
	// MaxNames is the most names (canonical name plus aliases) on one line.
	MaxNames = 64
)

// ServicesFile is where the system's service table lives (services(5)).
const ServicesFile = "/etc/services"

// EmbeddedSource is the Source of entries from plumb's built-in table.
const EmbeddedSource = "built-in"

var (
	// ErrFileTooLarge means a file is over [MaxFileSize].
	ErrFileTooLarge = errors.New("file too large")
	// ErrLineTooLong means a line is over [MaxLineLength].
	ErrLineTooLong = errors.New("line too long")
	// ErrUnknownService means no table lists the service name or port.
	ErrUnknownService = errors.New("unknown service")
)

// ParseError reports a limit exceeded at a line of a file.
type ParseError struct {
	Source string // file name, or "built-in"
	Line   int    // 1-based; 0 for the file as a whole
	Err    error
}

func (e *ParseError) Error() string {
	if e.Line == 0 {
		return fmt.Sprintf("%s: %v", e.Source, e.Err)
	}
	return fmt.Sprintf("%s:%d: %v", e.Source, e.Line, e.Err)
}

func (e *ParseError) Unwrap() error { return e.Err }

// Service is one line of a services table: a name bound to a port for
// one transport protocol.
type Service struct {
	Name    string   `json:"name"`
	Port    int      `json:"port"`
	Proto   string   `json:"proto"`
	Aliases []string `json:"aliases"`
	Source  string   `json:"source"` // the file it came from, or "built-in"
}

// String formats s as a services(5) line: "http 80/tcp www".
func (s Service) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %d/%s", s.Name, s.Port, s.Proto)
	for _, a := range s.Aliases {
		b.WriteByte(' ')
		b.WriteString(a)
	}
	return b.String()
}

// Services is one parsed services table. Lookups follow glibc's
// getservbyname(3)/getservbyport(3): names and protocols compare
// exactly, and when several lines match the first one in the file wins.
type Services struct {
	Source  string
	entries []Service
	byName  map[string][]int // name or alias -> entry indexes, file order
	byPort  map[int][]int
}

// ParseServices reads a services(5) table. Malformed lines are skipped,
// as the C library skips them; a file or line over the limits is an
// error (*[ParseError]). source names the table in errors and results.
func ParseServices(r io.Reader, source string) (*Services, error) {
	s := &Services{Source: source, byName: map[string][]int{}, byPort: map[int][]int{}}
	err := scanLines(r, source, func(line []byte) {
		f := strings.Fields(string(line))
		if len(f) < 2 || len(f) > MaxNames+1 {
			return
		}
		portStr, proto, ok := strings.Cut(f[1], "/")
		if !ok || proto == "" || strings.Contains(proto, "/") {
			return
		}
		port, err := strconv.Atoi(portStr)
		if err != nil || port < 0 || port > 65535 || portStr[0] == '+' || portStr[0] == '-' {
			return
		}
		e := Service{Name: f[0], Port: port, Proto: proto, Aliases: f[2:], Source: source}
		if len(e.Aliases) == 0 {
			e.Aliases = []string{}
		}
		i := len(s.entries)
		s.entries = append(s.entries, e)
		s.byName[e.Name] = append(s.byName[e.Name], i)
		for _, n := range e.Aliases {
			s.byName[n] = append(s.byName[n], i)
		}
		s.byPort[port] = append(s.byPort[port], i)
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// scanLines calls fn with each line of r, comments ("#" to the end of
// the line) removed, enforcing MaxFileSize and MaxLineLength.
func scanLines(r io.Reader, source string, fn func([]byte)) error {
	cr := &countingReader{r: io.LimitReader(r, MaxFileSize+1)}
	sc := bufio.NewScanner(cr)
	sc.Buffer(make([]byte, 0, 4096), MaxLineLength+1)
	n := 0
	for sc.Scan() {
		n++
		if cr.n > MaxFileSize {
			return &ParseError{Source: source, Err: ErrFileTooLarge}
		}
		line := sc.Bytes()
		if len(line) > MaxLineLength {
			return &ParseError{Source: source, Line: n, Err: ErrLineTooLong}
		}
		if i := bytes.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		fn(line)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return &ParseError{Source: source, Line: n + 1, Err: ErrLineTooLong}
		}
		return &ParseError{Source: source, Err: err}
	}
	if cr.n > MaxFileSize {
		return &ParseError{Source: source, Err: ErrFileTooLarge}
	}
	return nil
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// Len returns the number of entries.
func (s *Services) Len() int { return len(s.entries) }

// ByName returns the first entry called name (or with name as an alias)
// for proto; an empty proto matches any protocol.
func (s *Services) ByName(name, proto string) (Service, bool) {
	for _, i := range s.byName[name] {
		if proto == "" || s.entries[i].Proto == proto {
			return s.entries[i], true
		}
	}
	return Service{}, false
}

// ByPort returns the first entry for port and proto; an empty proto
// matches any protocol.
func (s *Services) ByPort(port int, proto string) (Service, bool) {
	for _, i := range s.byPort[port] {
		if proto == "" || s.entries[i].Proto == proto {
			return s.entries[i], true
		}
	}
	return Service{}, false
}

// AllByName returns every entry named name, in file order.
func (s *Services) AllByName(name string) []Service { return s.pick(s.byName[name]) }

// AllByPort returns every entry for port, in file order.
func (s *Services) AllByPort(port int) []Service { return s.pick(s.byPort[port]) }

func (s *Services) pick(idx []int) []Service {
	out := make([]Service, 0, len(idx))
	for _, i := range idx {
		out = append(out, s.entries[i])
	}
	return out
}

//go:embed services.txt
var embeddedServices []byte

var embedded = sync.OnceValue(func() *Services {
	s, err := ParseServices(bytes.NewReader(embeddedServices), EmbeddedSource)
	if err != nil {
		panic("lookup: built-in service table: " + err.Error())
	}
	return s
})

// Embedded returns plumb's built-in service table.
func Embedded() *Services { return embedded() }

// LoadServices parses the services file at path.
func LoadServices(path string) (*Services, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ParseServices(f, path)
}

// ServiceTables are service tables searched in order: the first table
// that knows a name or port answers.
type ServiceTables []*Services

// DefaultServices returns the system's table ([ServicesFile]) followed
// by the built-in one. A system table that cannot be read is left out,
// and the reason returned beside the tables, which remain usable.
func DefaultServices() (ServiceTables, error) {
	sys, err := LoadServices(ServicesFile)
	if err != nil {
		return ServiceTables{Embedded()}, err
	}
	return ServiceTables{sys, Embedded()}, nil
}

// ByName returns the entry for name and proto from the first table
// that has one.
func (t ServiceTables) ByName(name, proto string) (Service, error) {
	for _, s := range t {
		if e, ok := s.ByName(name, proto); ok {
			return e, nil
		}
	}
	return Service{}, fmt.Errorf("%w %q%s", ErrUnknownService, name, forProto(proto))
}

// ByPort returns the entry for port and proto from the first table that
// has one.
func (t ServiceTables) ByPort(port int, proto string) (Service, error) {
	for _, s := range t {
		if e, ok := s.ByPort(port, proto); ok {
			return e, nil
		}
	}
	return Service{}, fmt.Errorf("%w on port %d%s", ErrUnknownService, port, forProto(proto))
}

// AllByName returns every entry for name from the first table that has any.
func (t ServiceTables) AllByName(name string) []Service {
	for _, s := range t {
		if e := s.AllByName(name); len(e) > 0 {
			return e
		}
	}
	return nil
}

// AllByPort returns every entry for port from the first table that has any.
func (t ServiceTables) AllByPort(port int) []Service {
	for _, s := range t {
		if e := s.AllByPort(port); len(e) > 0 {
			return e
		}
	}
	return nil
}

// Port resolves a service given as a number or a name to a port for
// proto ("tcp" or "udp"), as getaddrinfo(3) does with its service argument.
func (t ServiceTables) Port(service, proto string) (int, error) {
	if port, ok, err := ParsePort(service); ok {
		return port, err
	}
	e, err := t.ByName(service, proto)
	if err != nil {
		return 0, err
	}
	return e.Port, nil
}

// ParsePort reports whether s is a decimal number, and if so the port
// it names; a number over 65535 is an error.
func ParsePort(s string) (port int, numeric bool, err error) {
	if s == "" {
		return 0, false, nil
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, false, nil
		}
	}
	n, err := strconv.Atoi(s)
	if err != nil || n > 65535 {
		return 0, true, fmt.Errorf("port %s out of range 0-65535", s)
	}
	return n, true, nil
}

func forProto(proto string) string {
	if proto == "" {
		return ""
	}
	return "/" + proto
}
