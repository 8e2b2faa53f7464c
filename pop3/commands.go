package pop3

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/plumbnet/plumb/internal/wire"
	"github.com/plumbnet/plumb/sasl"
)

type handler struct {
	fn     func(c *conn, cmd command) error
	states state
}

// handlers is the verb table: each command with the states it is
// allowed in.
var handlers map[string]handler

func init() {
	auth, trans, both := stateAuthorization, stateTransaction, stateAuthorization|stateTransaction
	handlers = map[string]handler{
		"CAPA": {(*conn).cmdCapa, both},
		"QUIT": {(*conn).cmdQuit, both},
		"USER": {(*conn).cmdUser, auth},
		"PASS": {(*conn).cmdPass, auth},
		"APOP": {(*conn).cmdAPOP, auth},
		"AUTH": {(*conn).cmdAuth, auth},
		"STLS": {(*conn).cmdSTLS, auth},
		"STAT": {(*conn).cmdStat, trans},
		"LIST": {(*conn).cmdList, trans},
		"UIDL": {(*conn).cmdUIDL, trans},
		"RETR": {(*conn).cmdRetr, trans},
		"TOP":  {(*conn).cmdTop, trans},
		"DELE": {(*conn).cmdDele, trans},
		"NOOP": {(*conn).cmdNoop, trans},
		"RSET": {(*conn).cmdRset, trans},
	}
}

func (c *conn) cmdCapa(cmd command) error {
	c.reply("+OK Capability list follows")
	for _, l := range []string{"TOP", "UIDL", "RESP-CODES", "AUTH-RESP-CODE", "PIPELINING"} {
		c.reply(l)
	}
	if c.state == stateAuthorization {
		if c.plaintextOK() {
			c.reply("USER")
			c.reply("SASL " + strings.Join(sasl.Mechanisms(), " "))
		}
		if c.s.TLSConfig != nil && c.tls == nil {
			c.reply("STLS")
		}
	}
	c.reply("IMPLEMENTATION plumb")
	c.reply(".")
	return nil
}

func (c *conn) cmdQuit(cmd command) error {
	c.quit = true
	if c.state != stateTransaction {
		c.reply("+OK Bye")
		return nil
	}
	// UPDATE state (RFC 1939 §6).
	var uids []string
	for i, d := range c.deleted {
		if d {
			uids = append(uids, c.msgs[i].UID)
		}
	}
	left := len(c.msgs) - len(uids)
	var err error
	if len(uids) > 0 {
		err = c.drop.Delete(c.ctx, uids)
	}
	// Release the maildrop before the reply, so a client that logs in
	// again at once finds it free.
	c.drop.Close()
	c.drop = nil
	if err != nil {
		c.backendError(err, "-ERR [SYS/TEMP] Some deleted messages were not removed", "deleting messages")
		return nil
	}
	c.reply(fmt.Sprintf("+OK Bye (%d messages left)", left))
	return nil
}

// totals returns the count and size of the messages not marked deleted.
func (c *conn) totals() (n int, size int64) {
	for i, m := range c.msgs {
		if !c.deleted[i] {
			n++
			size += m.Size
		}
	}
	return n, size
}

// message resolves a message-number argument, answering -ERR itself
// when it names no message or a deleted one.
func (c *conn) message(arg string) (int, bool) {
	n, ok := parseMsgNum(arg)
	if !ok || n < 1 || n > len(c.msgs) {
		c.reply("-ERR No such message")
		return 0, false
	}
	if c.deleted[n-1] {
		c.reply(fmt.Sprintf("-ERR Message %d already deleted", n))
		return 0, false
	}
	return n - 1, true
}

func (c *conn) cmdStat(cmd command) error {
	n, size := c.totals()
	c.reply(fmt.Sprintf("+OK %d %d", n, size))
	return nil
}

func (c *conn) cmdList(cmd command) error {
	return c.listing(cmd, "LIST", func(i int) string { return fmt.Sprint(c.msgs[i].Size) })
}

func (c *conn) cmdUIDL(cmd command) error {
	return c.listing(cmd, "UIDL", func(i int) string { return c.msgs[i].UID })
}

