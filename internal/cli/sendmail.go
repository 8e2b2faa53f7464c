package cli

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/mail"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/plumbnet/plumb/smtp"
)

func init() { addCommand(newSendmailCmd) }

// Exit statuses of sysexits.h, which programs calling sendmail read.
const (
	exUsage       = 64
	exDataErr     = 65
	exNoUser      = 67
	exUnavailable = 69
	exTempFail    = 75
)

func newSendmailCmd() *cobra.Command {
	var (
		fromHeaders bool
		from        string
		dotOK       bool
		options     []string
		fullName    string
		mode        string
	)
	f := &smtpFlags{}
	cmd := &cobra.Command{
		Use:   "sendmail [-t] [-i] [-f FROM] [RCPT...]",
		Short: "Send a message from standard input, as sendmail does",
		Long: `sendmail is a drop-in for the sendmail command programs call to send
mail (cron, PHP's mail(), git send-email, mutt): it reads a message on
standard input and hands it to an SMTP server, by default plumb serve's
(smtp://localhost:10025, or $PLUMB_SMTP, or --server).

Recipients are the arguments, and with -t also the To, Cc and Bcc
headers (the Bcc header is removed). Without -i (or -oi) a line holding
only "." ends the message. Date, From and Message-ID are added when
missing. Exit statuses follow sysexits.h: 64 usage, 65 bad message,
67 unknown recipient, 69 refused, 75 temporary failure (try again).`,
		Example: `  printf 'Subject: hi\n\nhello\n' | plumb sendmail bob@localhost
  plumb sendmail -t -i < message.eml
  PLUMB_SMTP=smtp://mail.internal:25 plumb sendmail -f app@example.org ops@example.org < alert.txt`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if !cmd.Flags().Changed("server") {
				if env := os.Getenv("PLUMB_SMTP"); env != "" {
					f.server = env
				}
			}
			for _, o := range options {
				if o == "i" {
					dotOK = true
				}
			}
			if mode != "m" {
				return withExit(exUsage, fmt.Errorf("-b%s is not supported; only -bm (deliver a message)", mode))
			}
			msg, err := readSendmailInput(cmd.InOrStdin(), dotOK)
			if err != nil {
				return withExit(exDataErr, err)
			}
			if from == "" {
				from = defaultSender()
			}
			if from != "<>" && smtp.CheckMailbox(from, true) != nil {
				return withExit(exUsage, fmt.Errorf("-f %q is not an address like user@example.org", from))
			}
			if from == "<>" {
				from = ""
			}
			rcpts := append([]string{}, args...)
			msg, headerRcpts, err := fixHeader(msg, from, fullName, fromHeaders)
			if err != nil {
				return withExit(exDataErr, err)
			}
			rcpts = append(rcpts, headerRcpts...)
			if len(rcpts) == 0 {
				return withExit(exUsage, errors.New("no recipients: name them as arguments, or use -t to take them from the To, Cc and Bcc headers"))
			}
			for _, r := range rcpts {
				if smtp.CheckMailbox(r, true) != nil {
					return withExit(exUsage, fmt.Errorf("%q is not an address like user@example.org", r))
				}
			}
			return sendmailSend(cmd, f, from, dedupe(rcpts), msg)
		},
	}
	fl := cmd.Flags()
	fl.BoolVarP(&fromHeaders, "read-headers", "t", false, "take recipients from the To, Cc and Bcc headers")
	fl.StringVarP(&from, "from", "f", "", "envelope sender `ADDR` (\"<>\" for none)")
	fl.BoolVarP(&dotOK, "ignore-dots", "i", false, "a line with only \".\" does not end the message")
	fl.StringArrayVarP(&options, "option", "o", nil, "sendmail option (-oi is -i; others are ignored)")
	fl.StringVarP(&fullName, "full-name", "F", "", "sender's full `NAME`, for a From header added when missing")
	fl.StringVarP(&mode, "mode", "b", "m", "sendmail mode (only -bm, deliver, is supported)")
	f.register(cmd, defaultSMTPServer)
	return cmd
}

