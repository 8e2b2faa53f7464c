package telnet

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"time"

	"github.com/creack/pty"

	"github.com/plumbnet/plumb/internal/lifecycle"
	"golang.org/x/sys/unix"
)

// drainWait bounds how long a session that ends waits for the last of
// its program's output.
const drainWait = 2 * time.Second

// maxTypeahead bounds what a client may type before its program starts.
const maxTypeahead = 4096

// run waits briefly for the answers to the session's option requests,
// then runs prog on a new pseudo-terminal until it ends or the client
// leaves.
func (c *conn) run(prog Program) error {
	if err := c.settle(); err != nil {
		return c.goodbye(err)
	}
	ptmx, tty, err := pty.Open()
	if err != nil {
		c.say("Cannot open a terminal; try again later.\r\n")
		return err
	}
	defer ptmx.Close()
	if cols, rows := c.term.Size(); cols > 0 && rows > 0 {
		setSize(ptmx, cols, rows)
	}
	if !c.neg.Local(Echo) {
		setEcho(tty, false) // the client echoes itself; the terminal must not echo too
	}
	c.pty = ptmx
	c.term.TTY = tty
	c.data = func(p []byte) { ptmx.Write(p) }
	ptmx.Write(c.typeahead) // the terminal holds it until the program reads
	c.typeahead = nil

	ctx, cancel := context.WithCancel(c.ctx)
	defer cancel()
	ran := make(chan error, 1)
	go func() {
		defer tty.Close() // the master reads EOF once every slave is closed
		ran <- prog.Run(ctx, c.term)
	}()
	copied := make(chan error, 1)
	go func() {
		_, err := io.Copy(c.w, ptmx)
		copied <- err
	}()
	read := make(chan error, 1)
	go func() {
		for {
			if err := c.pump(); err != nil {
				read <- err
				return
			}
		}
	}()

	var end error
	select {
	case end = <-ran:
		// The program ended: let its last output out, then hang up.
		c.ended(ctx, end)
		select {
		case <-copied:
		case <-time.After(drainWait):
		}
		c.Close()
		<-read
	case end = <-read:
		end = c.goodbye(end)
		cancel()
		ptmx.Close() // hangs up the terminal: SIGHUP, and EIO for readers
		<-ran
		<-copied
	case err := <-copied:
		// The program's output stopped: it ended (and closed the terminal
		// after saying so on ran), the client stopped reading and a write
		// timed out, or the program closed its terminal. Each ends the
		// session.
		select {
		case end = <-ran:
			c.ended(ctx, end)
		default:
			cancel()
			ptmx.Close()
			end = <-ran
			var toClient *net.OpError
			if errors.As(err, &toClient) {
				c.s.logger().Info("telnet: client stopped reading", "remote", c.remote(), "user", c.term.User, "err", err)
				end = fmt.Errorf("telnet: writing to the client: %w", err)
			}
		}
		c.Close()
		<-read
	}
	return end
}

// ended reports a program that could not run (not one that exited
// with a status).
func (c *conn) ended(ctx context.Context, err error) {
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) && ctx.Err() == nil {
		c.s.logger().Warn("telnet: program failed", "remote", c.remote(), "user", c.term.User, "err", err)
		c.say("\r\nThe program could not run; try again later.\r\n")
	}
}

// settle waits, up to NegotiationWait, until the client has
// answered the options asked for at the start and sent its terminal
// type, so the program starts with TERM and the window size set.
func (c *conn) settle() error {
	c.data = func(p []byte) {
		if len(c.typeahead)+len(p) <= maxTypeahead {
			c.typeahead = append(c.typeahead, p...)
		}
	}
	defer func() { c.data = nil }()
	deadline := time.Now().Add(lifecycle.Timeout(c.s.NegotiationWait, DefaultNegotiationWait))
	for c.neg.PendingRemote(TerminalType) || c.neg.PendingRemote(NAWS) || c.ttypeAsked {
		if time.Now().After(deadline) {
			return nil
		}
		saved := c.loginDeadline
		c.loginDeadline = deadline
		err := c.pump()
		c.loginDeadline = saved
		if errors.Is(err, errIdle) {
			return nil
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// goodbye tells the client why its session ends, and returns err.
func (c *conn) goodbye(err error) error {
	switch {
	case errors.Is(err, errShutdown):
		c.say("\r\nServer shutting down.\r\n")
	case errors.Is(err, errIdle):
		c.say("\r\nIdle too long; closing.\r\n")
	}
	return err
}

// setSize sets the terminal's window size; the kernel tells the
// foreground process group with SIGWINCH.
func setSize(ptmx *os.File, cols, rows int) {
	pty.Setsize(ptmx, &pty.Winsize{Cols: uint16(min(max(cols, 0), 0xffff)), Rows: uint16(min(max(rows, 0), 0xffff))})
}

// setEcho turns the terminal's echo on or off. It goes through
// SyscallConn, not Fd, which would make the file blocking and its reads
// impossible to interrupt by closing it.
func setEcho(tty *os.File, on bool) {
	sc, err := tty.SyscallConn()
	if err != nil {
		return
	}
	sc.Control(func(fd uintptr) {
		if t, err := unix.IoctlGetTermios(int(fd), ioctlGetTermios); err == nil {
			if on {
				t.Lflag |= unix.ECHO
			} else {
				t.Lflag &^= unix.ECHO
			}
			unix.IoctlSetTermios(int(fd), ioctlSetTermios, t)
		}
	})
}