// listing answers LIST and UIDL: one message with an argument, else a
// multi-line list of every message not marked deleted.
func (c *conn) listing(cmd command, name string, field func(i int) string) error {
	switch len(cmd.args) {
	case 0:
		c.reply("+OK")
		for i := range c.msgs {
			if !c.deleted[i] {
				c.bw.WriteString(fmt.Sprint(i+1, " ", field(i), "\r\n"))
			}
		}
		c.reply(".")
	case 1:
		if i, ok := c.message(cmd.args[0]); ok {
			c.reply(fmt.Sprintf("+OK %d %s", i+1, field(i)))
		}
	default:
		c.bad++
		c.reply("-ERR Syntax: " + name + " [msg]")
	}
	return nil
}

func (c *conn) cmdRetr(cmd command) error {
	if len(cmd.args) != 1 {
		c.bad++
		c.reply("-ERR Syntax: RETR msg")
		return nil
	}
	i, ok := c.message(cmd.args[0])
	if !ok {
		return nil
	}
	return c.send(i, -1, fmt.Sprintf("+OK %d octets", c.msgs[i].Size))
}

func (c *conn) cmdTop(cmd command) error {
	if len(cmd.args) != 2 {
		c.bad++
		c.reply("-ERR Syntax: TOP msg lines")
		return nil
	}
	lines, ok := parseMsgNum(cmd.args[1])
	if !ok {
		c.bad++
		c.reply("-ERR Syntax: TOP msg lines")
		return nil
	}
	i, ok := c.message(cmd.args[0])
	if !ok {
		return nil
	}
	return c.send(i, lines, "+OK Top of message follows")
}

// send writes message i after the status line ok, dot-stuffed with
// CRLF line ends; with bodyLines >= 0 only its header and that many
// lines of its body (TOP). A failure after the status line cannot be
// answered, so it ends the session.
func (c *conn) send(i, bodyLines int, ok string) error {
	rc, err := c.drop.Open(c.ctx, c.msgs[i].UID)
	if err != nil {
		c.backendError(err, "-ERR [SYS/TEMP] Message cannot be read now", "opening message", "uid", c.msgs[i].UID)
		return nil
	}
	defer rc.Close()
	c.reply(ok)
	if err := writeMessage(c.bw, storeReader{rc}, bodyLines); err != nil {
		// A client that stops reading or hangs up mid-message is the
		// client's business; a message the store cannot read is ours.
		var se storeError
		if errors.As(err, &se) {
			c.s.logger().Error("pop3: reading message from the store", "user", c.user, "uid", c.msgs[i].UID, "err", se.err)
		} else {
			c.s.logger().Info("pop3: client stopped receiving a message", "user", c.user, "uid", c.msgs[i].UID, "remote", c.remote(), "err", err)
		}
		return err
	}
	return nil
}

// storeReader marks the errors of a message's reader, so that send can
// tell a failing store from a failing client connection.
type storeReader struct{ r io.Reader }

func (s storeReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if err != nil && err != io.EOF {
		err = storeError{err}
	}
	return n, err
}

type storeError struct{ err error }

func (e storeError) Error() string { return e.err.Error() }
func (e storeError) Unwrap() error { return e.err }

// writeMessage writes the message r holds to bw as a multi-line body:
// dot-stuffed, with CRLF line ends and the final ".", and flushes. With
// bodyLines >= 0 only its header and that many body lines go (TOP).
func writeMessage(bw *bufio.Writer, r io.Reader, bodyLines int) error {
	dw := wire.NewDotWriter(bw)
	var w io.Writer = dw
	if bodyLines >= 0 {
		w = &topWriter{w: dw, lines: bodyLines, bol: true, empty: true}
	}
	buf := copyBufs.Get().(*[]byte)
	_, err := io.CopyBuffer(w, r, *buf)
	copyBufs.Put(buf)
	if err != nil && !errors.Is(err, errTopDone) {
		return err
	}
	return dw.Close()
}

var copyBufs = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

func (c *conn) cmdDele(cmd command) error {
	if len(cmd.args) != 1 {
		c.bad++
		c.reply("-ERR Syntax: DELE msg")
		return nil
	}
	if i, ok := c.message(cmd.args[0]); ok {
		c.deleted[i] = true
		c.reply(fmt.Sprintf("+OK Message %d deleted", i+1))
	}
	return nil
}

func (c *conn) cmdNoop(cmd command) error {
	c.reply("+OK")
	return nil
}

func (c *conn) cmdRset(cmd command) error {
	clear(c.deleted)
	n, size := c.totals()
	c.reply(fmt.Sprintf("+OK Maildrop has %d messages (%d octets)", n, size))
	return nil
}
