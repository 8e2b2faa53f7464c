package daemon

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/plumbnet/plumb/internal/atomicfile"
	"github.com/plumbnet/plumb/internal/newsstore"
	"github.com/plumbnet/plumb/nntp"
)

// Backoff of a feed whose peer is down or refuses for now, and the
// default bound of each exchange with a peer (dial and greeting, one
// command and its answer, one article).
const (
	feedMinBackoff  = 500 * time.Millisecond
	feedMaxBackoff  = time.Minute
	feedTimeoutDflt = 2 * time.Minute
)

// newsFeeds pushes new articles to each push peer (streaming, or
// IHAVE where the peer does not stream) and polls each pull peer with
// NEWNEWS. A push feed's queue is the spool in arrival order and a
// cursor, <data>/news/feeds/<peer>.json, saved after each batch the
// peer answered: after a crash the feed offers again from the cursor
// and the peer's history refuses what it already has, so nothing is
// stored twice. What is not offered: an article that expired here
// before the peer was reachable, and one the peer refused for good
// (435/437/438/439, as the protocol means).
type newsFeeds struct {
	store     *newsstore.Store
	be        *nntpBackend
	dir       string
	host      string
	push      []string
	pull      []string
	pullEvery time.Duration
	log       *slog.Logger
	timeout   time.Duration // of each exchange; 0: feedTimeoutDflt
	maxArt    int64         // largest article pulled
	maxAge    time.Duration // oldest article pulled

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

type feedCursor struct {
	Seq   int64     `json:"seq,omitempty"`  // push: the last article the peer answered
	Since time.Time `json:"since,omitzero"` // pull: the last NEWNEWS time
}

func (f *newsFeeds) cursorPath(kind, peer string) string {
	return filepath.Join(f.dir, kind+"-"+strings.NewReplacer(":", "_", "/", "_", "[", "", "]", "").Replace(peer)+".json")
}

func (f *newsFeeds) load(path string) feedCursor {
	var c feedCursor
	if b, err := os.ReadFile(path); err == nil {
		json.Unmarshal(b, &c)
	}
	return c
}

func (f *newsFeeds) save(path string, c feedCursor) error {
	b, _ := json.Marshal(c)
	return atomicfile.WriteFile(path, b, 0o600)
}

// exchange bounds one exchange with a peer.
func (f *newsFeeds) exchange(ctx context.Context) (context.Context, context.CancelFunc) {
	t := f.timeout
	if t <= 0 {
		t = feedTimeoutDflt
	}
	return context.WithTimeout(ctx, t)
}

// dial connects to a peer within one exchange's time.
func (f *newsFeeds) dial(ctx context.Context, peer string) (*nntp.Client, error) {
	ex, cancel := f.exchange(ctx)
	defer cancel()
	return nntp.Dial(ex, peer)
}

// quit ends a session politely, within one exchange's time.
func (f *newsFeeds) quit(ctx context.Context, c *nntp.Client) {
	ex, cancel := f.exchange(ctx)
	defer cancel()
	c.Quit(ex)
}

func (f *newsFeeds) Start(ctx context.Context) error {
	if err := os.MkdirAll(f.dir, 0o700); err != nil {
		return err
	}
	run, cancel := context.WithCancel(context.Background())
	f.cancel = cancel
	for _, p := range f.push {
		f.wg.Add(1)
		go func() { defer f.wg.Done(); f.pushLoop(run, p) }()
	}
	for _, p := range f.pull {
		f.wg.Add(1)
		go func() { defer f.wg.Done(); f.pullLoop(run, p) }()
	}
	return nil
}

func (f *newsFeeds) Stop(ctx context.Context) error {
	f.cancel()
	done := make(chan struct{})
	go func() { f.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// sleep waits d or until ctx ends; it reports whether ctx is still live.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// pushLoop feeds one peer; "ihave:host:port" feeds it with IHAVE only.
func (f *newsFeeds) pushLoop(ctx context.Context, peer string) {
	path := f.cursorPath("push", peer)
	peer, ihaveOnly := strings.CutPrefix(peer, "ihave:")
	cur := f.load(path)
	backoff := time.Duration(0)
	var c *nntp.Client
	stream := false
	defer func() {
		if c != nil {
			c.Close()
		}
	}()
	for ctx.Err() == nil {
		changed := f.store.Changed()
		batch := f.store.After(cur.Seq, 100)
		if len(batch) == 0 {
			if c != nil {
				f.quit(ctx, c)
				c = nil
			}
			select {
			case <-changed:
			case <-ctx.Done():
				return
			}
			continue
		}
		if c == nil {
			var err error
			if c, err = f.dial(ctx, peer); err != nil {
				backoff = min(max(2*backoff, feedMinBackoff), feedMaxBackoff)
				f.log.Warn("nntp: feed peer unreachable; retrying", "peer", peer, "err", err, "delay", backoff)
				c = nil
				sleep(ctx, backoff)
				continue
			}
			ex, cancel := f.exchange(ctx)
			stream = !ihaveOnly && c.ModeStream(ex) == nil
			cancel()
		}
		sent, err := f.offer(ctx, c, stream, batch)
		if sent > 0 {
			cur.Seq = batch[sent-1].Seq
			if serr := f.save(path, cur); serr != nil {
				f.log.Error("nntp: saving the feed cursor", "peer", peer, "err", serr)
			}
			backoff = 0
		}
		if err != nil {
			c.Close()
			c = nil
			backoff = min(max(2*backoff, feedMinBackoff), feedMaxBackoff)
			f.log.Warn("nntp: feed interrupted; retrying", "peer", peer, "err", err, "delay", backoff)
			sleep(ctx, backoff)
		}
	}
}

// offer sends a batch in order and returns how many the peer answered
// for good (taken, or refused as unwanted or rejected); an error is a
// broken session or a "try again later".
func (f *newsFeeds) offer(ctx context.Context, c *nntp.Client, stream bool, batch []newsstore.Article) (int, error) {
	for i, a := range batch {
		rc, err := f.store.Open(a.MessageID)
		if err != nil {
			continue // expired meanwhile: nothing to offer
		}
		ex, cancel := f.exchange(ctx)
		if stream {
			err = c.TakeThis(ex, a.MessageID, rc)
		} else {
			err = c.IHave(ex, a.MessageID, rc)
		}
		cancel()
		rc.Close()
		var ne *nntp.Error
		switch {
		case err == nil:
		case errors.As(err, &ne) && (ne.Code == 435 || ne.Code == 437 || ne.Code == 438 || ne.Code == 439):
			// the peer has it, or will never take it
		default:
			return i, err
		}
	}
	return len(batch), nil
}

func (f *newsFeeds) pullLoop(ctx context.Context, peer string) {
	path := f.cursorPath("pull", peer)
	every := f.pullEvery
	if every <= 0 {
		every = time.Minute
	}
	for {
		cur := f.load(path)
		if err := f.pullOnce(ctx, peer, &cur); err != nil && ctx.Err() == nil {
			f.log.Warn("nntp: pulling from peer failed", "peer", peer, "err", err)
		} else if err == nil {
			f.save(path, cur)
		}
		if !sleep(ctx, every) {
			return
		}
	}
}

// pullOnce asks the peer for what arrived since the last poll (less a
// minute, for clocks apart) and takes the articles not seen here.
func (f *newsFeeds) pullOnce(ctx context.Context, peer string, cur *feedCursor) error {
	c, err := f.dial(ctx, peer)
	if err != nil {
		return err
	}
	defer c.Close()
	ex, cancel := f.exchange(ctx)
	c.ModeReader(ex)
	cancel()
	since := cur.Since.Add(-time.Minute)
	if cur.Since.IsZero() {
		since = time.Unix(0, 0)
	}
	started := time.Now()
	ex, cancel = f.exchange(ctx)
	ids, err := c.NewNews(ex, "*", since)
	cancel()
	if err != nil {
		return fmt.Errorf("NEWNEWS: %w", err)
	}
	maxArt := f.maxArt
	if maxArt <= 0 {
		maxArt = nntp.DefaultMaxArticleSize
	}
	for _, id := range ids {
		if !nntp.ValidMessageID(id) || f.store.Has(id) {
			continue
		}
		buf := cappedBuffer{max: maxArt}
		ex, cancel := f.exchange(ctx)
		_, _, err := c.Article(ex, id, &buf)
		cancel()
		if err != nil {
			if errors.Is(err, nntp.ErrNoSuchArticle) {
				continue
			}
			return err
		}
		if buf.over {
			f.log.Warn("nntp: pulled article over max_article_bytes, not stored", "peer", peer, "id", id)
			continue
		}
		a, perr := nntp.PrepareFed(buf.b.Bytes(), id, f.host, f.maxAge, 437)
		if perr != nil {
			f.log.Warn("nntp: pulled article refused", "peer", peer, "id", id, "why", perr.Msg)
			continue
		}
		if err := f.be.Post(ctx, a, "", true); err != nil && !errors.Is(err, nntp.ErrNotWanted) {
			f.log.Warn("nntp: pulled article not stored", "peer", peer, "id", id, "err", err)
		}
	}
	f.quit(ctx, c)
	cur.Since = started
	return nil
}

// cappedBuffer keeps up to max bytes and drops the rest, noting it,
// so that an oversized article is read to its end (the session stays
// in step) without being held.
type cappedBuffer struct {
	b    bytes.Buffer
	max  int64
	over bool
}

func (w *cappedBuffer) Write(p []byte) (int, error) {
	if w.over || int64(w.b.Len()+len(p)) > w.max {
		w.over = true
		return len(p), nil
	}
	return w.b.Write(p)
}
