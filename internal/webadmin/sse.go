package webadmin

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
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
	io.WriteString(w, ": plumb events\n\n")
	rc.Flush()
	tick := time.NewTicker(sseKeepAlive)
	defer tick.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-tick.C:
			io.WriteString(w, ": keep-alive\n\n")
		case ev, ok := <-events:
			if !ok {
				return
			}
			if keep != nil && !keep(ev) {
				continue
			}
			frame := ""
			if render != nil {
				d, err := render(ev)
				if err != nil {
					s.log.Warn("webadmin: rendering an event", "kind", ev.Kind, "err", err)
					continue
				}
				frame = sseFrame(ev.Kind, d)
			} else {
				frame = eventFrames.get(ev)
			}
			io.WriteString(w, frame)
		}
		if err := rc.Flush(); err != nil {
			return
		}
	}
}

// sseFrame returns one server-sent event; each line of data becomes a
// data: line.
func sseFrame(event, data string) string {
	var b strings.Builder
	b.Grow(len(event) + len(data) + 16)
	b.WriteString("event: " + event + "\n")
	for line := range strings.Lines(data) {
		b.WriteString("data: " + strings.TrimSuffix(line, "\n") + "\n")
	}
	if data == "" || data[len(data)-1] == '\n' {
		b.WriteString("data: \n")
	}
	b.WriteString("\n")
	return b.String()
}

// eventFrames keeps the latest events' frames as the API's streams
// send them (the event as JSON): an event that goes to a thousand
// streams is encoded once, not once a stream.
var eventFrames = frameCache{items: map[Event]string{}}

// maxFrames bounds eventFrames; the events of one moment are a few.
const maxFrames = 64

type frameCache struct {
	mu    sync.Mutex
	items map[Event]string // an event is the same value in every stream it goes to
}

func (c *frameCache) get(ev Event) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if f, ok := c.items[ev]; ok {
		return f
	}
	b, _ := json.Marshal(ev)
	f := sseFrame(ev.Kind, string(b))
	if len(c.items) >= maxFrames {
		clear(c.items)
	}
	c.items[ev] = f
	return f
}
