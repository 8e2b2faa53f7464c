package interop

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// nntpConfig runs NNTP with only loopback feeds allowed (the default).
const nntpConfig = `
[nntp]
addr = "127.0.0.1:0"
hostname = "plumb.test"
[nntp.nntps]
addr = "127.0.0.1:0"
`

// plumbNews runs "plumb news ARGS..." and returns stdout, stderr and the exit code.
func plumbNews(t *testing.T, stdin string, args ...string) (string, string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, plumbBin, append([]string{"news"}, args...)...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("plumb news %v: %v", args, err)
	}
	return out.String(), errb.String(), code
}

// startNNTP starts plumb serve with NNTP, the user alice and the group
// local.test, made with plumb news group add while the daemon runs.
func startNNTP(t *testing.T) *Serve {
	t.Helper()
	s := startServe(t, nntpConfig)
	if _, errs, code := plumbUser(t, s.Data, "alice-password\n", "add", "alice"); code != 0 {
		t.Fatalf("plumb user add alice: exit %d: %s", code, errs)
	}
	if _, errs, code := plumbNews(t, "", "group", "add", "local.test", "--description", "Tests", "--data", s.Data); code != 0 {
		t.Fatalf("plumb news group add: exit %d: %s", code, errs)
	}
	return s
}

func TestNNTPPythonNntplib(t *testing.T) {
	py := needPyModule(t, "nntplib")
	s := startNNTP(t)
	host, port, _ := strings.Cut(s.Addr(t, "nntp"), ":")
	out := run(t, 60*time.Second, py, "-W", "ignore", "testdata/nntp_nntplib.py", host, port, "alice", "alice-password", "local.test")
	var got struct {
		Welcome string
		TLS     bool
		Post    string
		Group   []any
		Over    [][]any
		Article []string
		Head    []string
		Body    []string
		Newnews []string
		List    [][]any
		BadPost string `json:"bad_post"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("nntplib output %q: %v", out, err)
	}
	if !strings.HasPrefix(got.Welcome, "201 ") || !got.TLS {
		t.Errorf("welcome %q, tls %v; want 201 and STARTTLS on", got.Welcome, got.TLS)
	}
	if !strings.HasPrefix(got.Post, "240") {
		t.Errorf("post = %q, want 240", got.Post)
	}
	if fmt.Sprint(got.Group) != "[1 1 1 local.test]" {
		t.Errorf("group = %v, want [1 1 1 local.test]", got.Group)
	}
	if len(got.Over) != 1 || got.Over[0][1] != "posted by nntplib" || got.Over[0][2] != "<nntplib-1@example.org>" {
		t.Errorf("over = %v", got.Over)
	}
	art := strings.Join(got.Article, "\n")
	for _, want := range []string{"Path: plumb.test!not-for-mail", "Xref: plumb.test local.test:1", "\n\nHello from nntplib.\n.a line that starts with a dot"} {
		if !strings.Contains(art, want) {
			t.Errorf("article = %q, want %q", art, want)
		}
	}
	if len(got.Head) == 0 || strings.Contains(strings.Join(got.Head, "\n"), "Hello") {
		t.Errorf("head = %q", got.Head)
	}
	if fmt.Sprint(got.Body) != "[Hello from nntplib. .a line that starts with a dot]" {
		t.Errorf("body = %q", got.Body)
	}
	if fmt.Sprint(got.Newnews) != "[<nntplib-1@example.org>]" {
		t.Errorf("newnews = %v", got.Newnews)
	}
	if fmt.Sprint(got.List) != "[[local.test 1 1 y]]" {
		t.Errorf("list = %v", got.List)
	}
	if !strings.HasPrefix(got.BadPost, "441") {
		t.Errorf("post without Subject = %q, want 441", got.BadPost)
	}
}

// TestNNTPCommandLine drives plumb news against plumb serve: post,
// groups, list, read by number and by message-id, watch, with --json.
func TestNNTPCommandLine(t *testing.T) {
	s := startNNTP(t)
	base := "nntp://" + s.Addr(t, "nntp")
	out, errs, code := plumbNews(t, "Hello from the terminal.\n", "post", "nntp://alice:alice-password@"+s.Addr(t, "nntp")+"/local.test", "--subject", "cli post", "--from", "alice@example.org", "--json")
	if code != 0 {
		t.Fatalf("plumb news post: exit %d: %s", code, errs)
	}
	var posted struct {
		MessageID string `json:"message_id"`
	}
	json.Unmarshal([]byte(out), &posted)
	if !strings.HasPrefix(posted.MessageID, "<") {
		t.Fatalf("post --json = %q", out)
	}
	if _, errs, code := plumbNews(t, "x\n", "post", base+"/local.test", "--subject", "anon"); code == 0 || !strings.Contains(errs, "480") {
		t.Errorf("anonymous post: exit %d, %q; want a 480 refusal", code, errs)
	}
	out, _, _ = plumbNews(t, "", "groups", base, "--json")
	if !strings.Contains(out, `"name": "local.test"`) || !strings.Contains(out, `"description": "Tests"`) {
		t.Errorf("groups --json = %q", out)
	}
	out, _, _ = plumbNews(t, "", "list", base+"/local.test")
	if !strings.Contains(out, "cli post") || !strings.Contains(out, "alice@example.org") {
		t.Errorf("list = %q", out)
	}
	out, _, _ = plumbNews(t, "", "read", base+"/local.test/1")
	if !strings.Contains(out, "Subject: cli post\n") || !strings.HasSuffix(out, "\n\nHello from the terminal.\n") {
		t.Errorf("read = %q", out)
	}
	out, _, _ = plumbNews(t, "", "read", "news:"+posted.MessageID, "--server", s.Addr(t, "nntp"), "--json")
	if !strings.Contains(out, `"body": "Hello from the terminal.\n"`) {
		t.Errorf("read news: --json = %q", out)
	}
	// watch prints the article posted after it started.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	watch := exec.CommandContext(ctx, plumbBin, "news", "watch", base+"/local.test", "--json", "--count", "1", "--every", "100ms")
	var wout bytes.Buffer
	watch.Stdout = &wout
	werr, err := watch.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := watch.Start(); err != nil {
		t.Fatal(err)
	}
	// The watcher's first GROUP must come before the new post: it says
	// so on stderr.
	if line, err := bufio.NewReader(werr).ReadString('\n'); err != nil || !strings.HasPrefix(line, "watching local.test") {
		t.Fatalf("watch stderr = %q, %v", line, err)
	}
	plumbNews(t, "second\n", "post", "nntp://alice:alice-password@"+s.Addr(t, "nntp")+"/local.test", "--subject", "watched")
	if err := watch.Wait(); err != nil {
		t.Fatalf("watch: %v", err)
	}
	if !strings.Contains(wout.String(), `"subject":"watched"`) || strings.Contains(wout.String(), "cli post") {
		t.Errorf("watch output = %q, want only the new article", wout.String())
	}
	out, _, _ = plumbNews(t, "", "group", "list", "--data", s.Data, "--json")
	if !strings.Contains(out, `"name": "local.test"`) {
		t.Errorf("group list --json = %q", out)
	}
}
