package daemon

import (
	"encoding/json"
	"html/template"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/plumbnet/plumb/internal/webadmin"
)

type adminServer struct {
	srv  *http.Server
	addr net.Addr
}

// startAdmin serves /metrics, /healthz, /status.json and a status page.
func (d *Daemon) startAdmin() (*adminServer, error) {
	ln, err := net.Listen("tcp", d.cfg.Admin.Addr)
	if err != nil {
		return nil, err
	}
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
	chaosAPI := webadmin.New(webadmin.Config{Faults: d.FaultControl(), Logger: d.log.With("service", "admin")})
	mux.Handle("/api/chaos", chaosAPI)
	mux.Handle("/api/chaos/", chaosAPI)
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		statusPage.Execute(w, d.status())
	})
	a := &adminServer{
		srv:  &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second},
		addr: ln.Addr(),
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

var statusPage = template.Must(template.New("status").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>plumb serve</title>
<style>body{font-family:sans-serif;margin:2em}td,th{padding:.2em 1em;text-align:left}</style></head>
<body><h1>plumb serve</h1>
<p>Up since {{.Started.Format "2006-01-02 15:04:05 MST"}}. <a href="/metrics">metrics</a> · <a href="/status.json">status.json</a> · <a href="/healthz">healthz</a></p>
<table><tr><th>service</th><th>network</th><th>address</th><th>open connections</th></tr>
{{range .Services}}<tr><td>{{.Name}}</td><td>{{.Net}}</td><td>{{.Addr}}</td><td>{{.Connections}}</td></tr>
{{end}}</table></body></html>
`))
