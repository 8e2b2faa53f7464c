package daemon

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics are the daemon's Prometheus series, labelled by service. Each
// daemon has its own registry so that tests can run several at once.
type metrics struct {
	reg       *prometheus.Registry
	open      *prometheus.GaugeVec
	total     *prometheus.CounterVec
	refused   *prometheus.CounterVec
	bytesIn   *prometheus.CounterVec
	bytesOut  *prometheus.CounterVec
	errors    *prometheus.CounterVec
	datagrams *prometheus.CounterVec
	dropped   *prometheus.CounterVec
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		open: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "plumb_connections_open", Help: "Connections open now.",
		}, []string{"service"}),
		total: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "plumb_connections_total", Help: "Connections accepted.",
		}, []string{"service"}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "plumb_connections_refused_total", Help: "Connections refused over a limit, by limit.",
		}, []string{"service", "reason"}),
		bytesIn: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "plumb_bytes_received_total", Help: "Bytes read from clients.",
		}, []string{"service"}),
		bytesOut: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "plumb_bytes_sent_total", Help: "Bytes written to clients.",
		}, []string{"service"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "plumb_errors_total", Help: "Accept, handshake and serve errors.",
		}, []string{"service"}),
		datagrams: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "plumb_datagrams_total", Help: "Datagrams received on UDP services.",
		}, []string{"service"}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "plumb_datagrams_dropped_total", Help: "Datagrams dropped over the per-IP UDP rate.",
		}, []string{"service"}),
	}
	m.reg.MustRegister(m.open, m.total, m.refused, m.bytesIn, m.bytesOut, m.errors, m.datagrams, m.dropped,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// serviceMetrics are one service's series, looked up once so that the
// per-read cost is one atomic add.
type serviceMetrics struct {
	open      prometheus.Gauge
	total     prometheus.Counter
	bytesIn   prometheus.Counter
	bytesOut  prometheus.Counter
	errors    prometheus.Counter
	datagrams prometheus.Counter
	dropped   prometheus.Counter
	refused   func(reason string) prometheus.Counter
}

func (m *metrics) service(name string) *serviceMetrics {
	return &serviceMetrics{
		open:      m.open.WithLabelValues(name),
		total:     m.total.WithLabelValues(name),
		bytesIn:   m.bytesIn.WithLabelValues(name),
		bytesOut:  m.bytesOut.WithLabelValues(name),
		errors:    m.errors.WithLabelValues(name),
		datagrams: m.datagrams.WithLabelValues(name),
		dropped:   m.dropped.WithLabelValues(name),
		refused:   func(reason string) prometheus.Counter { return m.refused.WithLabelValues(name, reason) },
	}
}
