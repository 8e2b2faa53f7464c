package telnet

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/plumbnet/plumb/internal/testkit"
)

// peer is a raw telnet client for transcript tests: it decodes what the
// server sends into data and commands, and sends exactly the bytes a
// test gives it. Every read is bounded by the connection's deadline.
type peer struct {
	t    *testing.T
	nc   net.Conn
	p    Parser
	buf  []byte
	data []byte  // data received and not yet consumed
	cmds []Token // commands received and not yet consumed
}

func dialPeer(t *testing.T, addr string) *peer {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	return newPeer(t, nc)
}

func newPeer(t *testing.T, nc net.Conn) *peer {
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(20 * time.Second))
	return &peer{t: t, nc: nc, buf: make([]byte, 4096)}
}

// fill reads once more from the server; false at EOF.
func (p *peer) fill() bool {
	p.t.Helper()
	n, err := p.nc.Read(p.buf)
	p.p.Parse(p.buf[:n], func(tok Token) {
		if tok.Verb == 0 {
			p.data = append(p.data, tok.Data...)
			return
		}
		tok.Sub = bytes.Clone(tok.Sub)
		p.cmds = append(p.cmds, tok)
	})
	if err != nil {
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			p.t.Fatalf("timed out; data so far %q, commands %v", p.data, cmdNames(p.cmds))
		}
		return false
	}
	return true
}

// send writes raw bytes.
func (p *peer) send(b ...byte) {
	p.t.Helper()
	if _, err := p.nc.Write(b); err != nil {
		p.t.Fatalf("write %v: %v", b, err)
	}
}

func (p *peer) sendString(s string) { p.t.Helper(); p.send([]byte(s)...) }

// until reads until the data holds text, and consumes the data up to
// and including it; it returns what came before.
func (p *peer) until(text string) string {
	p.t.Helper()
	for {
		if i := bytes.Index(p.data, []byte(text)); i >= 0 {
			before := string(p.data[:i])
			p.data = p.data[i+len(text):]
			return before
		}
		if !p.fill() {
			p.t.Fatalf("connection closed waiting for %q; got %q", text, p.data)
		}
	}
}

// expectCmd reads until the next command arrives and checks it.
func (p *peer) expectCmd(verb byte, opt Option) Token {
	p.t.Helper()
	for len(p.cmds) == 0 {
		if !p.fill() {
			p.t.Fatalf("connection closed waiting for %s", cmdName(Token{Verb: verb, Option: opt}))
		}
	}
	tok := p.cmds[0]
	p.cmds = p.cmds[1:]
	if tok.Verb != verb || tok.Option != opt {
		p.t.Fatalf("command = %s, want %s", cmdName(tok), cmdName(Token{Verb: verb, Option: opt}))
	}
	return tok
}

// noCmds checks that no command is waiting, after reading up to text.
func (p *peer) noCmds(text string) {
	p.t.Helper()
	p.until(text)
	if len(p.cmds) > 0 {
		p.t.Fatalf("unexpected commands before %q: %v", text, cmdNames(p.cmds))
	}
}

// closed reads to EOF and returns the data that came.
func (p *peer) closed() string {
	p.t.Helper()
	for p.fill() {
	}
	return string(p.data)
}

var verbNames = map[byte]string{WILL: "WILL", WONT: "WONT", DO: "DO", DONT: "DONT", SB: "SB", IP: "IP", BRK: "BRK", AYT: "AYT", GA: "GA", NOP: "NOP"}

func cmdName(t Token) string {
	v := verbNames[t.Verb]
	if v == "" {
		v = fmt.Sprint(t.Verb)
	}
	switch t.Verb {
	case WILL, WONT, DO, DONT:
		return v + " " + t.Option.String()
	case SB:
		return fmt.Sprintf("SB %s %v", t.Option, t.Sub)
	}
	return v
}

func cmdNames(ts []Token) []string {
	var s []string
	for _, t := range ts {
		s = append(s, cmdName(t))
	}
	return s
}

