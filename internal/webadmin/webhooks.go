package webadmin

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// Webhook is a URL that is POSTed each event of the chosen kinds.
type Webhook struct {
	ID     string   `json:"id"`
	URL    string   `json:"url"`
	Events []string `json:"events"` // kinds; empty: every kind
	Secret string   `json:"secret,omitempty"`
}

// Limits of webhook delivery: how many POSTs may wait (more are
// dropped and logged), how many times one is tried, how many hooks
// there may be, and how long one POST may take.
const (
	webhookQueue    = 1000
	webhookAttempts = 5
	maxWebhooks     = 100
	webhookTimeout  = 10 * time.Second
	webhookWorkers  = 2
)

// defaultWebhookRetry is the wait before the first retry; each retry
// waits twice the one before.
const defaultWebhookRetry = time.Second

// SignatureHeader carries "sha256=" and the hex HMAC-SHA256 of the body
// with the webhook's secret.
const SignatureHeader = "X-Plumb-Signature"

// Sign returns the signature header's value for body with secret.
func Sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// webhooks POSTs events to the registered URLs: one subscription to
// the event source, a bounded queue, a few workers, and retries with
// doubling waits that never hold a worker.
type webhooks struct {
	log    *slog.Logger
	client *http.Client
	retry  time.Duration

	mu    sync.Mutex
	hooks []Webhook
	seq   int

	queue  chan webhookPost
	stop   chan struct{}
	wg     sync.WaitGroup
	closed sync.Once
}

// webhookPost is one event for one hook, and how often it was tried.
type webhookPost struct {
	hook    Webhook
	kind    string
	body    []byte
	attempt int
}

// newWebhooks starts delivering src's events to the configured hooks
// and those added later; a configured hook that is not valid is logged
// and left out (the daemon's config check refuses it first).
func newWebhooks(src EventSource, configured []Webhook, retry time.Duration, log *slog.Logger) *webhooks {
	if retry <= 0 {
		retry = defaultWebhookRetry
	}
	h := &webhooks{log: log, client: &http.Client{Timeout: webhookTimeout}, retry: retry,
		queue: make(chan webhookPost, webhookQueue), stop: make(chan struct{})}
	for _, c := range configured {
		if _, err := h.add(c); err != nil {
			log.Error("webhook left out", "err", err)
		}
	}
	if src == nil {
		return h
	}
	events, unsubscribe := src.Subscribe()
	h.wg.Add(1 + webhookWorkers)
	go func() {
		defer h.wg.Done()
		defer unsubscribe()
		for {
			select {
			case <-h.stop:
				return
			case ev, ok := <-events:
				if !ok {
					return
				}
				h.dispatch(ev)
			}
		}
	}()
	for range webhookWorkers {
		go h.work()
	}
	return h
}

// CheckWebhook reports what is wrong with a webhook's URL or kinds.
func CheckWebhook(w Webhook) error { return checkWebhook(w) }

// checkWebhook refuses a hook that cannot be POSTed to.
func checkWebhook(w Webhook) error {
	u, err := url.Parse(w.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%w: webhook url %q: want http:// or https:// and a host", ErrBadRequest, w.URL)
	}
	for _, k := range w.Events {
		if !slices.Contains(EventKinds, k) {
			return fmt.Errorf("%w: webhook event %q: want one of %s", ErrBadRequest, k, strings.Join(EventKinds, ", "))
		}
	}
	return nil
}

func (h *webhooks) add(w Webhook) (Webhook, error) {
	if err := checkWebhook(w); err != nil {
		return Webhook{}, err
	}
	if w.Events == nil {
		w.Events = []string{}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.hooks) >= maxWebhooks {
		return Webhook{}, fmt.Errorf("%w: at most %d webhooks", ErrConflict, maxWebhooks)
	}
	h.seq++
	var b [4]byte
	rand.Read(b[:])
	w.ID = fmt.Sprintf("%d-%x", h.seq, b)
	h.hooks = append(h.hooks, w)
	return w, nil
}

