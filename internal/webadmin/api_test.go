package webadmin

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plumbnet/plumb/internal/testkit"
)

// hub is an EventSource for tests.
type hub struct {
	mu   sync.Mutex
	subs []chan Event
}

func (h *hub) Subscribe() (<-chan Event, func()) {
	ch := make(chan Event, 16)
	h.mu.Lock()
	h.subs = append(h.subs, ch)
	h.mu.Unlock()
	return ch, func() {}
}

func (h *hub) publish(ev Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, ch := range h.subs {
		ch <- ev
	}
}

func (h *hub) subscribers() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.subs)
}

// memMail is one account's INBOX in memory.
type memMail struct {
	mu   sync.Mutex
	msgs []Summary
	raw  map[uint32]string
}

func (m *memMail) add(subject, to, body string) Summary {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := Summary{MessageRef: MessageRef{"alice", "INBOX", uint32(len(m.msgs) + 1)}, Subject: subject, To: []string{to},
		Received: time.Now(), Flags: []string{}}
	m.msgs = append(m.msgs, s)
	if m.raw == nil {
		m.raw = map[uint32]string{}
	}
	m.raw[s.UID] = "Subject: " + subject + "\r\nTo: " + to + "\r\n\r\n" + body
	return s
}

func (m *memMail) Accounts(context.Context) ([]string, error) { return []string{"alice"}, nil }
func (m *memMail) Folders(context.Context, string) ([]Folder, error) {
	return []Folder{{Name: "INBOX"}}, nil
}
func (m *memMail) List(ctx context.Context, user, folder string, q Query, offset, limit int) ([]Summary, int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var hits []Summary
	for i := len(m.msgs) - 1; i >= 0; i-- {
		s := m.msgs[i]
		if (q.Subject == "" || strings.Contains(s.Subject, q.Subject)) && (q.To == "" || strings.Contains(s.To[0], q.To)) && !s.Received.Before(q.Since) {
			hits = append(hits, s)
		}
	}
	if offset > len(hits) {
		return nil, len(hits), nil
	}
	return hits[offset:min(len(hits), offset+limit)], len(hits), nil
}
func (m *memMail) Open(ctx context.Context, r MessageRef) (io.ReadCloser, Summary, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	raw, ok := m.raw[r.UID]
	if !ok {
		return nil, Summary{}, ErrNotFound
	}
	return io.NopCloser(strings.NewReader(raw)), m.msgs[r.UID-1], nil
}
func (m *memMail) Delete(context.Context, MessageRef) error { return nil }
func (m *memMail) Move(context.Context, MessageRef, string) (MessageRef, error) {
	return MessageRef{}, ErrConflict
}
func (m *memMail) SetFlags(ctx context.Context, r MessageRef, add, remove []string) ([]string, error) {
	return nil, ErrBadRequest
}
func (m *memMail) Release(context.Context, MessageRef, []string) error { return nil }

type tokens map[string]string

func (t tokens) Token(ctx context.Context, tok string) (string, bool) { u, ok := t[tok]; return u, ok }

