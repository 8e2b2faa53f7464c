package interop

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/plumbnet/plumb/internal/testkit"
	"github.com/plumbnet/plumb/nntp"
)

const innBin = "/usr/lib/news/bin"

// innServer is a test INN: innd in the foreground on a free loopback
// port, with its whole tree (etc, db, spool, run, log) in a temporary
// directory named by INNCONF, run as the news user.
type innServer struct {
	dir, conf string
	addr      string
	cred      *syscall.Credential
	cmd       *exec.Cmd     // the running innd, nil when stopped
	done      chan struct{} // closed when cmd has exited
}

// startINN starts innd carrying local.test, feeding every article it
// gets to the batch file outgoing/plumb.
func startINN(t *testing.T) *innServer {
	t.Helper()
	if _, err := os.Stat(filepath.Join(innBin, "innd")); err != nil {
		if requirePeers() {
			t.Fatalf("INN (inn2) is not installed")
		}
		t.Skip("INN (inn2) is not installed")
	}
	news, err := user.Lookup("news")
	if err != nil || os.Getuid() != 0 {
		if requirePeers() {
			t.Fatalf("INN must run as the news user: needs root to switch to it (uid %d, %v)", os.Getuid(), err)
		}
		t.Skipf("INN must run as the news user, which needs root (uid %d)", os.Getuid())
	}
	uid, _ := strconv.Atoi(news.Uid)
	gid, _ := strconv.Atoi(news.Gid)
	dir, err := os.MkdirTemp("", "plumb-inn-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	s := &innServer{dir: dir, conf: filepath.Join(dir, "etc", "inn.conf"), cred: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
	for _, sub := range []string{"etc", "db", "spool/articles", "spool/overview", "run", "log", "tmp", "outgoing", "incoming", "archive", "http"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	port := freePort(t)
	s.addr = fmt.Sprintf("127.0.0.1:%d", port)
	files := map[string]string{
		"etc/inn.conf": fmt.Sprintf(`mta: "/bin/true %%s"
organization: "plumb interop test"
ovmethod: tradindexed
hismethod: hisv6
pathhost: inn.test
pathnews: /usr/lib/news
domain: localdomain
mailcmd: /bin/true
port: %d
bindaddress: 127.0.0.1
enableoverview: true
storeonxref: true
wireformat: true
allownewnews: true
pgpverify: false
docancels: none
doinnwatch: false
nnrpdloadlimit: 0
pathetc: %[2]s/etc
pathdb: %[2]s/db
pathspool: %[2]s/spool
pathrun: %[2]s/run
pathlog: %[2]s/log
pathtmp: %[2]s/tmp
pathoverview: %[2]s/spool/overview
pathoutgoing: %[2]s/outgoing
pathincoming: %[2]s/incoming
patharchive: %[2]s/archive
pathhttp: %[2]s/http
pathfilter: %[2]s/etc/filter
`, port, dir),
		"etc/storage.conf":  "method tradspool {\n    newsgroups: *\n    class: 0\n}\n",
		"etc/readers.conf":  "auth \"local\" {\n    hosts: \"127.0.0.1, localhost, ::1\"\n    default: \"<local>\"\n}\naccess \"local\" {\n    users: \"<local>\"\n    newsgroups: \"*\"\n    access: RPA\n}\n",
		"etc/incoming.conf": "streaming: true\nmax-connections: 8\npeer ME {\n  hostname: \"localhost, 127.0.0.1, ::1\"\n}\n",
		"etc/newsfeeds":     "ME:*::\nplumb:*,!junk,!control*:Tf,Wnm:\n",
		"etc/expire.ctl":    "/remember/:10\n*:A:1:10:never\n",
		"db/active":         "control 0000000000 0000000001 n\ncontrol.cancel 0000000000 0000000001 n\njunk 0000000000 0000000001 n\nlocal.test 0000000000 0000000001 y\n",
		"db/active.times":   "",
		"db/newsgroups":     "local.test\tTests\n",
		"db/history":        "",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{"moderators", "distrib.pats", "control.ctl", "control.ctl.local", "innfeed.conf", "inn-secrets.conf", "passwd.nntp", "subscriptions", "localgroups", "nocem.ctl"} {
		if b, err := os.ReadFile(filepath.Join("/etc/news", f)); err == nil {
			os.WriteFile(filepath.Join(dir, "etc", f), b, 0o644)
		}
	}
	filepath.Walk(dir, func(p string, _ os.FileInfo, _ error) error { return os.Lchown(p, uid, gid) })
	s.run(t, filepath.Join(innBin, "makedbz"), "-i", "-o")
	s.start(t)
	t.Cleanup(func() {
		// innd in the foreground takes its time over SIGTERM; a test
		// server has nothing to save.
		s.kill()
		if t.Failed() {
			b, _ := os.ReadFile(filepath.Join(dir, "log", "innd.out"))
			t.Logf("innd output:\n%s", b)
		}
	})
	return s
}

// start runs innd on the tree and waits until it accepts.
func (s *innServer) start(t *testing.T) {
	t.Helper()
	s.cmd = s.command(filepath.Join(innBin, "innd"), "-f")
	// A file, not a pipe: the nnrpd processes innd spawns inherit it,
	// and a pipe would hold Wait until the last of them ends.
	logs, err := os.OpenFile(filepath.Join(s.dir, "log", "innd.out"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer logs.Close()
	s.cmd.Stdout, s.cmd.Stderr = logs, logs
	s.cmd.SysProcAttr.Setpgid = true
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s.done = make(chan struct{})
	go func(cmd *exec.Cmd, done chan struct{}) { cmd.Wait(); close(done) }(s.cmd, s.done)
	testkit.Eventually(t, 20*time.Second, "innd accepting on "+s.addr, func() bool {
		c, err := net.Dial("tcp", s.addr)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
}

// kill ends innd and the nnrpds of its process group, if running.
func (s *innServer) kill() {
	if s.cmd == nil {
		return
	}
	syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
	<-s.done
	s.cmd = nil
}

// shutdown stops innd the operator's way (ctlinnd shutdown: history
// and active written out) and waits for it to exit and its port to
// close.
func (s *innServer) shutdown(t *testing.T) {
	t.Helper()
	s.run(t, filepath.Join(innBin, "ctlinnd"), "-s", "shutdown", "plumb test")
	select {
	case <-s.done:
	case <-time.After(30 * time.Second):
		t.Fatalf("innd did not exit within 30s of ctlinnd shutdown")
	}
	syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL) // nnrpds left behind
	s.cmd = nil
	testkit.Eventually(t, 10*time.Second, "innd's port to close", func() bool {
		c, err := net.Dial("tcp", s.addr)
		if err == nil {
			c.Close()
		}
		return err != nil
	})
}

// command is name run as news with INNCONF set, in the db directory.
func (s *innServer) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.Dir = filepath.Join(s.dir, "db")
	cmd.Env = append(os.Environ(), "INNCONF="+s.conf)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred}
	return cmd
}

func (s *innServer) run(t *testing.T, name string, args ...string) string {
	t.Helper()
	cmd := s.command(name, args...)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	go func() { <-ctx.Done(); cmd.Process.Kill() }()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
	return string(out)
}

func innArticle(id, subject string) string {
	return "Path: plumb.test!not-for-mail\r\nFrom: tester@example.org\r\nNewsgroups: local.test\r\nSubject: " + subject +
		"\r\nDate: " + time.Now().UTC().Format(time.RFC1123Z) + "\r\nMessage-ID: " + id + "\r\n\r\nbody of " + subject + "\r\n.dotted line\r\n"
}

// TestNNTPClientAgainstINN: our client reads and posts through INN's
// nnrpd (list, group, over, article, post).
func TestNNTPClientAgainstINN(t *testing.T) {
	inn := startINN(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c, err := nntp.Dial(ctx, inn.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if ok, err := c.ModeReader(ctx); err != nil || !ok {
		t.Fatalf("ModeReader against INN = %v, %v; want posting allowed", ok, err)
	}
	groups, err := c.ListActive(ctx, "local.*")
	if err != nil || len(groups) != 1 || groups[0].Name != "local.test" {
		t.Fatalf("ListActive(local.*) = %+v, %v", groups, err)
	}
	art := "From: tester@example.org\r\nNewsgroups: local.test\r\nSubject: via nnrpd\r\n\r\nposted by plumb's client\r\n.dotted line\r\n"
	if err := c.Post(ctx, strings.NewReader(art)); err != nil {
		t.Fatalf("Post to INN: %v", err)
	}
	var g nntp.Group
	testkit.Eventually(t, 20*time.Second, "the post in INN's local.test", func() bool {
		g, err = c.Group(ctx, "local.test")
		return err == nil && g.Count == 1
	})
	var ovs []nntp.Overview
	if err := c.Over(ctx, fmt.Sprintf("%d-%d", g.Low, g.High), func(o nntp.Overview) error { ovs = append(ovs, o); return nil }); err != nil {
		t.Fatalf("Over: %v", err)
	}
	if len(ovs) != 1 || ovs[0].Subject != "via nnrpd" || !strings.Contains(ovs[0].Xref, "local.test:1") {
		t.Fatalf("Over = %+v", ovs)
	}
	var buf bytes.Buffer
	if _, id, err := c.Article(ctx, strconv.FormatInt(g.High, 10), &buf); err != nil || id != ovs[0].MessageID {
		t.Fatalf("Article = %s, %v", id, err)
	}
	if !strings.Contains(buf.String(), "Path: inn.test!") || !strings.HasSuffix(buf.String(), "\r\n\r\nposted by plumb's client\r\n.dotted line\r\n") {
		t.Errorf("Article from INN = %q", buf.String())
	}
	if _, _, err := c.Head(ctx, "<no-such@x>", &buf); !errors.Is(err, nntp.ErrNoSuchArticle) {
		t.Errorf("Head(no such) from INN = %v, want 430", err)
	}

	// Under COMPRESS: nnrpd ends each batch with zlib's Z_PARTIAL_FLUSH,
	// which compress/flate's reader would wait on for ever.
	zctx, zcancel := context.WithTimeout(ctx, 10*time.Second)
	defer zcancel()
	if err := c.Compress(zctx); err != nil {
		t.Fatalf("Compress with INN: %v", err)
	}
	for range 2 {
		if g2, err := c.Group(zctx, "local.test"); err != nil || g2.High != g.High {
			t.Fatalf("Group under COMPRESS with INN = %+v, %v", g2, err)
		}
		buf.Reset()
		if _, _, err := c.Article(zctx, strconv.FormatInt(g.High, 10), &buf); err != nil || !strings.HasSuffix(buf.String(), "\r\n.dotted line\r\n") {
			t.Fatalf("Article under COMPRESS with INN = %q, %v", buf.String(), err)
		}
	}
}

// TestNNTPFeedsWithINN: plumb feeds INN with IHAVE, and INN feeds
// plumb with innxmit (CHECK/TAKETHIS, or IHAVE).
func TestNNTPFeedsWithINN(t *testing.T) {
	inn := startINN(t)
	s := startNNTP(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	// plumb -> INN: IHAVE to innd (transit mode).
	feed, err := nntp.Dial(ctx, inn.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer feed.Close()
	if err := feed.IHave(ctx, "<to-inn-1@plumb.test>", strings.NewReader(innArticle("<to-inn-1@plumb.test>", "to INN"))); err != nil {
		t.Fatalf("IHave to INN: %v", err)
	}
	if err := feed.IHave(ctx, "<to-inn-1@plumb.test>", strings.NewReader(innArticle("<to-inn-1@plumb.test>", "to INN"))); !errors.Is(err, nntp.ErrNotWanted) {
		t.Errorf("second IHave to INN = %v, want 435", err)
	}
	feed.Quit(ctx)
	reader, err := nntp.Dial(ctx, inn.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	reader.ModeReader(ctx)
	var buf bytes.Buffer
	testkit.Eventually(t, 20*time.Second, "INN serving the fed article", func() bool {
		buf.Reset()
		_, _, err := reader.Article(ctx, "<to-inn-1@plumb.test>", &buf)
		return err == nil
	})
	if !strings.Contains(buf.String(), "Path: inn.test!plumb.test!not-for-mail") {
		t.Errorf("fed article in INN = %q", buf.String())
	}

	// INN -> plumb: the fed article and a new post are in INN's batch
	// for "plumb"; innxmit sends them to plumb serve.
	if err := reader.Post(ctx, strings.NewReader("From: t@example.org\r\nNewsgroups: local.test\r\nSubject: from INN\r\n\r\nwritten at INN\r\n")); err != nil {
		t.Fatalf("Post to INN: %v", err)
	}
	batch := filepath.Join(inn.dir, "outgoing", "plumb")
	testkit.Eventually(t, 20*time.Second, "both articles in INN's batch for plumb", func() bool {
		inn.run(t, filepath.Join(innBin, "ctlinnd"), "-s", "flush", "plumb")
		b, _ := os.ReadFile(batch)
		return bytes.Count(b, []byte("\n")) >= 2
	})
	host, port, _ := strings.Cut(s.Addr(t, "nntp"), ":")
	inn.run(t, filepath.Join(innBin, "innxmit"), "-P", port, host, batch)
	c, err := nntp.Dial(ctx, s.Addr(t, "nntp"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	g, err := c.Group(ctx, "local.test")
	// Two offered: the one written at INN is taken; plumb's own, whose
	// Path names plumb.test, is refused as a loop.
	if err != nil || g.Count != 1 {
		t.Fatalf("plumb's local.test after innxmit = %+v, %v; want 1 article", g, err)
	}
	buf.Reset()
	if _, _, err := c.Article(ctx, "<to-inn-1@plumb.test>", &buf); err == nil {
		t.Errorf("plumb took back its own article from INN (Path loop): %q", buf.String())
	}
	var subjects []string
	c.Over(ctx, "1-", func(o nntp.Overview) error { subjects = append(subjects, o.Subject); return nil })
	if !strings.Contains(strings.Join(subjects, ","), "from INN") {
		t.Errorf("plumb's overview after the INN feed = %v", subjects)
	}
}
