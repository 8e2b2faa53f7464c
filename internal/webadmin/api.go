package webadmin

import "net/http"

// apiRoutes mounts the REST API under /api/.
func (s *Server) apiRoutes(mux *http.ServeMux) {
	// TODO(webapi)
}
