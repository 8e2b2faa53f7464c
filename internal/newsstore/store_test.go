package newsstore

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

func article(id string, groups ...string) Incoming {
	data := fmt.Sprintf("Path: test\r\nFrom: a@example.org\r\nNewsgroups: %s\r\nSubject: s %s\r\nMessage-ID: %s\r\n\r\nbody\r\nline 2\r\n",
		strings.Join(groups, ","), id, id)
	return Incoming{Overview: Overview{MessageID: id, Subject: "s " + id, From: "a@example.org"}, Groups: groups, Data: []byte(data)}
}

func open(t *testing.T, dir string) *Store {
	t.Helper()
	s, err := Open(dir)
	if err != nil {
		t.Fatalf("Open(%s): %v", dir, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestCrossPostStoredOnceAndNumbered(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	for _, g := range []string{"a.one", "a.two"} {
		if err := s.AddGroup(GroupConfig{Name: g}); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	if _, err := s.Add(ctx, article("<1@x>", "a.one")); err != nil {
		t.Fatal(err)
	}
	a, err := s.Add(ctx, article("<2@x>", "a.one", "a.two", "not.here"))
	if err != nil {
		t.Fatal(err)
	}
	if a.Number("a.one") != 2 || a.Number("a.two") != 1 {
		t.Errorf("numbers = %v, want a.one:2 a.two:1", a.Numbers)
	}
	if a.Xref != "localhost a.one:2 a.two:1" {
		t.Errorf("Xref = %q", a.Xref)
	}
	if _, err := s.Add(ctx, article("<2@x>", "a.two")); !errors.Is(err, ErrDuplicate) {
		t.Errorf("Add(duplicate) = %v, want ErrDuplicate", err)
	}
	if _, err := s.Add(ctx, article("<3@x>", "not.here")); !errors.Is(err, ErrNoGroups) {
		t.Errorf("Add(no group) = %v, want ErrNoGroups", err)
	}
	files := 0
	subs, _ := os.ReadDir(dir + "/articles")
	for _, sub := range subs {
		f, _ := os.ReadDir(dir + "/articles/" + sub.Name())
		files += len(f)
	}
	if files != 2 {
		t.Errorf("article files = %d, want 2 (a cross-post stored once)", files)
	}
	rc, err := s.Open("<2@x>")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(rc)
	rc.Close()
	if !strings.HasPrefix(string(b), "Xref: localhost a.one:2 a.two:1\r\nPath: test\r\n") {
		t.Errorf("stored article starts %q", b[:40])
	}
	if int64(len(b)) != a.Bytes || a.Lines != 2 {
		t.Errorf("Bytes, Lines = %d, %d; want %d, 2", a.Bytes, a.Lines, len(b))
	}
	g, _ := s.Group("a.one")
	if g.Low != 1 || g.High != 2 || g.Count != 2 {
		t.Errorf("Group(a.one) = %d-%d (%d), want 1-2 (2)", g.Low, g.High, g.Count)
	}
	s.Close()

	s = open(t, dir)
	g, _ = s.Group("a.two")
	if g.Low != 1 || g.High != 1 || g.Count != 1 {
		t.Errorf("after reopen Group(a.two) = %d-%d (%d), want 1-1 (1)", g.Low, g.High, g.Count)
	}
	if a, err := s.At("a.one", 2); err != nil || a.MessageID != "<2@x>" {
		t.Errorf("At(a.one, 2) = %v, %v", a.MessageID, err)
	}
	if a, err := s.Add(ctx, article("<4@x>", "a.one")); err != nil || a.Number("a.one") != 3 {
		t.Errorf("Add after reopen = %v, %v; want number 3", a.Numbers, err)
	}
}

func TestRetentionAndHistory(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s := open(t, dir)
	s.Now = func() time.Time { return now }
	s.HistoryKeep = 48 * time.Hour
	s.AddGroup(GroupConfig{Name: "count", MaxCount: 2})
	s.AddGroup(GroupConfig{Name: "age", MaxAge: time.Hour})
	ctx := context.Background()
	for i := 1; i <= 3; i++ {
		if _, err := s.Add(ctx, article(fmt.Sprintf("<c%d@x>", i), "count")); err != nil {
			t.Fatal(err)
		}
	}
	s.Add(ctx, article("<old@x>", "age"))
	now = now.Add(2 * time.Hour)
	s.Add(ctx, article("<new@x>", "age"))
	n, err := s.Expire()
	if err != nil || n != 2 {
		t.Fatalf("Expire() = %d, %v; want 2", n, err)
	}
	if nums, _ := s.Numbers("count", 1, -1); fmt.Sprint(nums) != "[2 3]" {
		t.Errorf("count numbers = %v, want [2 3]", nums)
	}
	if nums, _ := s.Numbers("age", 1, -1); fmt.Sprint(nums) != "[2]" {
		t.Errorf("age numbers = %v, want [2]", nums)
	}
	if _, err := s.Add(ctx, article("<old@x>", "age")); !errors.Is(err, ErrDuplicate) {
		t.Errorf("Add(expired id within history) = %v, want ErrDuplicate", err)
	}
	s.Close()
	s = open(t, dir)
	s.Now = func() time.Time { return now }
	s.HistoryKeep = 48 * time.Hour
	if !s.Has("<c1@x>") {
		t.Errorf("history forgot <c1@x> across reopen")
	}
	if _, err := s.ByID("<c1@x>"); !errors.Is(err, ErrNoArticle) {
		t.Errorf("ByID(expired) = %v, want ErrNoArticle", err)
	}
	now = now.Add(72 * time.Hour)
	s.Expire()
	if s.Has("<c1@x>") {
		t.Errorf("history still has <c1@x> after HistoryKeep")
	}
	if _, err := s.Add(ctx, article("<c1@x>", "count")); err != nil {
		t.Errorf("Add(id forgotten by history) = %v", err)
	}
}

func TestDeleteGroup(t *testing.T) {
	s := open(t, t.TempDir())
	s.AddGroup(GroupConfig{Name: "x"})
	s.AddGroup(GroupConfig{Name: "y"})
	ctx := context.Background()
	s.Add(ctx, article("<only@x>", "x"))
	s.Add(ctx, article("<both@x>", "x", "y"))
	if err := s.DeleteGroup("x"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ByID("<only@x>"); !errors.Is(err, ErrNoArticle) {
		t.Errorf("ByID(only in deleted group) = %v, want ErrNoArticle", err)
	}
	if a, err := s.ByID("<both@x>"); err != nil || len(a.Numbers) != 1 {
		t.Errorf("ByID(cross-posted) = %v, %v; want one number left", a.Numbers, err)
	}
	if err := s.AddGroup(GroupConfig{Name: "bad name"}); !errors.Is(err, ErrBadName) {
		t.Errorf("AddGroup(bad name) = %v", err)
	}
}

// TestAcknowledgedSurvivesSIGKILL runs a child process that adds
// articles and prints each Message-ID once Add returned (the moment a
// server answers 240/235/239), kills it with SIGKILL mid-stream, and
// checks that every printed article is in the reopened store.
func TestAcknowledgedSurvivesSIGKILL(t *testing.T) {
	if os.Getenv("NEWSSTORE_CHILD") != "" {
		crashChild(os.Getenv("NEWSSTORE_CHILD"))
		return
	}
	dir := t.TempDir()
	s := open(t, dir)
	s.AddGroup(GroupConfig{Name: "crash.test"})
	s.Close()
	cmd := exec.Command(os.Args[0], "-test.run=^TestAcknowledgedSurvivesSIGKILL$")
	cmd.Env = append(os.Environ(), "NEWSSTORE_CHILD="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var acked []string
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if id, ok := strings.CutPrefix(sc.Text(), "ACK "); ok {
			acked = append(acked, id)
			if len(acked) == 40 {
				cmd.Process.Signal(syscall.SIGKILL)
				break
			}
		}
	}
	cmd.Wait()
	if len(acked) < 40 {
		t.Fatalf("child acknowledged %d articles before it ended, want 40", len(acked))
	}
	s = open(t, dir)
	for _, id := range acked {
		if _, err := s.ByID(id); err != nil {
			t.Errorf("acknowledged %s lost after SIGKILL: %v", id, err)
		}
	}
	nums, _ := s.Numbers("crash.test", 1, -1)
	seen := map[int64]bool{}
	for _, n := range nums {
		if seen[n] {
			t.Errorf("number %d twice", n)
		}
		seen[n] = true
	}
	if _, err := s.Add(context.Background(), article("<after@x>", "crash.test")); err != nil {
		t.Errorf("Add after the crash: %v", err)
	}
}

func crashChild(dir string) {
	s, err := Open(dir)
	if err != nil {
		fmt.Println("ERR", err)
		os.Exit(1)
	}
	for i := 0; ; i++ {
		id := fmt.Sprintf("<%d@crash>", i)
		if _, err := s.Add(context.Background(), article(id, "crash.test")); err != nil {
			fmt.Println("ERR", err)
			os.Exit(1)
		}
		fmt.Println("ACK " + id)
	}
}

// TestConcurrentAddsGroupCommit: arrivals at once share journal
// fsyncs; every one is numbered once, duplicates refused, and all is
// there after reopening.
func TestConcurrentAddsGroupCommit(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	s.AddGroup(GroupConfig{Name: "g"})
	var wg sync.WaitGroup
	var dups atomic.Int64
	var mu sync.Mutex
	won := map[string]string{} // id -> the Path of the worker told it was stored
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 25 {
				// Every id is tried by two workers, with different bytes.
				in := article(fmt.Sprintf("<%d.%d@c>", w/2, i), "g")
				path := fmt.Sprintf("Path: worker%d", w)
				in.Data = []byte(strings.Replace(string(in.Data), "Path: test", path, 1))
				_, err := s.Add(context.Background(), in)
				if errors.Is(err, ErrDuplicate) {
					dups.Add(1)
				} else if err != nil {
					t.Error(err)
				} else {
					mu.Lock()
					won[in.MessageID] = path
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	for id, path := range won {
		rc, err := s.Open(id)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		if !strings.Contains(string(b), path+"\r\n") {
			t.Errorf("stored %s = %q, want the acknowledged arrival's (%s)", id, b, path)
		}
	}
	if dups.Load() != 100 {
		t.Errorf("duplicates refused = %d, want 100", dups.Load())
	}
	check := func(s *Store) {
		nums, _ := s.Numbers("g", 1, -1)
		if len(nums) != 100 {
			t.Fatalf("numbers = %d, want 100", len(nums))
		}
		seqs := map[int64]bool{}
		for _, n := range nums {
			a, err := s.At("g", n)
			if err != nil || seqs[a.Seq] {
				t.Fatalf("At(g, %d) = seq %d, %v (repeated or missing)", n, a.Seq, err)
			}
			seqs[a.Seq] = true
		}
	}
	check(s)
	s.Close()
	check(open(t, dir))
}

// TestSeqSurvivesCompaction: the arrival counter is kept even when
// the articles that carried it expired, so that a number a push feed's
// cursor passed is never given again.
func TestSeqSurvivesCompaction(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	s.AddGroup(GroupConfig{Name: "g"})
	s.AddGroup(GroupConfig{Name: "h"})
	var last int64
	for i := range 3 {
		a, err := s.Add(context.Background(), article(fmt.Sprintf("<%d@seq>", i), "g"))
		if err != nil {
			t.Fatal(err)
		}
		last = a.Seq
	}
	if err := s.DeleteGroup("g"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	open(t, dir).Close() // compacts: the articles are gone
	s = open(t, dir)     // replays the compacted journal
	a, err := s.Add(context.Background(), article("<new@seq>", "h"))
	if err != nil {
		t.Fatal(err)
	}
	if a.Seq <= last {
		t.Errorf("Seq after two reopenings = %d, want > %d", a.Seq, last)
	}
}

// TestDamagedJournal: a torn last line is ignored; an unreadable line
// in the middle makes Open fail and deletes no article.
func TestDamagedJournal(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	s.AddGroup(GroupConfig{Name: "g"})
	for _, id := range []string{"<1@j>", "<2@j>"} {
		if _, err := s.Add(context.Background(), article(id, "g")); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	jp := dir + "/journal"
	j, _ := os.ReadFile(jp)
	os.WriteFile(jp, append(append([]byte{}, j...), `{"op":"art","art":{"m":"<3@j>"`...), 0o600)
	s = open(t, dir)
	if !s.Has("<1@j>") || !s.Has("<2@j>") {
		t.Fatalf("articles lost after a torn last line")
	}
	s.Close()
	j, _ = os.ReadFile(jp)
	i := strings.Index(string(j), `{"op":"art"`)
	if i < 0 {
		t.Fatalf("journal %q has no article", j)
	}
	j[i] = '#'
	os.WriteFile(jp, j, 0o600)
	if s, err := Open(dir); err == nil {
		s.Close()
		t.Fatalf("Open with a damaged middle line succeeded")
	}
	files := 0
	subs, _ := os.ReadDir(dir + "/articles")
	for _, sub := range subs {
		f, _ := os.ReadDir(dir + "/articles/" + sub.Name())
		files += len(f)
	}
	if files != 2 {
		t.Errorf("article files after a refused Open = %d, want 2", files)
	}
}

// TestArticleDirsMadeAtOpen: every articles/XX directory exists (and
// was fsynced into its parent) before any article is written.
func TestArticleDirsMadeAtOpen(t *testing.T) {
	dir := t.TempDir()
	open(t, dir)
	subs, err := os.ReadDir(dir + "/articles")
	if err != nil || len(subs) != 256 {
		t.Fatalf("articles/ holds %d directories (%v), want 256", len(subs), err)
	}
}

// TestGroupsFileMissingChangesNothing: groups.json disappearing is no
// order to delete every group.
func TestGroupsFileMissingChangesNothing(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	s.AddGroup(GroupConfig{Name: "g"})
	if _, err := s.Add(context.Background(), article("<1@m>", "g")); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(dir + "/" + GroupsFile); err != nil {
		t.Fatal(err)
	}
	if gs := s.Groups(); len(gs) != 1 || !s.Has("<1@m>") {
		t.Errorf("after groups.json vanished: groups %v, article kept %v", gs, s.Has("<1@m>"))
	}
	s.Close()
	s = open(t, dir)
	if gs := s.Groups(); len(gs) != 1 {
		t.Errorf("after reopening without groups.json: groups %v", gs)
	}
}

// TestShortJournalWriteCutBack: an append cut short (here by
// RLIMIT_FSIZE) is truncated off the journal, so the next
// acknowledged record is not glued to a torn line and lost.
func TestShortJournalWriteCutBack(t *testing.T) {
	if os.Getenv("NEWSSTORE_SHORT") != "" {
		shortWriteChild(os.Getenv("NEWSSTORE_SHORT"))
		return
	}
	dir := t.TempDir()
	s := open(t, dir)
	s.AddGroup(GroupConfig{Name: "g"})
	s.Close()
	cmd := exec.Command(os.Args[0], "-test.run=^TestShortJournalWriteCutBack$")
	cmd.Env = append(os.Environ(), "NEWSSTORE_SHORT="+dir)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "ACK <b@short>") {
		t.Fatalf("child: %v\n%s", err, out)
	}
	s = open(t, dir)
	if !s.Has("<b@short>") {
		t.Errorf("acknowledged <b@short> lost after an earlier short journal write")
	}
	if s.Has("<a@short>") {
		t.Errorf("<a@short>, refused, is stored")
	}
}

func shortWriteChild(dir string) {
	signal.Ignore(syscall.SIGXFSZ)
	s, err := Open(dir)
	if err != nil {
		fmt.Println("ERR", err)
		os.Exit(1)
	}
	fi, _ := os.Stat(dir + "/journal")
	var old syscall.Rlimit
	syscall.Getrlimit(syscall.RLIMIT_FSIZE, &old)
	lim := syscall.Rlimit{Cur: uint64(fi.Size() + 40), Max: old.Max}
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &lim); err != nil {
		fmt.Println("ERR setrlimit", err)
		os.Exit(1)
	}
	if _, err := s.Add(context.Background(), article("<a@short>", "g")); err == nil {
		fmt.Println("ERR <a@short> stored past the file size limit")
		os.Exit(1)
	}
	syscall.Setrlimit(syscall.RLIMIT_FSIZE, &old)
	if _, err := s.Add(context.Background(), article("<b@short>", "g")); err != nil {
		fmt.Println("ERR", err)
		os.Exit(1)
	}
	fmt.Println("ACK <b@short>")
	os.Exit(0)
}
