package webadmin

import (
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"
)

// Config is what a Server reads and changes. A nil backend leaves its
// part of the console and the API out (News is nil when no news service
// runs, Faults when fault injection is not built in).
type Config struct {
	Mail   MailBackend
	Files  FileBackend
	News   NewsBackend
	Ops    OpsBackend
	Events EventSource
	Faults FaultControl
	Logger *slog.Logger
	Auth   Authenticator
	// Webhooks are the configured webhooks; more are added at runtime
	// through the API.
	Webhooks []Webhook
	// WebhookRetry is the wait before a failed webhook POST is tried
	// again, doubling each time; 0 means 1s.
	WebhookRetry time.Duration
}

// Server is the console and the API as one http.Handler.
type Server struct {
	cfg     Config
	log     *slog.Logger
	handler http.Handler

	routes  []string  // the API's mux patterns, for the OpenAPI test
	openapi []byte    // the assembled OpenAPI document
	hooks   *webhooks // nil until the API is mounted

	longCount atomic.Int64 // waits and event streams open
}

// New returns a Server over cfg's backends.
func New(cfg Config) *Server {
	s := &Server{cfg: cfg, log: cfg.Logger}
	if s.log == nil {
		s.log = slog.Default()
	}
	mux := http.NewServeMux()
	s.apiRoutes(mux)
	s.consoleRoutes(mux)
	s.chaosRoutes(mux)
	s.handler = s.authenticate(mux)
	return s
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }
