package webadmin

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"strings"

	"testing"

	"github.com/plumbnet/plumb/internal/chaos"
)

// memFaults is a FaultControl over chaos.Faults with a fixed service list.
type memFaults struct {
	f        *chaos.Faults
	services []string
}

func (m *memFaults) Services(context.Context) ([]string, error) { return m.services, nil }

func (m *memFaults) Rules(context.Context) (map[string]FaultRule, error) { return m.f.Rules(), nil }

func (m *memFaults) known(name string) error {
	for _, s := range m.services {
		if s == name {
			return nil
		}
	}
	return ErrUnknownService
}

func (m *memFaults) Rule(_ context.Context, name string) (FaultRule, error) {
	if err := m.known(name); err != nil {
		return FaultRule{}, err
	}
	if r := m.f.Service(name).Rule(); r != nil {
		return *r, nil
	}
	return FaultRule{}, nil
}

func (m *memFaults) SetRule(_ context.Context, name string, r FaultRule) error {
	if err := m.known(name); err != nil {
		return err
	}
	return m.f.Set(name, r)
}

func (m *memFaults) ClearRule(_ context.Context, name string) error {
	if name == "" {
		for n := range m.f.Rules() {
			m.f.Clear(n)
		}
		return nil
	}
	if err := m.known(name); err != nil {
		return err
	}
	m.f.Clear(name)
	return nil
}

func TestChaosRoutesMatchTheirOpenAPIFragment(t *testing.T) {
	b, err := os.ReadFile("openapi/chaos.json")
	if err != nil {
		t.Fatal(err)
	}
	var frag struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(b, &frag); err != nil {
		t.Fatalf("openapi/chaos.json: %v", err)
	}
	fc := &memFaults{f: chaos.New(slog.New(slog.DiscardHandler), nil), services: []string{"smtp", "ftp"}}
	srv := httptest.NewServer(New(Config{Faults: fc}))
	defer srv.Close()
	var documented []string
	for path, ops := range frag.Paths {
		for method := range ops {
			if method == "parameters" {
				continue
			}
			documented = append(documented, strings.ToUpper(method)+" "+path)
			url := srv.URL + strings.ReplaceAll(path, "{service}", "smtp")
			req, _ := http.NewRequest(strings.ToUpper(method), url, strings.NewReader(`{"latency":"1ms"}`))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode/100 != 2 {
				t.Errorf("%s %s = %d, want a success", method, path, resp.StatusCode)
			}
		}
	}
	sort.Strings(documented)
	want := []string{"DELETE /api/chaos", "DELETE /api/chaos/{service}", "GET /api/chaos", "GET /api/chaos/{service}", "PUT /api/chaos/{service}"}
	if strings.Join(documented, ",") != strings.Join(want, ",") {
		t.Errorf("documented %v, want %v", documented, want)
	}
}

func TestChaosErrorsHaveTheAPIShape(t *testing.T) {
	fc := &memFaults{f: chaos.New(slog.New(slog.DiscardHandler), nil), services: []string{"smtp"}}
	srv := httptest.NewServer(New(Config{Faults: fc}))
	defer srv.Close()
	for _, c := range []struct {
		path, body string
		want       int
	}{
		{"/api/chaos/smtp", `{"drop_probability":2}`, 400},
		{"/api/chaos/smtp", `{"latency":"1s"} {}`, 400},
		{"/api/chaos/smtp", `[1]`, 400},
		{"/api/chaos/nosuch", `{}`, 404},
	} {
		req, _ := http.NewRequest("PUT", srv.URL+c.path, strings.NewReader(c.body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var e struct {
			Error string `json:"error"`
			Code  int    `json:"code"`
		}
		if resp.StatusCode != c.want || json.Unmarshal(b, &e) != nil || e.Code != c.want || e.Error == "" {
			t.Errorf("PUT %s %s = %d %s, want %d with {error, code}", c.path, c.body, resp.StatusCode, b, c.want)
		}
	}
	if fc.f.Service("smtp").Rule() != nil {
		t.Error("a refused rule was stored")
	}
}

func TestNoFaultControlNoRoutes(t *testing.T) {
	srv := httptest.NewServer(New(Config{}))
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/api/chaos")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Errorf("GET /api/chaos without Faults = %d, want 404", resp.StatusCode)
	}
}
