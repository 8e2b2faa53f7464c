package daemon

import (
	"context"
	"encoding/hex"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/plumbnet/plumb/internal/mailstore"
)

// The console's summaries are made before anyone searches: a message
// that enters a folder through plumb (a delivery, an APPEND, a move) is
// summarized as it arrives, from the event hub, off the reply path; a
// folder whose messages arrived behind plumb is summarized in one
// background pass when it is first listed, or at start when it has a
// summary file. A search that comes while a pass runs waits for it.

// arrivalQueue is how many arrivals may wait to be summarized; more are
// dropped, and summarized when a list or search needs them.
const arrivalQueue = 4096

// arrival is a message that entered a folder.
type arrival struct {
	user, folder string
	uid          uint32
	delivery     bool // a new message for sure (not a flag change)
}

// indexer summarizes arrivals and runs the background passes, with at
// most reads message files open at once.
type indexer struct {
	ctx      context.Context
	cancel   context.CancelFunc
	mu       sync.Mutex // guards closed, and wg.Add against stop's Wait
	closed   bool
	wg       sync.WaitGroup
	reads    chan struct{} // a token per message read at once
	arrivals chan arrival
	dropped  atomic.Uint64 // arrivals left to be summarized lazily
	read     atomic.Uint64 // messages read to be summarized
}

// goAdd counts a goroutine about to start, unless the indexer stopped.
func (x *indexer) goAdd() bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	if !x.closed {
		x.wg.Add(1)
	}
	return !x.closed
}

// stop ends the indexer's work and waits for it.
func (x *indexer) stop() {
	x.mu.Lock()
	x.closed = true
	x.mu.Unlock()
	x.cancel()
	x.wg.Wait()
}

func newIndexer() *indexer {
	ctx, cancel := context.WithCancel(context.Background())
	return &indexer{ctx: ctx, cancel: cancel,
		reads:    make(chan struct{}, min(runtime.GOMAXPROCS(0), 8)),
		arrivals: make(chan arrival, arrivalQueue)}
}

// readSummary is the package's readSummary, counted and bounded.
func (x *indexer) readSummary(m mailstore.Message) *summary {
	x.reads <- struct{}{}
	defer func() { <-x.reads }()
	x.read.Add(1)
	return readSummary(m)
}

// summarizeFile is the package's summarizeFile, counted and bounded.
func (x *indexer) summarizeFile(f *os.File, size int64) *summary {
	x.reads <- struct{}{}
	defer func() { <-x.reads }()
	x.read.Add(1)
	return summarizeFile(f, size)
}

// start subscribes to the daemon's events and starts the passes of the
// folders that have a summary file.
func (w *webMail) start() {
	x := w.idx
	events, stop := w.d.hub().Subscribe()
	x.wg.Add(2) // before anyone can stop x
	go func() { // only moves events to the queue: never falls behind the hub
		defer x.wg.Done()
		defer stop()
		for {
			select {
			case <-x.ctx.Done():
				return
			case ev := <-events:
				if (ev.Kind != "delivery" && ev.Kind != "mail-change") || ev.Message == nil {
					continue
				}
				x.enqueue(arrival{ev.Message.User, ev.Message.Folder, ev.Message.UID, ev.Kind == "delivery"})
			}
		}
	}()
	go func() {
		defer x.wg.Done()
		dirty := map[*webFolder]bool{} // written to the files when the queue is empty
		for {
			select {
			case <-x.ctx.Done():
				flushAll(dirty)
				return
			case a := <-x.arrivals:
				if v := w.arrived(a); v != nil {
					dirty[v] = true
				}
				if len(x.arrivals) == 0 || len(dirty) >= 256 {
					flushAll(dirty)
				}
			}
		}
	}()
	if w.d.DataDir() == "" {
		return
	}
	for _, f := range summaryFiles(w.d.DataDir()) {
		if user, err := w.account(f[0]); err != nil || user != f[0] {
			continue // an account removed since: its inbox is not made again
		}
		if v, err := w.view(f[0], f[1]); err == nil {
			v.mu.Lock()
			w.startPass(v)
			v.mu.Unlock()
		}
	}
}

// enqueue queues a to be summarized, or drops it when the queue is full.
func (x *indexer) enqueue(a arrival) bool {
	select {
	case x.arrivals <- a:
		return true
	default:
		x.dropped.Add(1)
		return false
	}
}

// flushAll writes the folders' new summaries to their files.
func flushAll(folders map[*webFolder]bool) {
	for v := range folders {
		v.mu.Lock()
		v.flush()
		v.mu.Unlock()
		delete(folders, v)
	}
}

// summaryFiles returns the user and folder of each summary file. A
// file of the JSON lines of before (".jsonl") is removed, and its
// folder returned: its pass makes the summaries again, once.
func summaryFiles(data string) [][2]string {
	var out [][2]string
	seen := map[[2]string]bool{}
	for _, ext := range []string{".sum", ".jsonl"} {
		paths, _ := filepath.Glob(filepath.Join(data, "webadmin", "summaries", "*", "*"+ext))
		for _, p := range paths {
			if ext == ".jsonl" {
				os.Remove(p)
			}
			name, err := hex.DecodeString(strings.TrimSuffix(filepath.Base(p), ext))
			f := [2]string{filepath.Base(filepath.Dir(p)), string(name)}
			if err == nil && len(name) > 0 && !seen[f] {
				seen[f] = true
				out = append(out, f)
			}
		}
	}
	return out
}

