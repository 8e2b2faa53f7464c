package webadmin

import "net/http"

// consoleRoutes mounts the console's pages.
func (s *Server) consoleRoutes(mux *http.ServeMux) {
	// TODO(console)
}
