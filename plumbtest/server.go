package plumbtest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/plumbnet/plumb/internal/accounts"
	"github.com/plumbnet/plumb/internal/daemon"
)

// The account a server has when no [User] option names one.
const (
	DefaultUser     = "alice"
	DefaultPassword = "secret"
)

// DefaultServices are the services a server runs without [With]: a
// mail catcher read over POP3 and IMAP, and a file drop box over FTP
// and HTTP.
var DefaultServices = []string{"smtp", "pop3", "imap", "ftp", "http"}

// Domain is the mail domain of the accounts, the one [Mailbox.Address]
// names. example.com, example.org and example.net are delivered locally
// too.
const Domain = "localhost"

// stopGrace bounds how long the sessions a test left open may finish
// when the server stops, before they are cut.
const stopGrace = 2 * time.Second

// An Option changes what [NewServer] starts.
type Option func(*options)

type options struct {
	services []string
	users    []account
	groups   []string
	catchAll string
	toml     []string
	logTo    io.Writer
}

type account struct{ name, password string }

// With chooses the services to run, by config section name ("smtp",
// "imap", "ftp", "admin", …); see the package doc for the list. Several
// With options add up.
func With(services ...string) Option {
	return func(o *options) { o.services = append(o.services, services...) }
}

// User adds an account with a password. Several User options add up;
// with none, the server has [DefaultUser].
func User(name, password string) Option {
	return func(o *options) { o.users = append(o.users, account{name, password}) }
}

// CatchAll makes SMTP accept every recipient, of any domain, into
// user's inbox, as a mail catcher does. The user must be an account
// ([User], or [DefaultUser] when no User option is given).
func CatchAll(user string) Option {
	return func(o *options) { o.catchAll = user }
}

// LogTo writes the daemon's log to w as well, as it happens (os.Stderr,
// to watch a test that hangs). Without it, the log is shown only when
// the test fails.
func LogTo(w io.Writer) Option {
	return func(o *options) { o.logTo = w }
}

// Group adds a newsgroup, open for posting, to the "nntp" service.
// Several Group options add up; with none, a server that runs nntp has
// [DefaultGroup].
func Group(name string) Option {
	return func(o *options) { o.groups = append(o.groups, name) }
}

// DefaultGroup is the newsgroup a server running nntp has when no
// [Group] option names one.
const DefaultGroup = "plumb.test"

// Config applies TOML text, in plumb serve's config format (see
// docs/CONFIG.md), on top of the config plumbtest builds, for whatever
// the options above do not cover:
//
//	plumbtest.Config(`[smtp]
//	max_message_bytes = 1024`)
//
// Which listeners run, and where, is not a Config's to say: [With]
// chooses them and they are on 127.0.0.1 ports the kernel picks.
func Config(toml string) Option {
	return func(o *options) { o.toml = append(o.toml, toml) }
}

// Server is a running plumb daemon with some of its services. Its
// methods may be called from any goroutine.
type Server struct {
	tb      testing.TB // nil for a server from Start
	tempDir string     // removed by Close, for a server from Start
	d       *daemon.Daemon
	log     *logBuffer
	mu      sync.Mutex
	users   []string          // the accounts, first the first one given
	secrets map[string]string // account -> password, for the handles that log in (News)
	addrs   map[string]string // bound service name -> address
	names   []string          // bound service names, in start order
	cert    *x509.Certificate
	pool    *x509.CertPool
	client  *http.Client
	stop    sync.Once
}

// NewServer starts a daemon with the services and accounts opts choose,
// on free 127.0.0.1 ports and a temporary data directory, and stops it
// in tb.Cleanup. A failure to start fails the test at once; when the
// test fails, the daemon's log is written to the test's log.
func NewServer(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	s, err := start(tb.TempDir(), opts)
	if err != nil {
		tb.Fatalf("plumbtest: %v", err)
	}
	s.tb = tb
	tb.Cleanup(func() {
		s.Close()
		if tb.Failed() {
			tb.Logf("plumbtest: the daemon's log:\n%s", s.Log())
		}
	})
	return s
}

// Start is NewServer for where there is no test to stop the server: a
// TestMain sharing one server among a package's tests, an example, a
// program. The caller must call Close, which also removes the temporary
// data directory.
func Start(opts ...Option) (*Server, error) {
	dir, err := os.MkdirTemp("", "plumbtest-")
	if err != nil {
		return nil, fmt.Errorf("plumbtest: %w", err)
	}
	s, err := start(dir, opts)
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("plumbtest: %w", err)
	}
	s.tempDir = dir
	return s, nil
}

