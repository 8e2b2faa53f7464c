package webadmin

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/plumbnet/plumb/internal/chaos"
)

// FaultRule is one service's injected faults (see docs/CHAOS.md).
type FaultRule = chaos.Rule

// ErrUnknownService is what a FaultControl returns for a service the
// daemon does not run; the API answers 404.
var ErrUnknownService = errors.New("no such service")

// FaultControl reads and changes the daemon's fault injection. Every
// change takes effect at once, on open connections too.
type FaultControl interface {
	// Services lists the services rules can be set on.
	Services(ctx context.Context) ([]string, error)
	// Rules returns the active rules by service.
	Rules(ctx context.Context) (map[string]FaultRule, error)
	// Rule returns a service's rule, the zero one when it has none.
	Rule(ctx context.Context, service string) (FaultRule, error)
	// SetRule replaces a service's rule; a rule that fails its checks
	// is refused with an error that says why.
	SetRule(ctx context.Context, service string, r FaultRule) error
	// ClearRule removes a service's rule; "" clears every service's.
	ClearRule(ctx context.Context, service string) error
}

// maxRuleBody bounds a PUT /api/chaos/{service} body.
const maxRuleBody = 64 << 10

// chaosState is GET /api/chaos's answer.
type chaosState struct {
	Services []string             `json:"services"`
	Rules    map[string]FaultRule `json:"rules"`
}

// chaosRoutes mounts the fault-injection part of the API.
func (s *Server) chaosRoutes(mux *http.ServeMux) {
	fc := s.cfg.Faults
	if fc == nil {
		return
	}
	mux.HandleFunc("GET /api/chaos", func(w http.ResponseWriter, r *http.Request) {
		names, err := fc.Services(r.Context())
		if err != nil {
			s.chaosError(w, err)
			return
		}
		rules, err := fc.Rules(r.Context())
		if err != nil {
			s.chaosError(w, err)
			return
		}
		chaosJSON(w, http.StatusOK, chaosState{Services: names, Rules: rules})
	})
	mux.HandleFunc("DELETE /api/chaos", func(w http.ResponseWriter, r *http.Request) {
		if err := fc.ClearRule(r.Context(), ""); err != nil {
			s.chaosError(w, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /api/chaos/{service}", func(w http.ResponseWriter, r *http.Request) {
		rule, err := fc.Rule(r.Context(), r.PathValue("service"))
		if err != nil {
			s.chaosError(w, err)
			return
		}
		chaosJSON(w, http.StatusOK, rule)
	})
	mux.HandleFunc("PUT /api/chaos/{service}", func(w http.ResponseWriter, r *http.Request) {
		var rule FaultRule
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxRuleBody))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&rule); err != nil {
			chaosRefuse(w, http.StatusBadRequest, "the body is not a fault rule: "+err.Error())
			return
		}
		if _, err := dec.Token(); err != io.EOF {
			chaosRefuse(w, http.StatusBadRequest, "the body has more than one JSON value")
			return
		}
		service := r.PathValue("service")
		if err := fc.SetRule(r.Context(), service, rule); err != nil {
			s.chaosError(w, err)
			return
		}
		rule, err := fc.Rule(r.Context(), service)
		if err != nil {
			s.chaosError(w, err)
			return
		}
		chaosJSON(w, http.StatusOK, rule)
	})
	mux.HandleFunc("DELETE /api/chaos/{service}", func(w http.ResponseWriter, r *http.Request) {
		if err := fc.ClearRule(r.Context(), r.PathValue("service")); err != nil {
			s.chaosError(w, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

// chaosProblem is the body of a refused request, in the API's error
// shape: the message and the HTTP status.
type chaosProblem struct {
	Error string `json:"error"`
	Code  int    `json:"code"`
}

// invalidRule marks a rule refused by its checks: the client's mistake.
type invalidRule interface{ InvalidRule() bool }

func (s *Server) chaosError(w http.ResponseWriter, err error) {
	var inv invalidRule
	switch {
	case errors.Is(err, ErrUnknownService):
		chaosRefuse(w, http.StatusNotFound, err.Error())
	case errors.As(err, &inv) && inv.InvalidRule():
		chaosRefuse(w, http.StatusBadRequest, err.Error())
	default:
		s.log.Error("chaos API", "err", err)
		chaosRefuse(w, http.StatusInternalServerError, "internal error")
	}
}

func chaosRefuse(w http.ResponseWriter, status int, msg string) {
	chaosJSON(w, status, chaosProblem{msg, status})
}

func chaosJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}
