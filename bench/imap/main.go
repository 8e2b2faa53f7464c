// Command imap benchmarks IMAP: a mailbox of -n messages (2 KiB to
// 200 KiB, some multipart), the same files served by plumb serve and by
// Dovecot in one run, driven by N = 1 and N = -clients concurrent
// clients, each running the script LOGIN, SELECT, FETCH 1:* (UID FLAGS
// RFC822.SIZE ENVELOPE), UID SEARCH on a header and on body text, UID
// FETCH of 100 full bodies, STORE of flags on up to 1,000 messages,
// LOGOUT. Each server is measured cold (the first pass: no index yet)
// and warm (the second), and its memory is read from /proc: the PSS of
// all its processes (see rss).
//
// Usage (as root, with Debian's dovecot-imapd installed):
//
//	go build -o plumb ./cmd/plumb
//	go run ./bench/imap -plumb ./plumb
//	go run ./bench/imap -plumb ./plumb -n 50 -clients 2   # smoke
//	go run ./bench/imap -plumb ./plumb -scripts=false     # IDLE alone, fresh servers
//
// Dovecot learns of new mail in IDLE through inotify, one instance per
// imap process; past fs.inotify.max_user_instances (128 by default) its
// sessions fall back to mailbox_idle_check_interval (30 s). For 1,000
// idle sessions raise it first: sysctl fs.inotify.max_user_instances=2048.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/smtp"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/plumbnet/plumb/imap"
	"github.com/plumbnet/plumb/internal/mailstore"
)

func main() {
	var (
		plumbBin = flag.String("plumb", "plumb", "the plumb binary")
		dovecot  = flag.String("dovecot", "dovecot", "the dovecot binary; empty skips Dovecot")
		count    = flag.Int("n", 10000, "messages in the mailbox")
		clients  = flag.Int("clients", 20, "concurrent clients of the second run (the first has one)")
		idlers   = flag.Int("idle", 1000, "sessions in IDLE for the wake-up and memory measurement; 0 skips it")
		scripts  = flag.Bool("scripts", true, "run the scripts before IDLE; false measures IDLE alone on fresh servers, whose memory per session is then not blurred by what the scripts left in the heap")
	)
	flag.Parse()
	if err := run(*plumbBin, *dovecot, *count, *clients, *idlers, *scripts); err != nil {
		fmt.Fprintln(os.Stderr, "bench/imap:", err)
		os.Exit(1)
	}
}

const (
	user     = "bench"
	password = "bench-password"
	mailUID  = 65534 // Dovecot refuses to read mail as root
)

type target struct {
	name, addr string
	pid        int
	// deliver adds one message the way that server learns of it: over
	// SMTP for plumb, a file dropped into new/ for Dovecot.
	deliver func(i int) error
}

