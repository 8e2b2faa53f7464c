package smtp

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/plumbnet/plumb/internal/wire"
)

// RcptErrors reports the recipients a server refused. SendMail returns
// it when the message went to the other recipients, or to none if All.
type RcptErrors struct {
	Errors map[string]error // by recipient
	All    bool             // every recipient was refused: nothing was sent
}

func (e *RcptErrors) Error() string {
	rcpts := make([]string, 0, len(e.Errors))
	for r := range e.Errors {
		rcpts = append(rcpts, r)
	}
	sort.Strings(rcpts)
	parts := make([]string, len(rcpts))
	for i, r := range rcpts {
		parts[i] = fmt.Sprintf("<%s>: %v", r, e.Errors[r])
	}
	return "smtp: recipients refused: " + strings.Join(parts, "; ")
}

// Unwrap returns the refusals, so errors.As finds an *Error in them.
func (e *RcptErrors) Unwrap() []error {
	errs := make([]error, 0, len(e.Errors))
	for _, err := range e.Errors {
		errs = append(errs, err)
	}
	return errs
}

// chunkSize is the BDAT chunk SendMail sends.
const chunkSize = 1 << 20

// SendMail sends the message r holds from from to every address in to,
// in one transaction. It pipelines MAIL, RCPT and DATA when the server
// offers PIPELINING (RFC 2920), asks for SMTPUTF8 when an address needs
// it, and uses BDAT when Chunking is set and the server offers it.
// Refused recipients come back as *RcptErrors; the message went to the
// others. A refused MAIL or message comes back as *Error.
func (c *Client) SendMail(from string, to []string, r io.Reader, opts *MailOptions) error {
	if len(to) == 0 {
		return errors.New("smtp: SendMail needs at least one recipient")
	}
	if err := c.hello(); err != nil {
		return err
	}
	utf8 := !isASCII(from)
	for _, t := range to {
		utf8 = utf8 || !isASCII(t)
	}
	mail, err := c.mailCommand(from, opts, utf8)
	if err != nil {
		return err
	}
	_, dsn := c.ext["DSN"]
	rcpts := make([]string, len(to))
	for i, t := range to {
		if rcpts[i], err = rcptCommand(t, nil, dsn); err != nil {
			return err
		}
	}
	_, chunking := c.ext["CHUNKING"]
	chunking = chunking && c.Chunking
	_, pipelining := c.ext["PIPELINING"]

	refused := &RcptErrors{Errors: map[string]error{}}
	if pipelining {
		c.deadline()
		lines := append([]string{mail}, rcpts...)
		if !chunking {
			lines = append(lines, "DATA")
		}
		for _, l := range lines {
			c.bw.WriteString(l + "\r\n")
		}
		if err := c.bw.Flush(); err != nil {
			return err
		}
		_, _, mailErr := c.readReply(250)
		for i := range to {
			if _, _, err := c.readReply(250); err != nil {
				if !isReplyErr(err) {
					return err
				}
				refused.Errors[to[i]] = err
			}
		}
		var dataErr error
		if !chunking {
			_, _, dataErr = c.readReply(354)
			if dataErr != nil && !isReplyErr(dataErr) {
				return dataErr
			}
			if dataErr == nil && (mailErr != nil || len(refused.Errors) == len(to)) {
				// A server that says 354 with no recipient gets an empty
				// message it must refuse (RFC 2920 section 3.1).
				c.bw.WriteString(".\r\n")
				c.bw.Flush()
				c.readReply(250)
			}
		}
		if mailErr != nil {
			return mailErr
		}
		if len(refused.Errors) == len(to) {
			refused.All = true
			c.Reset()
			return refused
		}
		if dataErr != nil {
			c.Reset()
			return dataErr
		}
	} else {
		if _, _, err := c.cmd(250, "%s", mail); err != nil {
			return err
		}
		for i, l := range rcpts {
			if _, _, err := c.cmd(250, "%s", l); err != nil {
				if !isReplyErr(err) {
					return err
				}
				refused.Errors[to[i]] = err
			}
		}
		if len(refused.Errors) == len(to) {
			refused.All = true
			c.Reset()
			return refused
		}
		if !chunking {
			if _, _, err := c.cmd(354, "DATA"); err != nil {
				if isReplyErr(err) {
					c.Reset()
				}
				return err
			}
		}
	}
	if chunking {
		err = c.sendChunks(r)
	} else {
		w := c.dataWriter()
		if _, err = io.Copy(w, r); err == nil {
			err = w.Close()
		}
	}
	if err != nil {
		return err
	}
	if len(refused.Errors) > 0 {
		return refused
	}
	return nil
}

func isReplyErr(err error) bool {
	var e *Error
	return errors.As(err, &e)
}

// sendChunks sends r as BDAT chunks, line ends made CRLF.
func (c *Client) sendChunks(r io.Reader) error {
	var buf bytes.Buffer
	norm := wire.NewCRLFWriter(&buf)
	in := make([]byte, 64<<10)
	for {
		n, rerr := r.Read(in)
		if n > 0 {
			norm.Write(in[:n])
		}
		if rerr == io.EOF {
			norm.Close()
			return c.bdat(buf.Bytes(), true)
		}
		if rerr != nil {
			return rerr
		}
		if buf.Len() >= chunkSize {
			// A CR ending this chunk may meet its LF in the next: the
			// server checks line ends across chunks.
			if err := c.bdat(buf.Bytes(), false); err != nil {
				return err
			}
			buf.Reset()
		}
	}
}

func (c *Client) bdat(chunk []byte, last bool) error {
	c.deadline()
	if last {
		fmt.Fprintf(c.bw, "BDAT %d LAST\r\n", len(chunk))
	} else {
		fmt.Fprintf(c.bw, "BDAT %d\r\n", len(chunk))
	}
	c.bw.Write(chunk)
	if err := c.bw.Flush(); err != nil {
		return err
	}
	_, _, err := c.readReply(250)
	return err
}

// dataWriter is the message writer of Data and SendMail: dots stuffed
// and line ends made CRLF by the wire kit, the verdict read on Close.
type dataWriter struct {
	c *Client
	w io.WriteCloser
}

func (c *Client) dataWriter() *dataWriter {
	return &dataWriter{c: c, w: wire.NewDotWriter(c.bw)}
}

func (d *dataWriter) Write(p []byte) (int, error) {
	d.c.deadline()
	return d.w.Write(p)
}

// Close ends the message and returns the server's verdict.
func (d *dataWriter) Close() error {
	d.c.deadline()
	if err := d.w.Close(); err != nil {
		return err
	}
	_, _, err := d.c.readReply(250)
	return err
}
