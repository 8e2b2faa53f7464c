package telnet

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"os"
	"os/exec"
	"sync"
	"syscall"
)

// Errors a Backend returns to choose what the client is told.
var (
	// ErrAuthFailed: a wrong name or password ("Login incorrect").
	ErrAuthFailed = errors.New("telnet: authentication failed")
	// ErrNotAllowed: the account is valid but has no program here.
	ErrNotAllowed = errors.New("telnet: account may not log in here")
)

// ConnInfo describes a client connection.
type ConnInfo struct {
	RemoteAddr net.Addr
	LocalAddr  net.Addr
	TLS        *tls.ConnectionState // nil when not TLS
}

// A Backend checks logins and chooses the program each account runs.
type Backend interface {
	// Login checks user and password. It returns the program to run on
	// the session's terminal, or an error wrapping ErrAuthFailed or
	// ErrNotAllowed; any other error is logged and the client told the
	// login failed. ctx ends with the session. A backend whose names
	// match loosely (without regard to case, say) returns an [Account]
	// so that the session knows the account by its own name, not as
	// typed.
	Login(ctx context.Context, c ConnInfo, user, password string) (Program, error)
}

// An Account is what a Backend's Login returns to name the account
// that logged in: Terminal.User and the server's log then hold Name.
type Account struct {
	Name    string
	Program Program
}

// Run runs the account's program.
func (a Account) Run(ctx context.Context, t *Terminal) error { return a.Program.Run(ctx, t) }

// A Program runs on a session's pseudo-terminal once its user has
// logged in; the session ends when Run returns.
type Program interface {
	// Run runs the program on t until it ends or ctx is done (the peer
	// left, or the server is closing). It must return soon after ctx is
	// done or t's terminal is closed.
	Run(ctx context.Context, t *Terminal) error
}

// ProgramFunc makes a function a Program.
type ProgramFunc func(ctx context.Context, t *Terminal) error

// Run calls f.
func (f ProgramFunc) Run(ctx context.Context, t *Terminal) error { return f(ctx, t) }

// A Terminal is what a Program gets: the slave side of the session's
// pseudo-terminal, so the kernel's line discipline (echo, erase, ^C,
// CR to NL) sits between the client and the program, and what the
// client said of itself.
type Terminal struct {
	// TTY is the pseudo-terminal's slave side: the program's standard
	// input, output and error.
	TTY *os.File
	// Type is the terminal type from TTYPE (RFC 1091), lowercased, as
	// TERM; "dumb" when the client sent none.
	Type string
	// User is the account that logged in, by the name the Backend
	// gave in an [Account], else as typed.
	User string
	// Env holds the NEW-ENVIRON variables (RFC 1572) the client sent
	// whose names the server's AcceptEnv allows.
	Env map[string]string
	// Info is the client connection.
	Info ConnInfo

	mu      sync.Mutex
	cols    int
	rows    int
	resized chan struct{}
}

func newTerminal() *Terminal { return &Terminal{resized: make(chan struct{}, 1), Type: "dumb"} }

// Size returns the window size from NAWS (RFC 1073): 0 when unknown.
func (t *Terminal) Size() (cols, rows int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.cols, t.rows
}

// Resized receives a value after the window size changed (the kernel
// also sends SIGWINCH to the terminal's foreground process group).
func (t *Terminal) Resized() <-chan struct{} { return t.resized }

func (t *Terminal) setSize(cols, rows int) {
	t.mu.Lock()
	t.cols, t.rows = cols, rows
	t.mu.Unlock()
	select {
	case t.resized <- struct{}{}:
	default:
	}
}

// Environ returns TERM, USER and LOGNAME, and the accepted client
// variables, in os/exec's form, for a command's environment.
func (t *Terminal) Environ() []string {
	env := []string{"TERM=" + t.Type}
	if t.User != "" {
		env = append(env, "USER="+t.User, "LOGNAME="+t.User)
	}
	for k, v := range t.Env {
		env = append(env, k+"="+v)
	}
	return env
}

// A Command is a Program that runs an executable on the terminal as a
// session leader with the terminal as its controlling tty, as login(1)
// would; it gets SIGHUP when the session ends.
type Command struct {
	Path string   // the executable
	Args []string // argv after Path
	Dir  string   // working directory; "" is the server's
	// Env is added to the terminal's variables (TERM, USER, …), after
	// PATH and HOME from the server's own environment.
	Env []string
}

// Run starts the command on t and waits for it. When ctx ends first the
// process group gets SIGHUP, then SIGKILL if it lingers.
func (c Command) Run(ctx context.Context, t *Terminal) error {
	cmd := exec.Command(c.Path, c.Args...)
	cmd.Dir = c.Dir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	cmd.Env = append(append(cmd.Env, t.Environ()...), c.Env...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = t.TTY, t.TTY, t.TTY
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		syscall.Kill(-cmd.Process.Pid, syscall.SIGHUP)
		select {
		case err := <-done:
			return err
		case <-afterGrace():
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			return <-done
		}
	}
}
