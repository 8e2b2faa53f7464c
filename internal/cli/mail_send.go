package cli

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/plumbnet/plumb/smtp"
)

// mailSendOptions are plumb mail send's message flags.
type mailSendOptions struct {
	to, cc, bcc []string
	from        string
	subject     string
	body        string
	attach      []string
	raw         bool
}

func newMailSendCmd() *cobra.Command {
	o := &mailSendOptions{}
	f := &smtpFlags{}
	cmd := &cobra.Command{
		Use:   "send --to ADDR [--to ADDR...] [flags]",
		Short: "Send a message over SMTP",
		Long: `send builds a MIME message from its flags (subject, text from --body or
standard input, attachments) and sends it to an SMTP server; with --raw
it sends the message on standard input as it is.

The server is --server smtp://HOST:PORT (default plumb serve's incoming
listener, smtp://localhost:10025) or smtps://HOST:PORT for implicit TLS.
A user in the URL (smtp://alice@HOST:10587) logs in: the password comes
from the URL, the netrc file, or a prompt. Off this machine a login is
sent only after STARTTLS. It prints the recipients the server accepted
and fails if it refused any.`,
		Example: `  echo "It works." | plumb mail send --to bob@localhost --subject test
  plumb mail send --to bob@localhost --from alice@localhost --subject report --body "See attached." --attach report.pdf
  plumb mail send --raw --from app@localhost --to bob@localhost < message.eml
  plumb mail send --server smtp://alice@mail.example.org:587 --starttls --to x@example.com --subject hi --body hello`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			rcpts := append(append(append([]string{}, o.to...), o.cc...), o.bcc...)
			if len(rcpts) == 0 {
				return withExit(2, errors.New("no recipient: give --to ADDR (or --cc, --bcc)"))
			}
			for _, r := range append(rcpts, o.from) {
				if r != "" && smtp.CheckMailbox(r, true) != nil {
					return withExit(2, fmt.Errorf("%q is not an address like user@example.org", r))
				}
			}
			if o.from == "" {
				o.from = defaultSender()
			}
			var msg []byte
			var err error
			if o.raw {
				if o.subject != "" || o.body != "" || len(o.attach) > 0 {
					return withExit(2, errors.New("--raw sends standard input as it is; leave out --subject, --body and --attach"))
				}
				msg, err = io.ReadAll(cmd.InOrStdin())
			} else {
				msg, err = buildMessage(cmd, o)
			}
			if err != nil {
				return err
			}
			return sendMessage(cmd, f, o.from, rcpts, msg)
		},
	}
	fl := cmd.Flags()
	fl.StringArrayVar(&o.to, "to", nil, "recipient `ADDR` (repeat for more)")
	fl.StringArrayVar(&o.cc, "cc", nil, "copy to `ADDR` (repeat for more)")
	fl.StringArrayVar(&o.bcc, "bcc", nil, "blind copy to `ADDR`: a recipient not named in the header")
	fl.StringVar(&o.from, "from", "", "sender `ADDR` (default USER@HOSTNAME)")
	fl.StringVarP(&o.subject, "subject", "s", "", "subject `TEXT`")
	fl.StringVar(&o.body, "body", "", "message `TEXT` (default: standard input, unless it is a terminal)")
	fl.StringArrayVarP(&o.attach, "attach", "a", nil, "attach `FILE` (repeat for more)")
	fl.BoolVar(&o.raw, "raw", false, "send standard input as a complete message (header and body)")
	f.register(cmd, defaultSMTPServer)
	return cmd
}

// sendMessage sends msg and reports the outcome per recipient.
func sendMessage(cmd *cobra.Command, f *smtpFlags, from string, rcpts []string, msg []byte) error {
	c, err := f.dial(cmd)
	if err != nil {
		return err
	}
	defer c.Close()
	if max, ok := c.MaxMessageSize(); ok && int64(len(msg)) > max {
		return fmt.Errorf("the message is %d bytes and the server takes at most %d; send a smaller one", len(msg), max)
	}
	err = c.SendMail(from, rcpts, bytes.NewReader(msg), &smtp.MailOptions{Size: int64(len(msg)), Body: smtp.Body8BitMIME})
	var re *smtp.RcptErrors
	switch {
	case errors.As(err, &re):
		for _, r := range rcpts {
			if e, ok := re.Errors[r]; ok {
				fmt.Fprintf(cmd.ErrOrStderr(), "refused: <%s>: %v\n", r, e)
			} else {
				fmt.Fprintf(cmd.OutOrStdout(), "sent to <%s>\n", r)
			}
		}
		c.Quit()
		return fmt.Errorf("the server refused %d of %d recipients", len(re.Errors), len(rcpts))
	case err != nil:
		return fmt.Errorf("sending: %w", err)
	}
	for _, r := range rcpts {
		fmt.Fprintf(cmd.OutOrStdout(), "sent to <%s>\n", r)
	}
	return c.Quit()
}

