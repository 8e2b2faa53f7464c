// Command pop3 benchmarks POP3 retrieval: every message of one
// 10,000-message mailbox fetched by one client, plumb serve against
// Dovecot in the same run, both serving a copy of the same Maildir.
//
// Usage (as root, with Debian's dovecot-pop3d installed):
//
//	go build -o plumb ./cmd/plumb
//	go run ./bench/pop3 -plumb ./plumb
//
// Each server is warmed up with one untimed session (Dovecot builds its
// index then), and then timed over -rounds sessions of LOGIN, UIDL,
// RETR of every message and QUIT, once with RETRs one at a time (as
// Python's poplib does) and once pipelined (plumb's pop3.Client.Fetch).
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/plumbnet/plumb/internal/mailstore"
	"github.com/plumbnet/plumb/pop3"
)

func main() {
	var (
		plumbBin = flag.String("plumb", "plumb", "the plumb binary")
		dovecot  = flag.String("dovecot", "dovecot", "the dovecot binary; empty skips Dovecot")
		count    = flag.Int("n", 10000, "messages in the mailbox")
		size     = flag.Int("size", 4096, "approximate bytes per message")
		rounds   = flag.Int("rounds", 3, "timed sessions per server and mode")
	)
	flag.Parse()
	if err := run(*plumbBin, *dovecot, *count, *size, *rounds); err != nil {
		fmt.Fprintln(os.Stderr, "bench/pop3:", err)
		os.Exit(1)
	}
}

const (
	user     = "bench"
	password = "bench-password"
	mailUID  = 65534 // Dovecot refuses to read mail as root
)

func run(plumbBin, dovecot string, count, size, rounds int) error {
	dir, err := os.MkdirTemp("", "plumb-bench-pop3-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	os.Chmod(dir, 0o755)

	// One Maildir, written by plumb's store, copied for Dovecot.
	data := filepath.Join(dir, "plumb-data")
	st, err := mailstore.Open(filepath.Join(data, "mail"))
	if err != nil {
		return err
	}
	fmt.Printf("writing %d messages of ~%d bytes...\n", count, size)
	for i := range count {
		if _, err := st.Deliver(context.Background(), user, "", strings.NewReader(message(i, size))); err != nil {
			return err
		}
	}
	plumbAddr, stopPlumb, err := startPlumb(plumbBin, dir, data)
	if err != nil {
		return err
	}
	defer stopPlumb()
	servers := []target{{name: "plumb", addr: plumbAddr}}
	if dovecot != "" {
		doveMail := filepath.Join(dir, "dovecot-mail", user)
		if err := copyMaildir(filepath.Join(data, "mail", user), doveMail); err != nil {
			return err
		}
		addr, stop, err := startDovecot(dovecot, dir)
		if err != nil {
			return err
		}
		defer stop()
		servers = append(servers, target{name: "dovecot", addr: addr})
	}
	results, err := measure(servers, count, rounds)
	if err != nil {
		return err
	}
	fmt.Println()
	fmt.Println("server   mode       best      msgs/s    MB/s")
	for _, r := range results {
		fmt.Println(r)
	}
	return nil
}

// message returns a plausible message of about size bytes.
func message(i, size int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "From: sender%d@example.org\r\nTo: %s@localhost\r\nSubject: message %d\r\nMessage-ID: <%d@bench>\r\n\r\n", i, user, i, i)
	r := rand.New(rand.NewPCG(uint64(i), 1))
	for b.Len() < size {
		line := make([]byte, 60+r.IntN(16))
		for j := range line {
			line[j] = 'a' + byte(r.IntN(26))
		}
		if r.IntN(20) == 0 {
			line[0] = '.' // exercise byte-stuffing
		}
		b.Write(line)
		b.WriteString("\r\n")
	}
	return b.String()
}

type target struct{ name, addr string }

