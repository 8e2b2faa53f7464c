package daemon

import (
	"bytes"
	"context"
	"strings"

	"github.com/plumbnet/plumb/internal/mta"
)

// mailNews is the SMTP side of news to mail (a moderator's
// submissions): rcpt, an account name or an address, gets msg in its
// local mailbox or, off this host, through the outbound queue.
func (b *smtpBackend) mailNews(ctx context.Context, from, rcpt string, msg []byte) error {
	if !strings.Contains(rcpt, "@") {
		rcpt += "@" + b.hostname
	}
	remote, err := b.DeliverLocal(ctx, from, rcpt, bytes.NewReader(msg))
	if err != nil || len(remote) == 0 {
		return err
	}
	spool, err := b.queue.Spool(bytes.NewReader(msg))
	if err != nil {
		return err
	}
	defer spool.Discard()
	if err := b.queue.Hold(spool, mta.Envelope{From: from, Rcpts: remote}); err != nil {
		return err
	}
	return b.queue.Release(spool)
}