func start(dir string, opts []Option) (*Server, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if len(o.services) == 0 {
		o.services = slices.Clone(DefaultServices)
	}
	if len(o.users) == 0 {
		o.users = []account{{DefaultUser, DefaultPassword}}
	}
	cfg, err := buildConfig(dir, &o)
	if err != nil {
		return nil, err
	}
	if err := addAccounts(cfg.Data, o.users); err != nil {
		return nil, err
	}
	if slices.Contains(o.services, "nntp") {
		if len(o.groups) == 0 {
			o.groups = []string{DefaultGroup}
		}
		if err := addGroups(cfg.Data, o.groups); err != nil {
			return nil, err
		}
	}
	s := &Server{log: newLogBuffer(), addrs: map[string]string{}, secrets: map[string]string{}}
	for _, u := range o.users {
		s.users = append(s.users, u.name)
		s.secrets[u.name] = u.password
	}
	var w io.Writer = s.log
	if o.logTo != nil {
		w = io.MultiWriter(s.log, o.logTo)
	}
	logger := slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s.d = daemon.New(cfg, logger, io.Discard)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.d.Start(ctx); err != nil {
		return nil, fmt.Errorf("starting the daemon: %w\n%s", err, s.log.String())
	}
	for _, b := range s.d.Bound() {
		s.addrs[b.Name] = b.Addr
		s.names = append(s.names, b.Name)
	}
	if err := s.loadCert(); err != nil {
		s.d.Close()
		return nil, err
	}
	return s, nil
}

// fail reports a misuse of the server: the test fails, or, for a server
// from Start, the caller panics.
func (s *Server) fail(format string, args ...any) {
	if s.tb != nil {
		s.tb.Helper()
		s.tb.Fatalf(format, args...)
	}
	panic(fmt.Sprintf(format, args...))
}

// buildConfig is the embedded default with every listener but those of
// o.services off, the chosen ones on 127.0.0.1:0, and the settings a
// test server needs: no first-start account, passive FTP ports from the
// kernel, mail to the example domains kept here and to others kept on
// the machine.
func buildConfig(dir string, o *options) (*daemon.Config, error) {
	cfg := daemon.DefaultConfig()
	cfg.Data = filepath.Join(dir, "data")
	cfg.Accounts.FirstUser = ""
	// [smtp] offers no STARTTLS, since net/smtp.SendMail, offered it,
	// insists on verifying the certificate (submission still has it).
	// smtp.outbound.smarthost is port 1 of loopback (tcpmux, which no one
	// runs): a queued message is refused there and waits for a retry,
	// so mail to other domains never leaves the machine.
	base := fmt.Sprintf(`[ftp]
passive_ports = ""

[smtp]
starttls = false
hostname = %q
domains = ["localhost", "example.com", "example.org", "example.net"]
catch_all = %q

[smtp.outbound]
smarthost = "127.0.0.1:1"
smarthost_tls = "none"
`, Domain, o.catchAll)
	if err := cfg.Merge([]byte(base), "(plumbtest)"); err != nil {
		return nil, err
	}
	for i, t := range o.toml {
		if err := cfg.Merge([]byte(t), fmt.Sprintf("(plumbtest.Config #%d)", i+1)); err != nil {
			return nil, err
		}
	}

	// What listens, and where, is With's alone: set after the Config
	// options, so no config can put a test server on a fixed port.
	listeners := cfg.Listeners()
	known := map[string]bool{"admin": true}
	for key := range listeners {
		sec, _, _ := strings.Cut(key, ".")
		known[sec] = true
	}
	for _, name := range o.services {
		if !known[name] {
			return nil, fmt.Errorf("With(%q): no such service; there are %s", name, strings.Join(sortedKeys(known), ", "))
		}
	}
	for key, l := range listeners {
		sec, _, _ := strings.Cut(key, ".")
		l.Enabled = slices.Contains(o.services, sec)
		l.Addr = "127.0.0.1:0"
	}
	cfg.Listen = "127.0.0.1"
	cfg.Admin.Enabled = slices.Contains(o.services, "admin")
	cfg.Admin.Addr = "127.0.0.1:0"
	return cfg, nil
}

