package mta

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/textproto"
	"os"
	"strings"
	"time"
)

// maxBouncedHeader bounds the original header a DSN carries.
const maxBouncedHeader = 64 << 10

// Failure is a recipient a message could not be delivered to.
type Failure struct {
	Addr  string `json:"addr"`
	Reply string `json:"reply"` // the reply or reason, for the DSN
}

func (f Failure) String() string { return fmt.Sprintf("<%s>: %s", f.Addr, f.Reply) }

// bounceFile sends a DSN for failed to sender with the header of the
// message in msgPath.
func (q *Queue) bounceFile(ctx context.Context, sender string, failed []Failure, msgPath string) error {
	f, err := os.Open(msgPath)
	if err != nil {
		return q.Bounce(ctx, sender, failed, nil)
	}
	defer f.Close()
	return q.Bounce(ctx, sender, failed, f)
}

// Bounce sends sender a delivery status notification (RFC 3464) saying
// a message failed for failed; original, if not nil, supplies the
// header to quote. A local sender gets it through the LocalDelivery, a
// remote one through the queue. The null sender gets none: a bounce
// never bounces.
func (q *Queue) Bounce(ctx context.Context, sender string, failed []Failure, original io.Reader) error {
	if sender == "" || len(failed) == 0 {
		return nil
	}
	msg, err := q.dsn(sender, failed, original)
	if err != nil {
		return err
	}
	remote, err := q.local.DeliverLocal(ctx, "", sender, bytes.NewReader(msg))
	if errors.Is(err, ErrNoMailbox) {
		q.log.Warn("queue: bounce to an unknown local sender dropped", "sender", sender, "err", err)
		return nil
	}
	if err != nil {
		return fmt.Errorf("queue: delivering a bounce to %s: %w", sender, err)
	}
	if len(remote) > 0 {
		return q.Enqueue(Envelope{Rcpts: remote}, bytes.NewReader(msg))
	}
	return nil
}

func (q *Queue) dsn(sender string, failed []Failure, original io.Reader) ([]byte, error) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	now := time.Now()
	fmt.Fprintf(&buf, "From: Mail Delivery System <MAILER-DAEMON@%s>\r\n", q.hostname())
	fmt.Fprintf(&buf, "To: <%s>\r\n", sender)
	fmt.Fprintf(&buf, "Subject: Undelivered Mail Returned to Sender\r\n")
	fmt.Fprintf(&buf, "Date: %s\r\n", now.Format(time.RFC1123Z))
	fmt.Fprintf(&buf, "Message-ID: <%s@%s>\r\n", newID(), q.hostname())
	fmt.Fprintf(&buf, "Auto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n")
	fmt.Fprintf(&buf, "Content-Type: multipart/report; report-type=delivery-status;\r\n\tboundary=\"%s\"\r\n\r\n", mw.Boundary())
	buf.WriteString("This is a delivery status notification in MIME format.\r\n")

	text, _ := mw.CreatePart(textproto.MIMEHeader{"Content-Type": {"text/plain; charset=utf-8"}})
	fmt.Fprintf(text, "This is the mail system at %s.\r\n\r\nYour message could not be delivered to these recipients:\r\n\r\n", q.hostname())
	for _, f := range failed {
		fmt.Fprintf(text, "  %s\r\n", crlfSafe(f.String()))
	}

	status, _ := mw.CreatePart(textproto.MIMEHeader{"Content-Type": {"message/delivery-status"}})
	fmt.Fprintf(status, "Reporting-MTA: dns; %s\r\nArrival-Date: %s\r\n", q.hostname(), now.Format(time.RFC1123Z))
	for _, f := range failed {
		fmt.Fprintf(status, "\r\nFinal-Recipient: rfc822; %s\r\nAction: failed\r\nStatus: %s\r\nDiagnostic-Code: smtp; %s\r\n",
			f.Addr, statusOf(f.Reply), crlfSafe(f.Reply))
	}

	if original != nil {
		hdr, _ := mw.CreatePart(textproto.MIMEHeader{"Content-Type": {"text/rfc822-headers"}})
		br := bufio.NewReader(io.LimitReader(original, maxBouncedHeader))
		for {
			line, err := br.ReadString('\n')
			if strings.TrimRight(line, "\r\n") == "" {
				break
			}
			io.WriteString(hdr, line)
			if err != nil {
				break
			}
		}
	}
	if err := mw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// statusOf finds the RFC 3463 code in a reply text, 5.0.0 if none.
func statusOf(reply string) string {
	for _, w := range strings.Fields(reply) {
		p := strings.Split(w, ".")
		if len(p) == 3 && (p[0] == "5" || p[0] == "4") && isDigits(p[1]) && isDigits(p[2]) {
			return "5." + p[1] + "." + p[2]
		}
	}
	return "5.0.0"
}

func isDigits(s string) bool {
	if s == "" || len(s) > 3 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func crlfSafe(s string) string { return strings.NewReplacer("\r", " ", "\n", " ").Replace(s) }
