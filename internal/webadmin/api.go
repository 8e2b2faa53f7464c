package webadmin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"slices"
	"strconv"
)

// Limits of the API.
const (
	maxJSONBody  = 1 << 20 // of a request's JSON body
	defaultLimit = 50      // messages, articles or log lines when limit is not given
	maxLimit     = 1000
)

// apiRoutes mounts the REST API under /api/. Every route here is in
// the OpenAPI document (openapi/*.json); TestOpenAPICoversRoutes checks.
func (s *Server) apiRoutes(mux *http.ServeMux) {
	s.hooks = newWebhooks(s.cfg.Events, s.cfg.Webhooks, s.cfg.WebhookRetry, s.log)
	s.openapi = openAPIDocument(s.log)
	h := func(pattern string, f func(w http.ResponseWriter, r *http.Request) error) { s.route(mux, pattern, f) }
	h("GET /api/openapi.json", s.getOpenAPI)

	h("GET /api/accounts", s.getAccounts)
	h("GET /api/accounts/{user}/folders", s.getFolders)
	h("GET /api/messages", s.getMessages)
	h("GET /api/messages/{user}/{folder}/{uid}", s.getMessage)
	h("DELETE /api/messages/{user}/{folder}/{uid}", s.deleteMessage)
	h("GET /api/messages/{user}/{folder}/{uid}/raw", s.getMessagePart("raw"))
	h("GET /api/messages/{user}/{folder}/{uid}/text", s.getMessagePart("text"))
	h("GET /api/messages/{user}/{folder}/{uid}/html", s.getMessagePart("html"))
	h("GET /api/messages/{user}/{folder}/{uid}/attachments/{index}", s.getAttachment)
	h("POST /api/messages/{user}/{folder}/{uid}/move", s.moveMessage)
	h("POST /api/messages/{user}/{folder}/{uid}/flags", s.flagMessage)
	h("POST /api/messages/{user}/{folder}/{uid}/release", s.releaseMessage)
	h("GET /api/wait", s.wait)
	h("GET /api/events", s.events)

	h("GET /api/files/{path...}", s.getFile)
	h("PUT /api/files/{path...}", s.putFile)
	h("DELETE /api/files/{path...}", s.deleteFile)

	h("GET /api/news/groups", s.getGroups)
	h("GET /api/news/groups/{group}/articles", s.getArticles)
	h("GET /api/news/groups/{group}/articles/{number}", s.getArticle)

	h("GET /api/users", s.getUsers)
	h("GET /api/services", s.getServices)
	h("GET /api/sessions", s.getSessions)
	h("DELETE /api/sessions/{id}", s.deleteSession)
	h("GET /api/metrics", s.getMetrics)
	h("GET /api/log", s.getLog)

	h("GET /api/webhooks", s.getWebhooks)
	h("POST /api/webhooks", s.postWebhook)
	h("DELETE /api/webhooks/{id}", s.deleteWebhook)

	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "no such API route: "+r.Method+" "+r.URL.Path+" (see /api/openapi.json)")
	})
}

// route mounts an API handler: its error is answered as JSON with the
// status its kind chooses (see fail), and the pattern is listed in
// Routes, which the OpenAPI test checks against the document. Every
// part of the API (chaos.go too) mounts its routes with it.
func (s *Server) route(mux *http.ServeMux, pattern string, f func(w http.ResponseWriter, r *http.Request) error) {
	s.routes = append(s.routes, pattern)
	mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		if err := f(w, r); err != nil {
			s.fail(w, r, err)
		}
	})
}

// apiError is an error with the status it answers.
type apiError struct {
	status int
	msg    string
}

func (e *apiError) Error() string { return e.msg }

func errorf(status int, format string, args ...any) error {
	return &apiError{status, fmt.Sprintf(format, args...)}
}

// errUnavailable is the answer for a part of the daemon that is not running.
func errUnavailable(what string) error {
	return errorf(http.StatusNotFound, "%s is not available: its service is not running", what)
}

// ErrorBody is every error's JSON.
type ErrorBody struct {
	Error string `json:"error"`
	Code  int    `json:"code"`
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, ErrorBody{msg, status})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}

// fail answers err with the status its kind chooses. Errors of no
// known kind are logged and answered with a generic message.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	var ae *apiError
	status := http.StatusInternalServerError
	switch {
	case errors.As(err, &ae):
		writeError(w, ae.status, ae.msg)
		return
	case errors.Is(err, ErrNotFound), errors.Is(err, fs.ErrNotExist):
		status = http.StatusNotFound
	case errors.Is(err, ErrBadRequest):
		status = http.StatusBadRequest
	case errors.Is(err, ErrConflict), errors.Is(err, fs.ErrExist):
		status = http.StatusConflict
	case errors.Is(err, ErrTooLarge):
		status = http.StatusRequestEntityTooLarge
	case errors.Is(err, fs.ErrPermission):
		status = http.StatusForbidden
	case errors.Is(err, context.Canceled) && r.Context().Err() != nil:
		return // the client went away
	default:
		s.log.Error("webadmin: request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		writeError(w, status, "internal error (see the daemon's log)")
		return
	}
	writeError(w, status, err.Error())
}

// readJSON decodes a request's JSON body into v. Only
// application/json is taken, so that a web page cannot make a
// browser send an API call as a simple (unchecked) cross-site form.
func readJSON(r *http.Request, v any) error {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		return errorf(http.StatusUnsupportedMediaType, "want Content-Type: application/json")
	}
	dec := json.NewDecoder(io.LimitReader(r.Body, maxJSONBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return errorf(http.StatusBadRequest, "bad JSON body: %v", err)
	}
	return nil
}

// intParam reads a non-negative integer query parameter, def when absent.
func intParam(r *http.Request, name string, def, max int) (int, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, errorf(http.StatusBadRequest, "%s=%q: want a number, 0 or more", name, v)
	}
	return min(n, max), nil
}

// page reads offset and limit.
func page(r *http.Request) (offset, limit int, err error) {
	if offset, err = intParam(r, "offset", 0, 1<<31-1); err != nil {
		return 0, 0, err
	}
	limit, err = intParam(r, "limit", defaultLimit, maxLimit)
	return offset, limit, err
}

// Routes returns the API's mux patterns ("GET /api/messages", ...).
func (s *Server) Routes() []string { return slices.Clone(s.routes) }

// OpenAPI returns the API's OpenAPI 3 document.
func (s *Server) OpenAPI() []byte { return slices.Clone(s.openapi) }

func (s *Server) getOpenAPI(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "application/json")
	w.Write(s.openapi)
	return nil
}
