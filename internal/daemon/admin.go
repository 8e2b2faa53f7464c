package daemon

import (
	"crypto/tls"
	"encoding/json"
	"net"
	"net/http"
	"time"

	"github.com/plumbnet/plumb/internal/webadmin"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

type adminServer struct {
	srv   *http.Server
	addr  net.Addr
	web   *webadmin.Server
	tls   bool
	close func() // the web console's backends
}

// startAdmin serves /metrics, /healthz, /status.json, and the web
// console at / and its REST API at /api/ (internal/webadmin). Off
// loopback the listener serves TLS with the daemon's certificate.
func (d *Daemon) startAdmin() (*adminServer, error) {
	ln, err := net.Listen("tcp", d.cfg.Admin.Addr)
	if err != nil {
		return nil, err
	}
	tlsOn := adminTLS(ln.Addr())
	if tlsOn {
		ln = tls.NewListener(ln, d.tlsCfg)
	}
	cfg, closeWeb := d.webAdminConfig()
	cfg.Auth = adminTokens{d}
	for _, h := range d.cfg.Admin.Webhooks {
		cfg.Webhooks = append(cfg.Webhooks, webadmin.Webhook{URL: h.URL, Events: h.Events, Secret: h.Secret})
	}
	web := webadmin.New(cfg)
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(d.metrics.reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		if d.stopping.Load() {
			http.Error(w, "stopping", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /status.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(d.status())
	})
	mux.Handle("/", web)
	a := &adminServer{
		srv:   &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, IdleTimeout: 2 * time.Minute},
		addr:  ln.Addr(),
		web:   web,
		tls:   tlsOn,
		close: func() { web.Close(); closeWeb() },
	}
	go a.srv.Serve(ln)
	return a, nil
}

type serviceStatus struct {
	Name        string `json:"name"`
	Net         string `json:"net"`
	Addr        string `json:"addr"`
	Connections int    `json:"connections"`
}

type status struct {
	Started  time.Time       `json:"started"`
	Services []serviceStatus `json:"services"`
}

func (d *Daemon) status() status {
	live := d.liveConns()
	st := status{Started: d.started}
	for _, b := range d.Bound() {
		if b.Name == "admin" {
			continue
		}
		st.Services = append(st.Services, serviceStatus{b.Name, b.Net, b.Addr, live[b.Name]})
	}
	return st
}

// adminTLS decides whether the admin listener serves TLS: off loopback.
// A test makes it serve TLS on loopback.
var adminTLS = func(a net.Addr) bool { return !isLoopbackAddr(a) }

// isLoopbackAddr reports whether a listener's address is on loopback.
func isLoopbackAddr(a net.Addr) bool {
	t, ok := a.(*net.TCPAddr)
	return ok && t.IP.IsLoopback()
}
