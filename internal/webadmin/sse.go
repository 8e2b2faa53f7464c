package webadmin

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// sseKeepAlive is how often an idle event stream sends a comment, so
// that proxies and browsers keep it open.
const sseKeepAlive = 25 * time.Second

// streamEvents writes events from s's EventSource that keep returns
// true for to w as server-sent events (event: the kind, data: the event
// as JSON, or what render returns for it when render is not nil) until
// the client goes away.
func (s *Server) streamEvents(w http.ResponseWriter, r *http.Request, keep func(Event) bool, render func(Event) (string, error)) {
	if s.cfg.Events == nil {
		http.Error(w, "no event source", http.StatusNotFound)
		return
	}
	rc := http.NewResponseController(w)
	events, stop := s.cfg.Events.Subscribe()
	defer stop()
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, ": plumb events\n\n")
	rc.Flush()
	tick := time.NewTicker(sseKeepAlive)
	defer tick.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-tick.C:
			fmt.Fprint(w, ": keep-alive\n\n")
		case ev, ok := <-events:
			if !ok {
				return
			}
			if keep != nil && !keep(ev) {
				continue
			}
			var data string
			if render != nil {
				d, err := render(ev)
				if err != nil {
					s.log.Warn("webadmin: rendering an event", "kind", ev.Kind, "err", err)
					continue
				}
				data = d
			} else {
				b, _ := json.Marshal(ev)
				data = string(b)
			}
			writeSSE(w, ev.Kind, data)
		}
		if err := rc.Flush(); err != nil {
			return
		}
	}
}

// writeSSE writes one server-sent event; each line of data becomes a
// data: line.
func writeSSE(w http.ResponseWriter, event, data string) {
	fmt.Fprintf(w, "event: %s\n", event)
	start := 0
	for i := 0; i < len(data); i++ {
		if data[i] == '\n' {
			fmt.Fprintf(w, "data: %s\n", data[start:i])
			start = i + 1
		}
	}
	fmt.Fprintf(w, "data: %s\n\n", data[start:])
}
