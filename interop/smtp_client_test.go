package interop

import (
	"context"
	"strings"
	"time"

	"github.com/plumbnet/plumb/smtp"
)

// sendOne sends one message with plumb's SMTP client and returns nil
// only if the server answered 250 after the data.
func sendOne(addr, from, to, msg string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := smtp.Dial(ctx, addr)
	if err != nil {
		return err
	}
	defer c.Close()
	c.Timeout = 10 * time.Second
	if err := c.SendMail(from, []string{to}, strings.NewReader(msg), nil); err != nil {
		return err
	}
	c.Quit()
	return nil
}