// arrived summarizes one arrival, unless it is summarized already, and
// returns its folder if it did. A delivery to a folder whose summaries
// are not loaded is only appended to its file; any other change loads
// them, to tell a new message from a known one.
func (w *webMail) arrived(a arrival) *webFolder {
	user, err := w.account(a.user)
	if err != nil {
		return nil
	}
	v, err := w.view(user, a.folder)
	if err != nil {
		return nil
	}
	mb, err := w.store.Mailbox(w.idx.ctx, user, a.folder)
	if err != nil {
		return nil
	}
	f, err := mb.Open(a.uid) // read from this open file, even if a flag change renames it
	mb.Close()
	if err != nil {
		return nil
	}
	defer f.Close()
	key, _, _ := strings.Cut(filepath.Base(f.Name()), ":") // Maildir's unique part, as mailstore.Message.Key
	fi, err := f.Stat()
	if err != nil {
		return nil
	}
	v.mu.Lock()
	if !v.loaded && !a.delivery {
		v.load()
	}
	have := v.sums.ref(key) != noRef
	v.mu.Unlock()
	if have {
		return nil
	}
	s := w.idx.summarizeFile(f, fi.Size())
	v.mu.Lock()
	defer v.mu.Unlock()
	v.keep(key, s)
	return v
}

// startPass starts v's background pass unless one runs. Called with
// v.mu held.
func (w *webMail) startPass(v *webFolder) {
	if v.pass != nil || !w.idx.goAdd() {
		return
	}
	done := make(chan struct{})
	v.pass = done
	go func() {
		defer w.idx.wg.Done()
		defer close(done)
		w.runPass(v)
		v.mu.Lock()
		v.pass = nil
		v.mu.Unlock()
	}()
}

// runPass summarizes every message of v not summarized yet, with the
// indexer's workers, v.mu not held while it reads (the first page is
// answered meanwhile).
func (w *webMail) runPass(v *webFolder) {
	ctx := w.idx.ctx
	v.mu.Lock()
	msgs, err := v.list(ctx, w)
	var missing []mailstore.Message
	if err == nil {
		missing = v.missing(msgs)
	}
	v.mu.Unlock()
	if len(missing) == 0 {
		return
	}
	start := time.Now()
	out := make([][]byte, len(missing)) // records, encoded here, not with v.mu held
	done := make([]bool, len(missing))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range cap(w.idx.reads) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1) - 1); i < len(missing) && ctx.Err() == nil; i = int(next.Add(1) - 1) {
				out[i] = encodeRecord(missing[i].Key, w.idx.readSummary(missing[i]))
				done[i] = true
			}
		}()
	}
	wg.Wait()
	v.mu.Lock()
	defer v.mu.Unlock()
	n := 0
	for i, m := range missing {
		if done[i] {
			v.keepRecord(m.Key, out[i])
			n++
		}
	}
	v.flush()
	w.d.log.Info("admin: summarized a folder for the console", "user", v.user, "folder", v.folder,
		"messages", n, "took", time.Since(start).Round(time.Millisecond))
}

// missing returns the messages of msgs without a summary. Called with
// v.mu held.
func (v *webFolder) missing(msgs []mailstore.Message) []mailstore.Message {
	var out []mailstore.Message
	refs := v.refsFor(msgs)
	for i, m := range msgs {
		if refs[i] != noRef {
			continue
		}
		if refs[i] = v.sums.ref(m.Key); refs[i] == noRef { // kept since refs were found?
			out = append(out, m)
		}
	}
	return out
}

// refsFor returns where in v.sums the summary of each of msgs is
// (noRef: not kept when looked for), finding only those of messages
// appended since the last call: a search of 100,000 then hashes no key
// and looks nothing up. msgs is a listing of v's (a later one shares
// the earlier one's start when it only appended to it); a place stays
// good until sums copies its records. Called with v.mu held.
func (v *webFolder) refsFor(msgs []mailstore.Message) []uint64 {
	n := 0
	if v.refsGen == v.sums.gen && len(v.refsOf) > 0 && len(msgs) >= len(v.refsOf) && &msgs[0] == &v.refsOf[0] {
		n = len(v.refsOf)
	}
	refs := v.refs[:n]
	prev := noRef
	if n > 0 {
		prev = refs[n-1]
	}
	for _, m := range msgs[n:] {
		prev = v.sums.refAfter(prev, m.Key)
		refs = append(refs, prev)
	}
	v.refs, v.refsOf, v.refsGen = refs, msgs, v.sums.gen
	return refs
}

// await waits, v.mu held (and given up meanwhile), for v's background
// pass to end.
func (v *webFolder) await(ctx context.Context) error {
	for v.pass != nil {
		p := v.pass
		v.mu.Unlock()
		select {
		case <-p:
		case <-ctx.Done():
		}
		v.mu.Lock()
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	return nil
}

// summaryStats is what the indexer counted, for tests and logs.
func (w *webMail) summaryStats() (read, dropped uint64) {
	return w.idx.read.Load(), w.idx.dropped.Load()
}
