package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/plumbnet/plumb/telnet"
)

func init() { addCommand(newTelnetCmd) }

type telnetFlags struct {
	conn     connectFlags
	line     bool
	escape   string
	termType string
}

func newTelnetCmd() *cobra.Command {
	var f telnetFlags
	cmd := &cobra.Command{
		Use:   "telnet HOST [PORT]",
		Short: "Log in to a telnet server, or talk to a text protocol by hand",
		Long: `telnet connects to HOST at PORT (default 23, or 992 with --tls) and puts
the terminal in raw mode: what you type goes to the server a key at a
time and the server echoes it. Options are negotiated as RFC 1143 says:
the server may echo and suppress go-ahead, and is told the terminal type
(TTYPE), the window size (NAWS, again after every resize) and LANG
(NEW-ENVIRON); everything else is refused. When the server does not echo,
telnet echoes what you type itself.

The escape character (default ^], change with --escape, "none" to have
none) opens a telnet> prompt:
  close       close the connection and exit (also quit)
  brk         send BREAK; ip sends Interrupt Process, ayt Are You There
  echo        toggle local echo
  status      show the options in force
  (empty)     go back to the session

With --line telnet talks to a line protocol (SMTP, POP3, HTTP): it starts
no negotiation, reads whole lines (your terminal edits them) and sends
each with CR LF. When standard input is not a terminal, it is sent with
LF turned into CR LF, and telnet prints what comes until the server closes.

Exit status: 0 when the connection closed, 1 when it failed.`,
		Example: `  plumb telnet localhost 10023              # plumb serve's operator console
  plumb telnet --tls --ca plumb-data/tls/cert.pem localhost 10992
  plumb telnet --line localhost 10025       # SMTP by hand
  plumb telnet --escape '^X' bbs.example.org`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			host, port := args[0], "23"
			if f.conn.useTLS {
				port = "992"
			}
			if len(args) == 2 {
				port = args[1]
			}
			esc, err := parseEscape(f.escape)
			if err != nil {
				return withExit(2, err)
			}
			if f.conn.timeout <= 0 {
				return withExit(2, errors.New("--timeout must be positive"))
			}
			ctx := cmd.Context()
			nc, err := dialConnect(ctx, &f.conn, host, port)
			if err != nil {
				return withExit(1, err)
			}
			c, _ := telnet.NewClient(nc)
			defer c.Close()
			s := &telnetSession{c: c, in: cmd.InOrStdin(), out: cmd.OutOrStdout(), errOut: cmd.ErrOrStderr(), escape: esc}
			err = s.run(ctx, &f)
			fmt.Fprintln(s.errOut, "Connection closed.")
			return sessionExit(err)
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&f.conn.useTLS, "tls", false, "telnets: TLS from the first byte (default port 992)")
	fl.BoolVarP(&f.conn.insecure, "insecure", "k", false, "with --tls, accept any certificate (testing only)")
	fl.StringVar(&f.conn.caFile, "ca", "", "with --tls, trust the PEM certificates in `FILE` instead of the system's")
	fl.StringVar(&f.conn.serverName, "servername", "", "with --tls, the name to send as SNI and check (default: HOST)")
	fl.DurationVarP(&f.conn.timeout, "timeout", "w", 10*time.Second, "give up connecting (and the TLS handshake) after this long")
	fl.BoolVar(&f.line, "line", false, "line mode for text protocols: no negotiation, lines sent with CR LF")
	fl.StringVarP(&f.escape, "escape", "e", "^]", "escape `char` that opens the telnet> prompt (^X notation, or none)")
	fl.StringVar(&f.termType, "term", os.Getenv("TERM"), "terminal `type` told to the server")
	return cmd
}

// parseEscape reads "^]", "^X", a single character, or "none" (0).
func parseEscape(s string) (byte, error) {
	switch {
	case s == "none" || s == "":
		return 0, nil
	case len(s) == 2 && s[0] == '^':
		return s[1] & 0x1f, nil
	case len(s) == 1:
		return s[0], nil
	}
	return 0, fmt.Errorf("--escape %q: give ^X, one character, or none", s)
}

type telnetSession struct {
	c      *telnet.Client
	in     io.Reader
	out    io.Writer
	errOut io.Writer
	escape byte

	fd  int         // the terminal in raw mode
	old *term.State // its state before, restored when the session ends

	mu        sync.Mutex
	localEcho *bool // nil: echo when the server does not
}

