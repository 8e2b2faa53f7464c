package daemon

import (
	_ "embed"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"time"

	"github.com/plumbnet/plumb/httpfs"
	"github.com/plumbnet/plumb/sasl"
	"github.com/plumbnet/plumb/xmlrpc"
)

// XMLRPCConfig is the [xmlrpc] section: who may call plumb's operator
// methods and the limits of their requests. It has no listener of its
// own: the HTTP service mounts [Daemon.rpcHandler] at /RPC2.
type XMLRPCConfig struct {
	Operators       []string `toml:"operators" comment:"Accounts that may call the operator methods (plumb.status, plumb.connections, plumb.users); empty: none"`
	MaxRequestBytes int64    `toml:"max_request_bytes" comment:"Largest XML-RPC request body in bytes"`
	MaxDepth        int      `toml:"max_depth" comment:"Deepest nesting of arrays and structs in a request"`
}

const xmlrpcSection section[XMLRPCConfig] = "xmlrpc"

//go:embed defaults/xmlrpc.toml
var xmlrpcDefaults string

func init() {
	register(xmlrpcSection, protocol{rank: 80, defaults: xmlrpcDefaults,
		build:   func(*Daemon) ([]Service, error) { return nil, nil }, // served by the HTTP service
		comment: "XML-RPC operator methods at /RPC2 on the HTTP service"})
	registerHTTPHandler("/RPC2", func(d *Daemon) (http.Handler, error) { return d.rpcHandler(), nil })
}

func (c *XMLRPCConfig) check(*Config) error {
	if err := checkOperators("xmlrpc.operators", c.Operators); err != nil {
		return err
	}
	if c.MaxRequestBytes < 0 || c.MaxDepth < 0 {
		return fmt.Errorf("xmlrpc: max_request_bytes and max_depth cannot be negative (0 means the default)")
	}
	return nil
}

// rpcHandler returns the XML-RPC handler with plumb's operator methods,
// for the HTTP service to mount at /RPC2. Every request must carry
// HTTP Basic credentials of an account in xmlrpc.operators, checked
// with the accounts' shared throttle, and come over TLS or from
// loopback; anything else is refused at the HTTP level (401, 403)
// before the XML is read.
func (d *Daemon) rpcHandler() http.Handler {
	cfg := xmlrpcSection.of(d.cfg)
	log := d.log.With("service", "xmlrpc")
	srv := &xmlrpc.Server{MaxRequestBytes: cfg.MaxRequestBytes, MaxDepth: cfg.MaxDepth, Logger: log}
	for _, m := range []struct {
		name string
		fn   any
		help string
	}{
		{"plumb.status", d.rpcStatus, "The daemon's start time and each listening service with its address and open connections."},
		{"plumb.connections", d.rpcConnections, "Open connections by service name, and their total under \"total\"."},
		{"plumb.users", d.rpcUsers, "Every account: its name, whether it has an APOP secret, and when it was created (if known)."},
	} {
		if err := srv.Register(m.name, m.fn, m.help); err != nil {
			panic(err) // a bad registration is a build defect
		}
	}
	return &operatorGate{d: d, operators: slices.Clone(cfg.Operators), next: srv, log: log}
}

// rpcService is one listener in plumb.status.
type rpcService struct {
	Name        string `xmlrpc:"name"`
	Net         string `xmlrpc:"net"`
	Addr        string `xmlrpc:"addr"`
	Connections int    `xmlrpc:"connections"`
}

type rpcStatus struct {
	Started  time.Time    `xmlrpc:"started"`
	Uptime   float64      `xmlrpc:"uptime_seconds"`
	Services []rpcService `xmlrpc:"services"`
}

func (d *Daemon) rpcStatus() rpcStatus {
	st := d.status()
	out := rpcStatus{Started: st.Started.UTC(), Uptime: time.Since(st.Started).Seconds(), Services: []rpcService{}}
	for _, s := range st.Services {
		out.Services = append(out.Services, rpcService(s))
	}
	return out
}

func (d *Daemon) rpcConnections() map[string]int {
	live := d.liveConns()
	total := 0
	for _, n := range live {
		total += n
	}
	live["total"] = total
	return live
}

type rpcUser struct {
	Name    string    `xmlrpc:"name"`
	APOP    bool      `xmlrpc:"apop"`
	Created time.Time `xmlrpc:"created,omitempty"`
}

func (d *Daemon) rpcUsers() []rpcUser {
	out := []rpcUser{}
	for _, a := range d.Accounts().List() {
		out = append(out, rpcUser{Name: a.Name, APOP: a.APOP, Created: a.Created.UTC()})
	}
	return out
}

// operatorGate lets through only an operator's requests over TLS or
// from loopback.
type operatorGate struct {
	d         *Daemon
	operators []string
	next      http.Handler
	log       *slog.Logger
}

const operatorRealm = `Basic realm="plumb operators", charset="UTF-8"`

func (g *operatorGate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	remote := remoteAddr(r.RemoteAddr)
	if r.TLS == nil && !sasl.IsLoopback(remote) {
		http.Error(w, "operator methods need TLS (https) or a loopback client", http.StatusForbidden)
		return
	}
	user, pass, ok := r.BasicAuth()
	if !ok {
		w.Header().Set("WWW-Authenticate", operatorRealm)
		http.Error(w, "operator credentials needed (HTTP Basic)", http.StatusUnauthorized)
		return
	}
	u, err := g.d.Accounts().Authenticate(r.Context(), user, pass, remote)
	if err != nil {
		g.log.Warn("xmlrpc: login failed", "user", user, "remote", r.RemoteAddr, "err", err)
		w.Header().Set("WWW-Authenticate", operatorRealm)
		http.Error(w, "wrong user name or password", http.StatusUnauthorized)
		return
	}
	httpfs.LoggedIn(r, u.Name)
	if !isOperator(g.operators, u.Name) {
		g.log.Warn("xmlrpc: not an operator", "user", u.Name, "remote", r.RemoteAddr)
		http.Error(w, "this account is not an operator (xmlrpc.operators)", http.StatusForbidden)
		return
	}
	g.next.ServeHTTP(w, r)
}

// remoteAddr turns an http.Request's RemoteAddr into a net.Addr, nil
// if it is not an IP and port.
func remoteAddr(s string) net.Addr {
	ap, err := netip.ParseAddrPort(s)
	if err != nil {
		return nil
	}
	return net.TCPAddrFromAddrPort(ap)
}