func (h *webhooks) remove(id string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := len(h.hooks)
	h.hooks = slices.DeleteFunc(h.hooks, func(w Webhook) bool { return w.ID == id })
	return len(h.hooks) < n
}

// list returns the hooks without their secrets.
func (h *webhooks) list() []Webhook {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]Webhook, len(h.hooks))
	for i, w := range h.hooks {
		w.Secret = ""
		out[i] = w
	}
	return out
}

// dispatch queues ev for every hook that wants its kind.
func (h *webhooks) dispatch(ev Event) {
	body, err := json.Marshal(ev)
	if err != nil {
		return
	}
	h.mu.Lock()
	hooks := slices.Clone(h.hooks)
	h.mu.Unlock()
	for _, w := range hooks {
		if len(w.Events) == 0 || slices.Contains(w.Events, ev.Kind) {
			h.enqueue(webhookPost{hook: w, kind: ev.Kind, body: body})
		}
	}
}

func (h *webhooks) enqueue(p webhookPost) {
	select {
	case h.queue <- p:
	default:
		h.log.Warn("webhook: queue full; event dropped", "url", p.hook.URL, "kind", p.kind, "queue", webhookQueue)
	}
}

func (h *webhooks) work() {
	defer h.wg.Done()
	for {
		select {
		case <-h.stop:
			return
		case p := <-h.queue:
			h.post(p)
		}
	}
}

// post sends p once; a failure is tried again later, up to
// webhookAttempts times in all.
func (h *webhooks) post(p webhookPost) {
	p.attempt++
	err := h.send(p)
	if err == nil {
		return
	}
	if p.attempt >= webhookAttempts {
		h.log.Warn("webhook: giving up", "url", p.hook.URL, "kind", p.kind, "attempts", p.attempt, "err", err)
		return
	}
	wait := h.retry << (p.attempt - 1)
	h.log.Info("webhook: failed; retrying", "url", p.hook.URL, "kind", p.kind, "attempt", p.attempt, "in", wait, "err", err)
	time.AfterFunc(wait, func() {
		select {
		case <-h.stop: // closed meanwhile
		default:
			h.enqueue(p)
		}
	})
}

func (h *webhooks) send(p webhookPost) error {
	req, err := http.NewRequest(http.MethodPost, p.hook.URL, bytes.NewReader(p.body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "plumb-webhook")
	req.Header.Set("X-Plumb-Event", p.kind)
	if p.hook.Secret != "" {
		req.Header.Set(SignatureHeader, Sign(p.hook.Secret, p.body))
	}
	resp, err := h.client.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("answered %s", resp.Status)
	}
	return nil
}

// close stops delivery; what is queued is dropped.
func (h *webhooks) close() {
	h.closed.Do(func() { close(h.stop) })
	h.wg.Wait()
}

// Close stops the Server's background work (webhook delivery).
func (s *Server) Close() error {
	if s.hooks != nil {
		s.hooks.close()
	}
	return nil
}

// WebhookList is GET /api/webhooks.
type WebhookList struct {
	Webhooks []Webhook `json:"webhooks"`
}

func (s *Server) getWebhooks(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, WebhookList{s.hooks.list()})
	return nil
}

func (s *Server) postWebhook(w http.ResponseWriter, r *http.Request) error {
	var req Webhook
	if err := readJSON(r, &req); err != nil {
		return err
	}
	if req.ID != "" {
		return errorf(http.StatusBadRequest, "id: the daemon chooses it")
	}
	hook, err := s.hooks.add(req)
	if err != nil {
		return err
	}
	hook.Secret = ""
	writeJSON(w, http.StatusCreated, hook)
	return nil
}

func (s *Server) deleteWebhook(w http.ResponseWriter, r *http.Request) error {
	if !s.hooks.remove(r.PathValue("id")) {
		return errorf(http.StatusNotFound, "no webhook %q", r.PathValue("id"))
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