func run(plumbBin, dovecot string, count, clients, idlers int, scripts bool) error {
	dir, err := os.MkdirTemp("", "plumb-bench-imap-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	os.Chmod(dir, 0o755)
	data := filepath.Join(dir, "plumb-data")
	st, err := mailstore.Open(filepath.Join(data, "mail"))
	if err != nil {
		return err
	}
	fmt.Printf("writing %d messages of 2 KiB to 200 KiB...\n", count)
	for i := range count {
		if _, err := st.Deliver(context.Background(), user, "", strings.NewReader(message(i))); err != nil {
			return err
		}
	}
	var servers []target
	if dovecot != "" {
		if err := copyMaildir(filepath.Join(data, "mail", user), filepath.Join(dir, "dovecot-mail", user)); err != nil {
			return err
		}
		t, stop, err := startDovecot(dovecot, dir)
		if err != nil {
			return err
		}
		defer stop()
		servers = append(servers, t)
	}
	t, stop, err := startPlumb(plumbBin, dir, data)
	if err != nil {
		return err
	}
	defer stop()
	servers = append([]target{t}, servers...)
	passes := []string{"cold", "warm"}
	if !scripts {
		passes = nil
	}
	for i, pass := range passes {
		if i == 0 {
			fmt.Println()
			fmt.Println("server   pass  clients  scripts/s   first SELECT   PSS (MiB, all processes)")
		}
		for _, n := range []int{1, clients} {
			var base float64
			for i, s := range servers {
				rate, sel, err := measure(s.addr, n, count)
				if err != nil {
					return fmt.Errorf("%s %s N=%d: %w", s.name, pass, n, err)
				}
				line := fmt.Sprintf("%-8s %-5s %7d  %9.2f  %12s  %9.1f", s.name, pass, n, rate, sel.Round(time.Microsecond), rss(s.pid))
				if i == 0 {
					base = rate
				} else {
					line += fmt.Sprintf("   plumb/%s = %.2f", s.name, base/rate)
				}
				fmt.Println(line)
			}
		}
	}
	if idlers > 0 {
		fmt.Println()
		fmt.Printf("IDLE: %d sessions, one delivery at a time\n", idlers)
		fmt.Println("server   wake p50    wake p99    wake max    PSS/session (KiB)")
		for _, s := range servers {
			if err := idleWake(s, idlers); err != nil {
				return fmt.Errorf("%s IDLE: %w", s.name, err)
			}
		}
	}
	return nil
}

// idleWake puts n sessions in IDLE, delivers three messages one by one
// and measures, for each session, the time from the delivery's start to
// its EXISTS; it also reports the server's resident memory per session.
func idleWake(s target, n int) error {
	ctx := context.Background()
	before := rss(s.pid)
	type idler struct {
		c      *imap.Client
		exists chan time.Time
	}
	var idlers []idler
	cancel := func() {}
	ictx, stop := context.WithCancel(ctx)
	defer func() { stop(); cancel() }()
	var wg sync.WaitGroup
	for range n {
		c, err := imap.Dial(ctx, s.addr)
		if err != nil {
			return err
		}
		defer c.Close()
		c.InsecureAuth = true
		if err := c.Login(ctx, user, password); err != nil {
			return err
		}
		if _, err := c.Select(ctx, "INBOX", true); err != nil {
			return err
		}
		id := idler{c: c, exists: make(chan time.Time, 8)}
		idlers = append(idlers, id)
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.Idle(ictx, func(r *imap.Response) {
				if r.Type == "EXISTS" {
					id.exists <- time.Now()
				}
			})
		}()
	}
	time.Sleep(time.Second) // every session settled in IDLE (a benchmark, not a test)
	perSession := (rss(s.pid) - before) * 1024 / float64(n)
	var waits []time.Duration
	for i := range 3 {
		start := time.Now()
		if err := s.deliver(i); err != nil {
			return err
		}
		for _, id := range idlers {
			select {
			case t := <-id.exists:
				waits = append(waits, t.Sub(start))
			case <-time.After(30 * time.Second):
				return fmt.Errorf("a session saw no EXISTS within 30s")
			}
		}
	}
	stop()
	wg.Wait()
	slices.Sort(waits)
	q := func(f float64) time.Duration {
		return waits[min(len(waits)-1, int(f*float64(len(waits))))].Round(10 * time.Microsecond)
	}
	fmt.Printf("%-8s %-11s %-11s %-11s %.0f\n", s.name, q(0.5), q(0.99), waits[len(waits)-1].Round(10*time.Microsecond), perSession)
	return nil
}

// message returns message i: sizes from 2 KiB to 200 KiB, every fifth multipart.
func message(i int) string {
	r := rand.New(rand.NewPCG(uint64(i), 7))
	size := 2048 + r.IntN(200*1024-2048)
	if r.IntN(4) > 0 {
		size = 2048 + r.IntN(16*1024) // most mail is small
	}
	var b strings.Builder
	fmt.Fprintf(&b, "From: sender%d@example.org\r\nTo: %s@localhost\r\nSubject: message %d\r\nMessage-ID: <%d@bench>\r\nDate: Mon, 06 May 2024 07:08:09 +0000\r\n", i, user, i, i)
	multipart := i%5 == 0
	if multipart {
		b.WriteString("MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=bench\r\n\r\n--bench\r\nContent-Type: text/plain\r\n\r\n")
	} else {
		b.WriteString("\r\n")
	}
	if i%100 == 0 {
		b.WriteString("needle in the haystack\r\n")
	}
	for b.Len() < size {
		line := make([]byte, 60+r.IntN(16))
		for j := range line {
			line[j] = 'a' + byte(r.IntN(26))
		}
		b.Write(line)
		b.WriteString("\r\n")
	}
	if multipart {
		b.WriteString("--bench\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\nAAECAwQF\r\n--bench--\r\n")
	}
	return b.String()
}

// measure runs the script on n clients at once; it returns scripts per
// second and the slowest first SELECT.
func measure(addr string, n, count int) (float64, time.Duration, error) {
	var wg sync.WaitGroup
	errs := make(chan error, n)
	sels := make(chan time.Duration, n)
	start := time.Now()
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d, err := script(addr, count)
			errs <- err
			sels <- d
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(errs)
	close(sels)
	for err := range errs {
		if err != nil {
			return 0, 0, err
		}
	}
	var worst time.Duration
	for d := range sels {
		worst = max(worst, d)
	}
	return float64(n) / elapsed.Seconds(), worst, nil
}