// buildMessage makes a MIME message (RFC 2045, 2046) from the flags:
// a text/plain part in quoted-printable UTF-8, and each attachment in
// base64 under multipart/mixed.
func buildMessage(cmd *cobra.Command, o *mailSendOptions) ([]byte, error) {
	text := o.body
	if text == "" {
		in := cmd.InOrStdin()
		if f, ok := in.(*os.File); !ok || !term.IsTerminal(int(f.Fd())) {
			b, err := io.ReadAll(io.LimitReader(in, 64<<20))
			if err != nil {
				return nil, fmt.Errorf("reading the text from standard input: %w", err)
			}
			text = string(b)
		}
	}
	var buf bytes.Buffer
	h := func(k, v string) { fmt.Fprintf(&buf, "%s: %s\r\n", k, v) }
	h("From", o.from)
	h("To", strings.Join(o.to, ", "))
	if len(o.cc) > 0 {
		h("Cc", strings.Join(o.cc, ", "))
	}
	if o.subject != "" {
		h("Subject", mime.QEncoding.Encode("utf-8", o.subject))
	}
	h("Date", time.Now().Format(time.RFC1123Z))
	var id [12]byte
	rand.Read(id[:])
	h("Message-ID", "<"+hex.EncodeToString(id[:])+"@"+localHostname()+">")
	h("MIME-Version", "1.0")
	if len(o.attach) == 0 {
		h("Content-Type", "text/plain; charset=utf-8")
		h("Content-Transfer-Encoding", "quoted-printable")
		buf.WriteString("\r\n")
		writeQP(&buf, text)
		return buf.Bytes(), nil
	}
	mw := multipart.NewWriter(&buf)
	h("Content-Type", "multipart/mixed; boundary=\""+mw.Boundary()+"\"")
	buf.WriteString("\r\nThis is a multi-part message in MIME format.\r\n")
	part, _ := mw.CreatePart(textproto.MIMEHeader{
		"Content-Type":              {"text/plain; charset=utf-8"},
		"Content-Transfer-Encoding": {"quoted-printable"},
	})
	writeQP(part, text)
	for _, name := range o.attach {
		data, err := os.ReadFile(name)
		if err != nil {
			return nil, withExit(2, fmt.Errorf("--attach: %w", err))
		}
		base := filepath.Base(name)
		ctype := mime.TypeByExtension(filepath.Ext(base))
		if ctype == "" {
			ctype = "application/octet-stream"
		}
		part, _ := mw.CreatePart(textproto.MIMEHeader{
			"Content-Type":              {mime.FormatMediaType(ctype, map[string]string{"name": base})},
			"Content-Disposition":       {mime.FormatMediaType("attachment", map[string]string{"filename": base})},
			"Content-Transfer-Encoding": {"base64"},
		})
		enc := base64.StdEncoding.EncodeToString(data)
		for len(enc) > 76 {
			io.WriteString(part, enc[:76]+"\r\n")
			enc = enc[76:]
		}
		io.WriteString(part, enc+"\r\n")
	}
	mw.Close()
	return buf.Bytes(), nil
}

func writeQP(w io.Writer, text string) {
	qp := quotedprintable.NewWriter(w)
	qp.Write([]byte(strings.ReplaceAll(strings.ReplaceAll(text, "\r\n", "\n"), "\n", "\r\n")))
	qp.Close()
	io.WriteString(w, "\r\n")
}

// parseAddressList returns the addresses of header lines, for sendmail -t.
func parseAddressList(h mail.Header, keys ...string) ([]string, error) {
	var out []string
	for _, k := range keys {
		for _, v := range h[textproto.CanonicalMIMEHeaderKey(k)] {
			list, err := mail.ParseAddressList(v)
			if err != nil {
				return nil, fmt.Errorf("%s: header %q: %w", k, v, err)
			}
			for _, a := range list {
				out = append(out, a.Address)
			}
		}
	}
	return out, nil
}