// run copies the server's data to out while it sends what is typed.
func (s *telnetSession) run(ctx context.Context, f *telnetFlags) error {
	stdin, tty := s.in.(*os.File)
	tty = tty && term.IsTerminal(int(stdin.Fd())) && !f.line
	if !f.line {
		s.c.TermType = f.termType
		if lang := os.Getenv("LANG"); lang != "" {
			s.c.Env = []telnet.EnvVar{{Name: "LANG", Value: lang}}
		}
	}
	if tty {
		// Raw here, not in the goroutine reading keys: that one may still
		// be blocked in a read when the server closes and run returns.
		old, err := term.MakeRaw(int(stdin.Fd()))
		if err != nil {
			return fmt.Errorf("raw terminal mode: %w", err)
		}
		s.fd, s.old = int(stdin.Fd()), old
		defer term.Restore(s.fd, s.old)
		if out, ok := s.out.(*os.File); ok {
			if w, h, err := term.GetSize(int(out.Fd())); err == nil {
				s.c.SetWindowSize(w, h)
			}
			stop := s.watchResize(int(out.Fd()))
			defer stop()
		}
	}
	if !f.line {
		if err := s.c.Negotiate(); err != nil {
			return err
		}
	}
	received := make(chan error, 1)
	go func() {
		_, err := io.Copy(s.out, s.c)
		received <- err
	}()
	var sendErr error
	sent := make(chan struct{})
	go func() {
		defer close(sent)
		if tty {
			sendErr = s.interactive(stdin)
		} else {
			sendErr = s.lines(s.in)
		}
	}()
	select {
	case err := <-received:
		return peerEnd(err)
	case <-sent:
		if errors.Is(sendErr, errTelnetClose) {
			return nil
		}
		if cw, ok := s.c.Conn().(interface{ CloseWrite() error }); ok {
			cw.CloseWrite()
		}
		return peerEnd(<-received)
	case <-ctx.Done():
		return ctx.Err()
	}
}

func peerEnd(err error) error {
	if err == nil || isClosedByPeer(err) {
		return nil
	}
	return err
}

// errTelnetClose is the user closing the connection from the prompt.
var errTelnetClose = errors.New("closed by the user")

// watchResize tells the server the window size after each SIGWINCH.
func (s *telnetSession) watchResize(fd int) (stop func()) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGWINCH)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-ch:
				if w, h, err := term.GetSize(fd); err == nil {
					s.c.SetWindowSize(w, h)
				}
			case <-done:
				return
			}
		}
	}()
	return func() { signal.Stop(ch); close(done) }
}

// lines sends r line by line with CR LF (line mode, or input that is
// not a terminal).
func (s *telnetSession) lines(r io.Reader) error {
	br := bufio.NewReader(r)
	for {
		line, err := br.ReadString('\n')
		if line != "" {
			line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
			if _, werr := s.c.Write([]byte(line + "\r\n")); werr != nil {
				return werr
			}
		}
		if err != nil {
			if err == io.EOF {
				return nil
			}
			return err
		}
	}
}

// interactive runs the terminal raw, a key at a time, with the escape prompt.
func (s *telnetSession) interactive(stdin *os.File) error {
	buf := make([]byte, 1024)
	for {
		n, err := stdin.Read(buf)
		if err != nil {
			return err
		}
		chunk := buf[:n]
		for len(chunk) > 0 {
			i := -1
			if s.escape != 0 {
				i = strings.IndexByte(string(chunk), s.escape)
			}
			data := chunk
			if i >= 0 {
				data = chunk[:i]
			}
			if err := s.send(data); err != nil {
				return err
			}
			if i < 0 {
				break
			}
			chunk = chunk[i+1:]
			term.Restore(s.fd, s.old)
			err := s.prompt(stdin)
			if _, rerr := term.MakeRaw(s.fd); rerr != nil && err == nil {
				err = rerr
			}
			if err != nil {
				return err
			}
		}
	}
}

// send writes typed bytes, echoing them when the server does not.
func (s *telnetSession) send(p []byte) error {
	if len(p) == 0 {
		return nil
	}
	if s.echoing() {
		s.out.Write([]byte(strings.ReplaceAll(string(p), "\r", "\r\n")))
	}
	_, err := s.c.Write(p)
	return err
}

func (s *telnetSession) echoing() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.localEcho != nil {
		return *s.localEcho
	}
	return !s.c.RemoteEcho()
}

// prompt reads and runs one telnet> command, in cooked mode.
func (s *telnetSession) prompt(stdin io.Reader) error {
	fmt.Fprint(s.errOut, "\ntelnet> ")
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && line == "" {
		return errTelnetClose
	}
	switch cmd := strings.TrimSpace(line); cmd {
	case "":
		return nil
	case "close", "quit", "q", "c":
		return errTelnetClose
	case "brk", "break":
		return s.c.Break()
	case "ip":
		return s.c.Interrupt()
	case "ayt":
		return s.c.AreYouThere()
	case "echo":
		on := !s.echoing()
		s.mu.Lock()
		s.localEcho = &on
		s.mu.Unlock()
		fmt.Fprintf(s.errOut, "local echo %s\n", map[bool]string{true: "on", false: "off"}[on])
	case "status":
		remote := s.c.Conn().RemoteAddr()
		fmt.Fprintf(s.errOut, "connected to %s; server echo %v, go-ahead suppressed %v, window size sent %v, terminal type sent %v, local echo %v\n",
			remote, s.c.RemoteEcho(), s.c.Enabled(telnet.SuppressGoAhead, true), s.c.Enabled(telnet.NAWS, false),
			s.c.Enabled(telnet.TerminalType, false), s.echoing())
	default:
		fmt.Fprintln(s.errOut, "commands: close, brk, ip, ayt, echo, status; an empty line goes back")
	}
	return nil
}