func script(addr string, count int) (time.Duration, error) {
	ctx := context.Background()
	c, err := imap.Dial(ctx, addr)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	c.Timeout = 10 * time.Minute
	c.InsecureAuth = true
	if err := c.Login(ctx, user, password); err != nil {
		return 0, err
	}
	t0 := time.Now()
	sel, err := c.Select(ctx, "INBOX", false)
	if err != nil {
		return 0, err
	}
	selDur := time.Since(t0)
	if int(sel.Exists) != count {
		return 0, fmt.Errorf("SELECT: %d messages, want %d", sel.Exists, count)
	}
	var uids []uint32
	all := imap.SeqSet{Ranges: []imap.SeqRange{{Start: 1, Stop: 0}}}
	if err := c.Fetch(ctx, false, all, "(UID FLAGS RFC822.SIZE ENVELOPE)", func(f *imap.FetchData) error {
		uids = append(uids, f.UID)
		return nil
	}); err != nil {
		return 0, err
	}
	if _, err := c.Search(ctx, true, `HEADER Subject "message 7"`); err != nil {
		return 0, err
	}
	if _, err := c.Search(ctx, true, `BODY "needle"`); err != nil {
		return 0, err
	}
	some := uids[:min(100, len(uids))]
	if err := c.Fetch(ctx, true, imap.SeqSetOf(some...), "(UID BODY.PEEK[])", func(*imap.FetchData) error { return nil }); err != nil {
		return 0, err
	}
	stored := uids[:min(1000, len(uids))]
	if err := c.Store(ctx, true, imap.SeqSetOf(stored...), "+FLAGS.SILENT", []string{imap.FlagFlagged}); err != nil {
		return 0, err
	}
	if err := c.Store(ctx, true, imap.SeqSetOf(stored...), "-FLAGS.SILENT", []string{imap.FlagFlagged}); err != nil {
		return 0, err
	}
	return selDur, c.Logout(ctx)
}

// rss is the memory a server takes, in MiB: the proportional set size
// (PSS: resident pages, those shared between processes divided among
// them) of its process and of every process under it, so that a server
// of several processes (Dovecot: master, imap-login, auth, one imap a
// session, ...) is counted whole, and the libraries its processes share
// once, as plumb's one process is. Where smaps_rollup is missing, VmRSS.
func rss(pid int) float64 {
	kb := 0.0
	for _, p := range append([]int{pid}, descendants(pid)...) {
		kb += procKB(p)
	}
	return kb / 1024
}

// procKB reads one process's PSS (or VmRSS) in kB.
func procKB(pid int) float64 {
	for _, f := range []struct{ file, field string }{{"smaps_rollup", "Pss:"}, {"status", "VmRSS:"}} {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/" + f.file)
		if err != nil {
			continue
		}
		for line := range strings.SplitSeq(string(b), "\n") {
			if rest, ok := strings.CutPrefix(line, f.field); ok {
				kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
				return kb
			}
		}
	}
	return 0
}

// descendants lists the processes under pid, from /proc's parent links.
func descendants(pid int) []int {
	ents, _ := os.ReadDir("/proc")
	children := map[int][]int{}
	for _, e := range ents {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces and parentheses.
		i := strings.LastIndexByte(string(b), ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(b[i+1:]))
		if len(f) < 2 {
			continue
		}
		if ppid, err := strconv.Atoi(f[1]); err == nil {
			children[ppid] = append(children[ppid], p)
		}
	}
	var out []int
	for queue := children[pid]; len(queue) > 0; queue = queue[1:] {
		out = append(out, queue[0])
		queue = append(queue, children[queue[0]]...)
	}
	return out
}

