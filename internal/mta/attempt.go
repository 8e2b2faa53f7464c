package mta

import (
	"context"
	"path/filepath"
	"slices"
	"time"
)

// attempt tries every pending recipient of e once.
func (q *Queue) attempt(e *entry) {
	defer q.wg.Done()
	defer func() {
		q.mu.Lock()
		delete(q.running, e.ID)
		q.mu.Unlock()
		q.poke()
	}()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-q.stopCh:
			cancel()
		case <-ctx.Done():
		}
	}()
	msgPath := filepath.Join(q.dir, e.ID+".msg")
	results := q.deliverRemote(ctx, e, msgPath)
	if ctx.Err() != nil {
		// Stopping: what was delivered stays delivered, the rest is tried
		// again after the restart.
		q.forgetDelivered(e, results)
		return
	}
	var pending []string
	var failed []Failure
	for _, r := range e.Rcpts {
		res, ok := results[r]
		switch {
		case !ok || res.err == nil:
		case res.permanent:
			failed = append(failed, Failure{Addr: r, Reply: res.err.Error()})
		default:
			pending = append(pending, r)
			e.LastError = res.err.Error()
		}
	}
	if len(pending) > 0 && time.Since(e.Created) > q.expire() {
		for _, r := range pending {
			failed = append(failed, Failure{Addr: r, Reply: "gave up after " + q.expire().String() + ": " + e.LastError})
		}
		pending = nil
	}
	failed = slices.DeleteFunc(failed, func(f Failure) bool { return slices.Contains(e.Never, f.Addr) })
	if len(failed) > 0 {
		if e.From == "" {
			q.log.Warn("queue: bounce undeliverable; dropped", "id", e.ID, "failed", len(failed))
		} else if err := q.bounceFile(ctx, e.From, failed, msgPath); err != nil {
			// Keep the message so the bounce is tried again.
			q.log.Error("queue: could not queue a bounce", "id", e.ID, "err", err)
			for _, f := range failed {
				pending = append(pending, f.Addr)
			}
		}
	}
	if len(pending) == 0 {
		q.log.Info("queue: message done", "id", e.ID, "failed", len(failed))
		q.remove(e)
		return
	}
	q.mu.Lock()
	e.Rcpts = pending
	e.Attempts++
	e.Next = time.Now().Add(q.retryDelay(e.Attempts))
	q.mu.Unlock()
	q.log.Info("queue: delivery deferred", "id", e.ID, "pending", len(pending), "next", e.Next, "err", e.LastError)
	if err := q.save(e); err != nil {
		q.log.Error("queue: saving state", "id", e.ID, "err", err)
	}
}

// forgetDelivered drops from e, and from its saved state, the
// recipients results says were delivered, so that a stop in the middle
// of an attempt does not send them the message again.
func (q *Queue) forgetDelivered(e *entry, results map[string]rcptResult) {
	var left []string
	for _, r := range e.Rcpts {
		if res, ok := results[r]; !ok || res.err != nil {
			left = append(left, r)
		}
	}
	if len(left) == len(e.Rcpts) {
		return
	}
	q.mu.Lock()
	e.Rcpts = left
	q.mu.Unlock()
	if len(left) == 0 {
		q.remove(e)
		return
	}
	if err := q.save(e); err != nil {
		q.log.Error("queue: saving state", "id", e.ID, "err", err)
	}
}
