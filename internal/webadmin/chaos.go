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
	s.route(mux, "GET /api/chaos", func(w http.ResponseWriter, r *http.Request) error {
		names, err := fc.Services(r.Context())
		if err != nil {
			return chaosError(err)
		}
		rules, err := fc.Rules(r.Context())
		if err != nil {
			return chaosError(err)
		}
		writeJSON(w, http.StatusOK, chaosState{Services: names, Rules: rules})
		return nil
	})
	s.route(mux, "DELETE /api/chaos", func(w http.ResponseWriter, r *http.Request) error {
		if err := fc.ClearRule(r.Context(), ""); err != nil {
			return chaosError(err)
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
	s.route(mux, "GET /api/chaos/{service}", func(w http.ResponseWriter, r *http.Request) error {
		rule, err := fc.Rule(r.Context(), r.PathValue("service"))
		if err != nil {
			return chaosError(err)
		}
		writeJSON(w, http.StatusOK, rule)
		return nil
	})
	s.route(mux, "PUT /api/chaos/{service}", func(w http.ResponseWriter, r *http.Request) error {
		var rule FaultRule
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxRuleBody))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&rule); err != nil {
			return errorf(http.StatusBadRequest, "the body is not a fault rule: %v", err)
		}
		if _, err := dec.Token(); err != io.EOF {
			return errorf(http.StatusBadRequest, "the body has more than one JSON value")
		}
		service := r.PathValue("service")
		if err := fc.SetRule(r.Context(), service, rule); err != nil {
			return chaosError(err)
		}
		rule, err := fc.Rule(r.Context(), service)
		if err != nil {
			return chaosError(err)
		}
		writeJSON(w, http.StatusOK, rule)
		return nil
	})
	s.route(mux, "DELETE /api/chaos/{service}", func(w http.ResponseWriter, r *http.Request) error {
		if err := fc.ClearRule(r.Context(), r.PathValue("service")); err != nil {
			return chaosError(err)
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
}

// invalidRule marks a rule refused by its checks: the client's mistake.
type invalidRule interface{ InvalidRule() bool }

// chaosError gives a backend error its status: an unknown service is
// 404, a rule its checks refuse is 400; anything else is the API's
// generic, logged failure.
func chaosError(err error) error {
	var inv invalidRule
	switch {
	case errors.Is(err, ErrUnknownService):
		return errorf(http.StatusNotFound, "%v", err)
	case errors.As(err, &inv) && inv.InvalidRule():
		return errorf(http.StatusBadRequest, "%v", err)
	}
	return err
}