// measure warms each server up with one untimed session, then times
// rounds sessions per server and mode, alternating between servers so
// that a change in the machine's load hits both alike. It reports the
// best session of each.
func measure(servers []target, count, rounds int) ([]string, error) {
	for _, s := range servers {
		if _, _, err := session(s.addr, true); err != nil {
			return nil, fmt.Errorf("%s warm-up: %w", s.name, err)
		}
	}
	var out []string
	for _, mode := range []string{"serial", "pipelined"} {
		best := make([]time.Duration, len(servers))
		var bytes int64
		for range rounds {
			for i, s := range servers {
				start := time.Now()
				n, b, err := session(s.addr, mode == "pipelined")
				if err != nil {
					return nil, fmt.Errorf("%s %s: %w", s.name, mode, err)
				}
				if n != count {
					return nil, fmt.Errorf("%s %s: fetched %d of %d", s.name, mode, n, count)
				}
				if d := time.Since(start); best[i] == 0 || d < best[i] {
					best[i] = d
				}
				bytes = b
			}
		}
		for i, s := range servers {
			line := fmt.Sprintf("%-8s %-9s %8.3fs %9.0f %7.1f", s.name, mode, best[i].Seconds(),
				float64(count)/best[i].Seconds(), float64(bytes)/best[i].Seconds()/1e6)
			if i > 0 {
				line += fmt.Sprintf("   plumb/%s = %.2f", s.name, best[i].Seconds()/best[0].Seconds())
			}
			out = append(out, line)
		}
	}
	return out, nil
}

// session logs in and retrieves every message; it returns the count and bytes.
func session(addr string, pipelined bool) (int, int64, error) {
	c, err := pop3.Dial(context.Background(), addr)
	if err != nil {
		return 0, 0, err
	}
	defer c.Close()
	if err := c.Login(user, password); err != nil {
		return 0, 0, err
	}
	var n int
	var total int64
	if pipelined {
		n, err = c.Fetch(nil, false, func(_ pop3.MessageInfo, body []byte) error {
			total += int64(len(body))
			return nil
		})
	} else {
		var list []pop3.MessageInfo
		if list, err = c.UIDL(); err == nil {
			for _, mi := range list {
				var m int64
				if m, err = c.RetrTo(mi.Num, io.Discard); err != nil {
					break
				}
				total += m
				n++
			}
		}
	}
	if err != nil {
		return n, total, err
	}
	return n, total, c.Quit()
}

func startPlumb(bin, dir, data string) (string, func(), error) {
	add := exec.Command(bin, "user", "add", user, "--data", data)
	add.Stdin = strings.NewReader(password + "\n")
	if out, err := add.CombinedOutput(); err != nil {
		return "", nil, fmt.Errorf("plumb user add: %v: %s", err, out)
	}
	cfg := fmt.Sprintf("data = %q\nlisten = \"127.0.0.1\"\n[log]\nlevel = \"warn\"\n[admin]\nenabled = false\n", data)
	for _, s := range []string{"echo", "discard", "daytime", "qotd", "chargen", "time", "ftp", "smtp", "smtp.submission", "smtp.submissions", "pop3.pop3s"} {
		cfg += fmt.Sprintf("[%s]\nenabled = false\n", s)
	}
	cfg += "[pop3]\naddr = \"127.0.0.1:0\"\n"
	cfgFile := filepath.Join(dir, "plumb.toml")
	os.WriteFile(cfgFile, []byte(cfg), 0o600)
	cmd := exec.Command(bin, "serve", "--config", cfgFile)
	cmd.Stderr = os.Stderr
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	stop := func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait() }
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) >= 3 && f[0] == "pop3" {
			go io.Copy(io.Discard, stdout)
			return f[2], stop, nil
		}
	}
	stop()
	return "", nil, fmt.Errorf("plumb serve printed no pop3 address")
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

func startDovecot(bin, dir string) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
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
protocols = pop3
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
service pop3-login {
  inet_listener pop3 {
    address = 127.0.0.1
    port = %[2]d
  }
  inet_listener pop3s {
    port = 0
  }
}
service anvil {
  chroot =
}
`, dir, port)
	cfgFile := filepath.Join(dir, "dovecot.conf")
	os.WriteFile(cfgFile, []byte(conf), 0o644)
	cmd := exec.Command(bin, "-F", "-c", cfgFile)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	stop := func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait() }
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return addr, stop, nil
		}
	}
	stop()
	return "", nil, fmt.Errorf("dovecot did not listen on %s", addr)
}