func startPlumb(bin, dir, data string) (target, func(), error) {
	add := exec.Command(bin, "user", "add", user, "--data", data)
	add.Stdin = strings.NewReader(password + "\n")
	if out, err := add.CombinedOutput(); err != nil {
		return target{}, nil, fmt.Errorf("plumb user add: %v: %s", err, out)
	}
	cfg := fmt.Sprintf("data = %q\nlisten = \"127.0.0.1\"\n[log]\nlevel = \"warn\"\n", data)
	// Every service but imap and smtp off: the ones this plumb has, as
	// its effective config lists them.
	out, err := exec.Command(bin, "serve", "--print-config").Output()
	if err != nil {
		return target{}, nil, fmt.Errorf("plumb serve --print-config: %v", err)
	}
	section := ""
	for line := range strings.SplitSeq(string(out), "\n") {
		if strings.HasPrefix(line, "[") {
			section = strings.Trim(strings.TrimSpace(line), "[]")
		} else if strings.HasPrefix(line, "enabled") && section != "imap" && section != "smtp" {
			cfg += fmt.Sprintf("[%s]\nenabled = false\n", section)
		}
	}
	cfg += "[imap]\naddr = \"127.0.0.1:0\"\n[smtp]\naddr = \"127.0.0.1:0\"\n"
	cfgFile := filepath.Join(dir, "plumb.toml")
	os.WriteFile(cfgFile, []byte(cfg), 0o600)
	cmd := exec.Command(bin, "serve", "--config", cfgFile)
	cmd.Stderr = os.Stderr
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		return target{}, nil, err
	}
	stop := func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait() }
	sc := bufio.NewScanner(stdout)
	t := target{name: "plumb", pid: cmd.Process.Pid}
	var smtpAddr string
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) >= 3 && f[0] == "imap" {
			t.addr = f[2]
		}
		if len(f) >= 3 && f[0] == "smtp" {
			smtpAddr = f[2]
		}
		if t.addr != "" && smtpAddr != "" {
			go io.Copy(io.Discard, stdout)
			t.deliver = func(i int) error { return sendPlain(smtpAddr, i) }
			return t, stop, nil
		}
	}
	stop()
	return target{}, nil, fmt.Errorf("plumb serve printed no imap and smtp address")
}

// sendPlain delivers one message over SMTP on loopback, without TLS.
func sendPlain(addr string, i int) error {
	c, err := smtp.Dial(addr)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Mail("load@example.org"); err != nil {
		return err
	}
	if err := c.Rcpt(user + "@localhost"); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "Subject: wake %d\r\n\r\nwake up\r\n", i)
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}

func copyMaildir(src, dst string) error {
	for _, sub := range []string{"cur", "new", "tmp"} {
		if err := os.MkdirAll(filepath.Join(dst, sub), 0o700); err != nil {
			return err
		}
		ents, _ := os.ReadDir(filepath.Join(src, sub))
		for _, e := range ents {
			b, err := os.ReadFile(filepath.Join(src, sub, e.Name()))
			if err != nil {
				return err
			}
			if err := os.WriteFile(filepath.Join(dst, sub, e.Name()), b, 0o600); err != nil {
				return err
			}
		}
	}
	return filepath.Walk(filepath.Dir(dst), func(p string, _ os.FileInfo, _ error) error {
		return os.Lchown(p, mailUID, mailUID)
	})
}

// startDovecot runs Dovecot's IMAP server; its pid is the master's,
// under which rss finds the imap-login, auth and per-session imap
// processes.
func startDovecot(bin, dir string) (target, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return target{}, nil, err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	home := filepath.Join(dir, "dovecot-home")
	os.MkdirAll(home, 0o755)
	os.Lchown(home, mailUID, mailUID)
	os.WriteFile(filepath.Join(dir, "passwd"), fmt.Appendf(nil, "%s:{PLAIN}%s:%d:%d::%s::\n", user, password, mailUID, mailUID, home), 0o644)
	conf := fmt.Sprintf(`base_dir = %[1]s/run
state_dir = %[1]s/state
log_path = %[1]s/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
mail_location = maildir:%[1]s/dovecot-mail/%%u
passdb {
  driver = passwd-file
  args = scheme=PLAIN %[1]s/passwd
}
userdb {
  driver = passwd-file
  args = %[1]s/passwd
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = %[2]d
  }
  inet_listener imaps {
    port = 0
  }
}
service anvil {
  chroot =
}
protocol imap {
  mail_max_userip_connections = 5000
}
service imap {
  process_limit = 5000
}
default_process_limit = 5000
default_client_limit = 10000
`, dir, port)
	cfgFile := filepath.Join(dir, "dovecot.conf")
	os.WriteFile(cfgFile, []byte(conf), 0o644)
	cmd := exec.Command(bin, "-F", "-c", cfgFile)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	newDir := filepath.Join(dir, "dovecot-mail", user, "new")
	deliver := func(i int) error {
		name := filepath.Join(newDir, fmt.Sprintf("%d.wake%d.bench", time.Now().Unix(), i))
		if err := os.WriteFile(name, []byte(fmt.Sprintf("Subject: wake %d\r\n\r\nwake up\r\n", i)), 0o600); err != nil {
			return err
		}
		return os.Lchown(name, mailUID, mailUID)
	}
	if err := cmd.Start(); err != nil {
		return target{}, nil, err
	}
	stop := func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait() }
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return target{name: "dovecot", addr: addr, pid: cmd.Process.Pid, deliver: deliver}, stop, nil
		}
	}
	stop()
	return target{}, nil, fmt.Errorf("dovecot did not listen on %s", addr)
}