// readSendmailInput reads the message; without dotOK a line "." ends it.
func readSendmailInput(r io.Reader, dotOK bool) ([]byte, error) {
	if dotOK {
		return io.ReadAll(r)
	}
	var buf bytes.Buffer
	br := bufio.NewReader(r)
	for {
		line, err := br.ReadString('\n')
		if strings.TrimRight(line, "\r\n") == "." && strings.HasSuffix(line, "\n") {
			return buf.Bytes(), nil
		}
		buf.WriteString(line)
		if err == io.EOF {
			return buf.Bytes(), nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// fixHeader adds Date, From and Message-ID when missing and, for -t,
// returns the header's recipients and removes Bcc.
func fixHeader(msg []byte, from, fullName string, fromHeaders bool) ([]byte, []string, error) {
	end := bytes.Index(msg, []byte("\n\n"))
	if e := bytes.Index(msg, []byte("\r\n\r\n")); e >= 0 && (end < 0 || e < end) {
		end = e
	}
	var head []byte
	if end >= 0 {
		head = msg[:end+1]
	}
	m, err := mail.ReadMessage(bytes.NewReader(append(bytes.Clone(head), '\n')))
	if err != nil {
		if fromHeaders {
			return nil, nil, fmt.Errorf("-t: the message header cannot be read: %w", err)
		}
		m = &mail.Message{Header: mail.Header{}}
		head = nil
	}
	var rcpts []string
	if fromHeaders {
		if rcpts, err = parseAddressList(m.Header, "To", "Cc", "Bcc"); err != nil {
			return nil, nil, err
		}
		if len(m.Header["Bcc"]) > 0 {
			msg = removeHeader(msg, len(head), "Bcc")
		}
	}
	var add bytes.Buffer
	if m.Header.Get("Date") == "" {
		fmt.Fprintf(&add, "Date: %s\r\n", time.Now().Format(time.RFC1123Z))
	}
	if m.Header.Get("From") == "" && from != "" {
		fmt.Fprintf(&add, "From: %s\r\n", (&mail.Address{Name: fullName, Address: from}).String())
	}
	if m.Header.Get("Message-Id") == "" {
		fmt.Fprintf(&add, "Message-ID: <%d.%s@%s>\r\n", time.Now().UnixNano(), "plumb", localHostname())
	}
	if head == nil && add.Len() > 0 {
		add.WriteString("\r\n") // the input had no header: it was all body
	}
	return append(add.Bytes(), msg...), rcpts, nil
}

// removeHeader drops every field named key (with its continuation
// lines) from the header, which is the first headLen bytes of msg.
func removeHeader(msg []byte, headLen int, key string) []byte {
	var out bytes.Buffer
	lines := bytes.SplitAfter(msg[:headLen], []byte("\n"))
	skipping := false
	for _, l := range lines {
		if len(l) > 0 && (l[0] == ' ' || l[0] == '\t') {
			if !skipping {
				out.Write(l)
			}
			continue
		}
		name, _, _ := bytes.Cut(l, []byte(":"))
		skipping = strings.EqualFold(strings.TrimSpace(string(name)), key)
		if !skipping {
			out.Write(l)
		}
	}
	out.Write(msg[headLen:])
	return out.Bytes()
}

func dedupe(list []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range list {
		if k := strings.ToLower(s); !seen[k] {
			seen[k] = true
			out = append(out, s)
		}
	}
	return out
}

// sendmailSend sends and maps failures to sysexits statuses.
func sendmailSend(cmd *cobra.Command, f *smtpFlags, from string, rcpts []string, msg []byte) error {
	c, err := f.dial(cmd)
	if err != nil {
		var ee *exitError
		if errors.As(err, &ee) {
			return withExit(exUsage, err)
		}
		return withExit(exTempFail, err)
	}
	defer c.Close()
	err = c.SendMail(from, rcpts, bytes.NewReader(msg), &smtp.MailOptions{Size: int64(len(msg)), Body: smtp.Body8BitMIME})
	var re *smtp.RcptErrors
	var se *smtp.Error
	switch {
	case err == nil:
		return c.Quit()
	case errors.As(err, &re):
		c.Quit()
		temp := false
		for r, e := range re.Errors {
			fmt.Fprintf(cmd.ErrOrStderr(), "plumb sendmail: <%s>: %v\n", r, e)
			temp = temp || smtp.IsTemporary(e)
		}
		if temp {
			return withExit(exTempFail, fmt.Errorf("%d recipients refused for now; try again later", len(re.Errors)))
		}
		return withExit(exNoUser, fmt.Errorf("%d recipients refused", len(re.Errors)))
	case errors.As(err, &se) && !se.Temporary():
		return withExit(exUnavailable, fmt.Errorf("the server refused the message: %w", err))
	}
	return withExit(exTempFail, fmt.Errorf("sending failed for now: %w; try again later", err))
}
