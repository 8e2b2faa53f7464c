package cli

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/user"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/plumbnet/plumb/sasl"
	"github.com/plumbnet/plumb/smtp"
)

func init() { addCommand(newMailCmd) }

func newMailCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "mail",
		Short: "Send mail over SMTP and read it over POP3 or IMAP",
		Long: `mail sends a message to an SMTP server (plumb mail send), lists or
fetches a POP3 mailbox or IMAP folder (plumb mail list, plumb mail
fetch), and searches, lists the folders of and watches an IMAP account
(plumb mail search, folders, watch). The servers default to plumb
serve's on this machine.`,
		Example: `  plumb mail send --to bob@localhost --subject hi < note.txt
  plumb mail send --server smtps://alice@mail.example.org --to x@example.com --attach report.pdf
  plumb mail list pop3://alice@localhost:10110
  plumb mail watch imap://alice@localhost:10143`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newMailSendCmd())
	for _, f := range mailSubcommands {
		cmd.AddCommand(f())
	}
	return cmd
}

// defaultSMTPServer is plumb serve's incoming SMTP listener.
const defaultSMTPServer = "smtp://localhost:10025"

// smtpFlags are the connection flags of plumb mail send and plumb sendmail.
type smtpFlags struct {
	server    string
	startTLS  bool
	insecure  bool
	caFile    string
	netrcFile string
	timeout   time.Duration
}

func (f *smtpFlags) register(cmd *cobra.Command, server string) {
	cmd.Flags().StringVar(&f.server, "server", server, "SMTP server `URL`: smtp://[USER[:PASS]@]HOST[:PORT] or smtps:// for implicit TLS")
	cmd.Flags().BoolVar(&f.startTLS, "starttls", false, "require STARTTLS on an smtp:// connection (it is used anyway when offered with a login)")
	cmd.Flags().BoolVarP(&f.insecure, "insecure", "k", false, "do not verify the server's TLS certificate")
	cmd.Flags().StringVar(&f.caFile, "ca", "", "PEM `FILE` of the CA that signed the server's certificate")
	cmd.Flags().StringVar(&f.netrcFile, "netrc", "", "netrc `FILE` for the password (default $NETRC or ~/.netrc)")
	cmd.Flags().DurationVar(&f.timeout, "timeout", time.Minute, "how long to wait for each reply")
}

// dial connects, says EHLO, upgrades to TLS when asked or when a login
// will follow, and logs in when the URL names a user.
func (f *smtpFlags) dial(cmd *cobra.Command) (*smtp.Client, error) {
	u, err := url.Parse(f.server)
	if err != nil || u.Host == "" {
		return nil, withExit(2, fmt.Errorf("--server %q: want smtp://HOST[:PORT] or smtps://HOST[:PORT]", f.server))
	}
	var port string
	switch u.Scheme {
	case "smtp":
		port = "10025"
	case "smtps":
		port = "10465"
	default:
		return nil, withExit(2, fmt.Errorf("--server %q: scheme must be smtp or smtps", f.server))
	}
	if u.Port() != "" {
		port = u.Port()
	}
	host := u.Hostname()
	addr := net.JoinHostPort(host, port)
	tlsCfg := &tls.Config{ServerName: host, InsecureSkipVerify: f.insecure, MinVersion: tls.VersionTLS12}
	if f.caFile != "" {
		pem, err := os.ReadFile(f.caFile)
		if err != nil {
			return nil, withExit(2, fmt.Errorf("--ca: %w", err))
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, withExit(2, fmt.Errorf("--ca %s: no PEM certificate in it", f.caFile))
		}
		tlsCfg.RootCAs = pool
	}
	ctx, cancel := context.WithTimeout(cmd.Context(), f.timeout)
	defer cancel()
	var c *smtp.Client
	if u.Scheme == "smtps" {
		c, err = smtp.DialTLS(ctx, addr, tlsCfg)
	} else {
		c, err = smtp.Dial(ctx, addr)
	}
	if err != nil {
		return nil, smtpConnectError(addr, err)
	}
	c.Timeout = f.timeout
	c.LocalName = localHostname()
	if err := c.Hello(c.LocalName); err != nil {
		c.Close()
		return nil, err
	}
	user, pass, err := f.credentials(cmd, u)
	if err != nil {
		c.Close()
		return nil, err
	}
	if _, isTLS := c.TLSConnectionState(); !isTLS {
		offered, _ := c.Extension("STARTTLS")
		switch {
		case offered && (f.startTLS || user != "" && !isLoopbackHost(host)):
			if err := c.StartTLS(tlsCfg); err != nil {
				c.Close()
				return nil, smtpConnectError(addr, err)
			}
		case f.startTLS:
			c.Close()
			return nil, fmt.Errorf("%s does not offer STARTTLS; drop --starttls or use smtps://", addr)
		}
	}
	if user != "" {
		if err := c.Auth(sasl.NewPlainClient("", user, pass)); err != nil {
			c.Close()
			var se *smtp.Error
			if errors.As(err, &se) && se.Code == 535 {
				return nil, fmt.Errorf("login as %q refused (%w); check the user and password", user, err)
			}
			return nil, fmt.Errorf("login as %q: %w", user, err)
		}
	}
	return c, nil
}

// credentials takes the user from the URL, the password from the URL,
// the netrc file or the terminal. No user means no login.
func (f *smtpFlags) credentials(cmd *cobra.Command, u *url.URL) (user, pass string, err error) {
	if u.User == nil {
		return "", "", nil
	}
	user, pass, havePass, err := urlLogin(u, f.netrcFile)
	if err != nil || havePass {
		return user, pass, err
	}
	pass, err = askPassword(cmd.InOrStdin(), cmd.ErrOrStderr(), user, u.Hostname(), "the URL or the netrc file")
	return user, pass, err
}

func smtpConnectError(addr string, err error) error {
	var unknown x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	switch {
	case errors.As(err, &unknown):
		return fmt.Errorf("TLS with %s: the certificate is signed by an unknown authority; pass --ca FILE with its issuer (or --insecure to skip the check)", addr)
	case errors.As(err, &hostErr):
		return fmt.Errorf("TLS with %s: %w; connect by the name in the certificate, or pass --insecure", addr, err)
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("connecting to %s: no answer in time; is the server running (plumb serve)?", addr)
	}
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Op == "dial" {
		return fmt.Errorf("connecting to %s: %w; is the server running (plumb serve), and is the port right?", addr, err)
	}
	return err
}

// isLoopbackHost reports whether host names this machine, where a
// password may go without TLS.
func isLoopbackHost(host string) bool {
	if ip := net.ParseIP(host); ip != nil {
		return ip.IsLoopback()
	}
	return strings.EqualFold(host, "localhost")
}

func localHostname() string {
	if h, err := os.Hostname(); err == nil && h != "" && !strings.ContainsAny(h, " \r\n") {
		return h
	}
	return "localhost"
}

// defaultSender is USER@HOST for the local user.
func defaultSender() string {
	name := "plumb"
	if u, err := user.Current(); err == nil && u.Username != "" {
		name = u.Username
	}
	return name + "@" + localHostname()
}