// hello reads the server's opening requests.
func (p *peer) hello() {
	p.t.Helper()
	p.expectCmd(WILL, Echo)
	p.expectCmd(WILL, SuppressGoAhead)
	p.expectCmd(DO, TerminalType)
	p.expectCmd(DO, NAWS)
	p.expectCmd(DO, NewEnviron)
}

// refuseAll answers the hello as telnetlib does: no to everything.
func (p *peer) refuseAll() {
	p.send(IAC, DONT, byte(Echo), IAC, DONT, byte(SuppressGoAhead),
		IAC, WONT, byte(TerminalType), IAC, WONT, byte(NAWS), IAC, WONT, byte(NewEnviron))
}

// login types the name and password.
func (p *peer) login(user, pass string) {
	p.t.Helper()
	p.until("login: ")
	p.sendString(user + "\r\n")
	p.until("Password: ")
	p.sendString(pass + "\r\n")
}

// shellProgram is the test's program: it reads lines on its terminal in
// cooked mode and answers "term", "size", "env NAME", "echo TEXT",
// "hex" (the bytes of the next line), "bytes" (writes 0xff and a bare
// CR), and "exit"; it reports each resize.
func shellProgram() Program {
	return ProgramFunc(func(ctx context.Context, t *Terminal) error {
		lines := make(chan string)
		go func() {
			defer close(lines)
			sc := bufio.NewScanner(t.TTY)
			for sc.Scan() {
				lines <- sc.Text()
			}
		}()
		fmt.Fprintf(t.TTY, "welcome %s\n$ ", t.User)
		for {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-t.Resized():
				c, r := t.Size()
				fmt.Fprintf(t.TTY, "resized %dx%d\n", c, r)
			case l, ok := <-lines:
				if !ok {
					return nil
				}
				cmd, arg, _ := strings.Cut(l, " ")
				switch cmd {
				case "term":
					fmt.Fprintf(t.TTY, "TERM=%s\n", t.Type)
				case "size":
					ws, err := pty.GetsizeFull(t.TTY)
					if err != nil {
						fmt.Fprintf(t.TTY, "size: %v\n", err)
					} else {
						fmt.Fprintf(t.TTY, "size=%dx%d\n", ws.Cols, ws.Rows)
					}
				case "env":
					v, ok := t.Env[arg]
					fmt.Fprintf(t.TTY, "env %s=%q %v\n", arg, v, ok)
				case "envall":
					var ks []string
					for k := range t.Env {
						ks = append(ks, k)
					}
					sort.Strings(ks)
					fmt.Fprintf(t.TTY, "envall=%s\n", strings.Join(ks, ","))
				case "echo":
					fmt.Fprintf(t.TTY, "said %s\n", arg)
				case "hex":
					fmt.Fprintf(t.TTY, "hex %x\n", arg)
				case "bytes":
					t.TTY.Write([]byte("a\xffb\rc\n"))
				case "exit":
					fmt.Fprintf(t.TTY, "bye\n")
					return nil
				}
				fmt.Fprintf(t.TTY, "$ ")
			}
		}
	})
}

// startServer serves a telnet server with the account alice/secret
// running shellProgram, configured by opt.
func startServer(t *testing.T, opt func(*Server), wrap func(net.Listener) net.Listener) (*Server, string) {
	t.Helper()
	be := &MemoryBackend{Program: shellProgram()}
	be.AddUser("alice", "secret")
	// Tests answer the options whose answers they check before logging
	// in; the rest need not hold every session up.
	s := &Server{Backend: be, Logger: testLogger(t), NegotiationWait: 50 * time.Millisecond}
	if opt != nil {
		opt(s)
	}
	ln := testkit.Listen(t)
	if wrap != nil {
		ln = wrap(ln)
	}
	return s, testkit.Serve(t, s, ln)
}

func testLogger(t *testing.T) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

func tlsListener(ln net.Listener, cfg *tls.Config) net.Listener { return tls.NewListener(ln, cfg) }