func serve(t *testing.T, s *Server, method, target, remote string, tls *tls.ConnectionState, hdr map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(method, target, nil)
	r.RemoteAddr, r.Host, r.TLS = remote, "127.0.0.1:10000", tls
	for k, v := range hdr {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	return w
}

func errorOf(t *testing.T, w *httptest.ResponseRecorder) ErrorBody {
	t.Helper()
	var e ErrorBody
	if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || e.Code != w.Code || e.Error == "" {
		t.Fatalf("error body %q (%v), status %d: want {error, code}", w.Body, err, w.Code)
	}
	return e
}

func TestAuth(t *testing.T) {
	s := New(Config{Mail: &memMail{}, Auth: tokens{"plumb_good": "alice"}})
	defer s.Close()
	state := &tls.ConnectionState{}
	for _, tc := range []struct {
		name, remote, host, auth string
		tls                      *tls.ConnectionState
		want                     int
		says                     string
	}{
		{"loopback", "127.0.0.1:5000", "127.0.0.1:10000", "", nil, 200, ""},
		{"loopback v6 localhost", "[::1]:5000", "localhost:10000", "", nil, 200, ""},
		{"rebound name", "127.0.0.1:5000", "evil.example:10000", "", nil, 403, "loopback"},
		{"remote plain", "192.0.2.7:5000", "plumb.test", "", nil, 403, "HTTPS"},
		{"remote plain with token", "192.0.2.7:5000", "plumb.test", "Bearer plumb_good", nil, 403, "HTTPS"},
		{"remote TLS no token", "192.0.2.7:5000", "plumb.test", "", state, 401, "Bearer"},
		{"remote TLS bad token", "192.0.2.7:5000", "plumb.test", "Bearer plumb_bad", state, 401, "operator"},
		{"remote TLS token", "192.0.2.7:5000", "plumb.test", "Bearer plumb_good", state, 200, ""},
		{"loopback bad token", "127.0.0.1:5000", "127.0.0.1", "Bearer plumb_bad", nil, 401, ""},
	} {
		r := httptest.NewRequest("GET", "/api/accounts", nil)
		r.RemoteAddr, r.Host, r.TLS = tc.remote, tc.host, tc.tls
		if tc.auth != "" {
			r.Header.Set("Authorization", tc.auth)
		}
		w := httptest.NewRecorder()
		s.ServeHTTP(w, r)
		if w.Code != tc.want {
			t.Errorf("%s: %d %s, want %d", tc.name, w.Code, w.Body, tc.want)
			continue
		}
		if tc.want != 200 && !strings.Contains(errorOf(t, w).Error, tc.says) {
			t.Errorf("%s: %q does not say %q", tc.name, w.Body, tc.says)
		}
	}
}

func TestErrorsAreJSON(t *testing.T) {
	s := New(Config{Mail: &memMail{}})
	defer s.Close()
	for _, tc := range []struct {
		method, target string
		hdr            map[string]string
		want           int
	}{
		{"GET", "/api/nothing", nil, 404},
		{"PATCH", "/api/accounts", nil, 404}, // the catch-all answers other methods too, in JSON
		{"GET", "/api/messages/alice/INBOX/9", nil, 404},
		{"GET", "/api/messages/alice/INBOX/x", nil, 400},
		{"GET", "/api/messages?limit=-1", nil, 400},
		{"GET", "/api/messages?header=nocolon", nil, 400},
		{"GET", "/api/messages?since=yesterday", nil, 400},
		{"POST", "/api/messages/alice/INBOX/1/flags", nil, 415}, // a cross-site form cannot call it
		{"POST", "/api/messages/alice/INBOX/1/flags", map[string]string{"Content-Type": "application/json"}, 400},
		{"GET", "/api/files/x", nil, 404}, // no file backend
		{"GET", "/api/events?kind=bogus", nil, 404},
	} {
		w := serve(t, s, tc.method, tc.target, "127.0.0.1:1", nil, tc.hdr)
		if w.Code != tc.want {
			t.Errorf("%s %s = %d %s, want %d", tc.method, tc.target, w.Code, w.Body, tc.want)
			continue
		}
		errorOf(t, w)
	}
}

func TestWait(t *testing.T) {
	mail, events := &memMail{}, &hub{}
	s := New(Config{Mail: mail, Events: events})
	defer s.Close()
	srv := httptest.NewServer(s)
	defer srv.Close()
	get := func(q string) (*http.Response, Summary) {
		resp, err := http.Get(srv.URL + "/api/wait?" + q)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m Summary
		json.NewDecoder(resp.Body).Decode(&m)
		return resp, m
	}
	old := mail.add("welcome", "alice@x", "hi")
	mail.add("password reset", "alice@x", "code 1")
	// Received before the call: found at once with since.
	resp, m := get("subject=welcome&since=" + old.Received.Add(-time.Second).Format(time.RFC3339Nano))
	if resp.StatusCode != 200 || m.UID != old.UID {
		t.Fatalf("wait with since = %d %+v, want the welcome mail", resp.StatusCode, m)
	}
	// Without since, only what arrives after the call.
	resp, _ = get("subject=welcome&timeout=50ms")
	if resp.StatusCode != http.StatusRequestTimeout {
		t.Fatalf("wait for an old mail without since = %d, want 408", resp.StatusCode)
	}
	done := make(chan Summary)
	before := events.subscribers()
	go func() { _, m := get("subject=reset&to=alice&timeout=10s"); done <- m }()
	testkit.Eventually(t, 5*time.Second, "the wait subscribed", func() bool { return events.subscribers() > before })
	events.publish(Event{Kind: "upload", Path: "x"}) // not a delivery
	mail.add("other", "bob@x", "")
	events.publish(Event{Kind: "delivery", Message: &MessageRef{"alice", "INBOX", 3}})
	want := mail.add("password reset", "alice@x", "code 2")
	events.publish(Event{Kind: "delivery", Message: &MessageRef{"alice", "INBOX", want.UID}})
	select {
	case m := <-done:
		if m.UID != want.UID {
			t.Errorf("wait = %+v, want UID %d", m, want.UID)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("wait did not answer the delivery")
	}
}

func TestEventStreamFilters(t *testing.T) {
	events := &hub{}
	s := New(Config{Events: events})
	defer s.Close()
	srv := httptest.NewServer(s)
	defer srv.Close()
	before := events.subscribers()
	resp, err := http.Get(srv.URL + "/api/events?kind=delivery,post&user=alice")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("Content-Type %q", ct)
	}
	testkit.Eventually(t, 5*time.Second, "the stream subscribed", func() bool { return events.subscribers() > before })
	events.publish(Event{Kind: "upload", Path: "x"})
	events.publish(Event{Kind: "delivery", Message: &MessageRef{"bob", "INBOX", 1}})
	events.publish(Event{Kind: "delivery", Message: &MessageRef{"alice", "INBOX", 7}})
	br := bufio.NewReader(resp.Body)
	var lines []string
	for len(lines) < 2 {
		l, err := br.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if l = strings.TrimSpace(l); strings.HasPrefix(l, "event:") || strings.HasPrefix(l, "data:") {
			lines = append(lines, l)
		}
	}
	if lines[0] != "event: delivery" || !strings.Contains(lines[1], `"user":"alice"`) || !strings.Contains(lines[1], `"uid":7`) {
		t.Errorf("stream = %q, want alice's delivery only", lines)
	}
}

func TestOpenAPIFragmentsMerge(t *testing.T) {
	var doc struct {
		OpenAPI    string                    `json:"openapi"`
		Paths      map[string]map[string]any `json:"paths"`
		Components struct {
			Schemas map[string]any `json:"schemas"`
		} `json:"components"`
	}
	s := New(Config{})
	defer s.Close()
	if err := json.Unmarshal(s.OpenAPI(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.OpenAPI != "3.0.3" || doc.Paths["/api/messages"]["get"] == nil || doc.Paths["/api/files/{path}"]["put"] == nil || doc.Components.Schemas["Summary"] == nil || doc.Components.Schemas["Error"] == nil {
		t.Errorf("merged document lacks parts: openapi %q, %d paths, %d schemas", doc.OpenAPI, len(doc.Paths), len(doc.Components.Schemas))
	}
	// Every $ref names a schema that is there.
	var refs func(v any)
	refs = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if r, ok := v["$ref"].(string); ok {
				if doc.Components.Schemas[strings.TrimPrefix(r, "#/components/schemas/")] == nil {
					t.Errorf("dangling $ref %s", r)
				}
			}
			for _, x := range v {
				refs(x)
			}
		case []any:
			for _, x := range v {
				refs(x)
			}
		}
	}
	var all any
	json.Unmarshal(s.OpenAPI(), &all)
	refs(all)
}

func TestLongRequestsBounded(t *testing.T) {
	defer func(n int64) { maxLong = n }(maxLong)
	maxLong = 1
	s := New(Config{Events: &hub{}, Mail: &memMail{}})
	defer s.Close()
	srv := httptest.NewServer(s)
	defer srv.Close()
	first, err := http.Get(srv.URL + "/api/events")
	if err != nil {
		t.Fatal(err)
	}
	second, err := http.Get(srv.URL + "/api/wait?timeout=1s")
	if err != nil {
		t.Fatal(err)
	}
	second.Body.Close()
	if second.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("a second long request = %d, want 503", second.StatusCode)
	}
	first.Body.Close()
	testkit.Eventually(t, 5*time.Second, "the stream's place given back", func() bool { return s.longCount.Load() == 0 })
	third, err := http.Get(srv.URL + "/api/wait?timeout=10ms")
	if err != nil {
		t.Fatal(err)
	}
	third.Body.Close()
	if third.StatusCode != http.StatusRequestTimeout {
		t.Errorf("after the stream closed, a wait = %d, want 408", third.StatusCode)
	}
}

// FuzzQuery: any query string gives a Query or a 400, and what parses
// keeps each header filter's name and value as given around the first
// colon.
func FuzzQuery(f *testing.F) {
	f.Add("q=code&header=X-Test:a:b&unseen=1&since=2026-01-02T03:04:05Z")
	f.Add("header=:x&unseen=maybe")
	f.Fuzz(func(t *testing.T, raw string) {
		r := httptest.NewRequest("GET", "/api/messages", nil)
		r.URL.RawQuery = raw
		q, err := query(r)
		if err != nil {
			var ae *apiError
			if !errors.As(err, &ae) || ae.status != http.StatusBadRequest {
				t.Fatalf("error %v is not a 400", err)
			}
			return
		}
		for _, h := range r.URL.Query()["header"] {
			name, val, _ := strings.Cut(h, ":")
			if got, ok := q.Header[strings.TrimSpace(name)]; !ok || (got != strings.TrimSpace(val) && len(r.URL.Query()["header"]) == 1) {
				t.Fatalf("header %q: parsed %v", h, q.Header)
			}
		}
	})
}