func sortedKeys(m map[string]bool) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// addAccounts writes the accounts before the daemon opens the file, with
// bcrypt's lowest cost: a test's passwords protect nothing, and each
// login then costs microseconds, not a tenth of a second.
func addAccounts(data string, users []account) error {
	db, err := accounts.OpenWith(filepath.Join(data, accounts.FileName),
		accounts.Options{Cost: bcrypt.MinCost, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return err
	}
	for _, u := range users {
		if err := db.Add(u.name, u.password); err != nil {
			return fmt.Errorf("User(%q): %w", u.name, err)
		}
	}
	return nil
}

func (s *Server) loadCert() error {
	tc := s.d.TLSConfig()
	if tc == nil || len(tc.Certificates) == 0 {
		return fmt.Errorf("the daemon has no certificate")
	}
	leaf, err := x509.ParseCertificate(tc.Certificates[0].Certificate[0])
	if err != nil {
		return fmt.Errorf("the daemon's certificate: %w", err)
	}
	s.cert = leaf
	s.pool = x509.NewCertPool()
	s.pool.AddCert(leaf)
	s.client = &http.Client{Transport: &http.Transport{TLSClientConfig: s.TLSConfig(), ForceAttemptHTTP2: true}}
	return nil
}

// Close stops every service: open sessions get a moment to finish and
// are then cut. A NewServer's test calls it in its cleanup; calling it
// earlier, to see what a client does when the server goes away, is
// fine, and later calls do nothing.
func (s *Server) Close() {
	s.stop.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), stopGrace)
		defer cancel()
		if err := s.d.Shutdown(ctx); err != nil {
			s.log.Write([]byte("plumbtest: " + err.Error() + "\n"))
		}
		s.client.CloseIdleConnections()
		if s.tempDir != "" {
			os.RemoveAll(s.tempDir)
		}
	})
}

// Log returns the daemon's log, its latest megabyte.
func (s *Server) Log() string { return s.log.String() }

// Addr returns the host:port a service listens on, by the name plumb
// serve's start-up table gives it: "smtp", "submission", "submissions",
// "pop3", "pop3s", "imap", "imaps", "ftp", "ftps", "http", "https",
// "nntp", "nntps", "admin", "echo", "echo/udp", …. A name the server
// does not run fails the test.
func (s *Server) Addr(service string) string {
	if a, ok := s.addrs[service]; ok {
		return a
	}
	if s.tb != nil {
		s.tb.Helper()
	}
	s.fail("plumbtest: Addr(%q): not running; this server runs %s", service, strings.Join(s.names, ", "))
	return ""
}

// Services returns the names of the running services, for Addr, in
// start order.
func (s *Server) Services() []string { return slices.Clone(s.names) }

// URL returns scheme://host:port for a service named like its scheme
// ("ftp", "imaps", "http", "https", …), for clients that take URLs.
func (s *Server) URL(service string) string {
	return service + "://" + s.Addr(service)
}

// DataDir returns the daemon's data directory: accounts, mail, files.
func (s *Server) DataDir() string { return s.d.DataDir() }

// Users returns the names of the server's accounts, in the order they
// were given.
func (s *Server) Users() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.users)
}

// firstUser returns the first account and its password.
func (s *Server) firstUser() (name, password string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.users[0], s.secrets[s.users[0]]
}

// AddUser adds an account to the running server, the way plumb user add
// does beside a running plumb serve: every service knows it at its next
// login.
func (s *Server) AddUser(name, password string) error {
	if err := addAccounts(s.d.DataDir(), []account{{name, password}}); err != nil {
		return fmt.Errorf("plumbtest: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users = append(s.users, name)
	s.secrets[name] = password
	return nil
}

// Certificate returns the server's throwaway self-signed certificate.
func (s *Server) Certificate() *x509.Certificate { return s.cert }

// CertPool returns a pool holding only the server's certificate.
func (s *Server) CertPool() *x509.CertPool { return s.pool }

// TLSConfig returns a new client TLS config that trusts the server's
// certificate, for implicit TLS (tls.Dial to "pop3s", "imaps", …) and
// for STARTTLS. Its ServerName is 127.0.0.1, which the certificate
// names, as it does localhost.
func (s *Server) TLSConfig() *tls.Config {
	return &tls.Config{RootCAs: s.pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}
}

// Client returns an HTTP client that trusts the server's certificate,
// for its "http" and "https" services; its idle connections are closed
// when the server stops.
func (s *Server) Client() *http.Client { return s.client }
