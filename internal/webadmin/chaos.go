package webadmin

import "net/http"

// FaultControl reads and changes the daemon's fault injection.
type FaultControl interface {
	// TODO(chaos)
}

// chaosRoutes mounts the fault-injection part of the API.
func (s *Server) chaosRoutes(mux *http.ServeMux) {
	// TODO(chaos)
}
