package cli

import (
	"bufio"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/mail"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/plumbnet/plumb/internal/mailstore"
	"github.com/plumbnet/plumb/pop3"
)

func init() {
	mailSubcommands = append(mailSubcommands, newMailListCmd, newMailFetchCmd)
}

// pop3Flags are the connection flags of plumb mail list and fetch.
type pop3Flags struct {
	startTLS  bool
	insecure  bool
	caFile    string
	netrcFile string
	timeout   time.Duration
}

func (f *pop3Flags) register(cmd *cobra.Command) {
	cmd.Flags().BoolVar(&f.startTLS, "starttls", false, "upgrade a pop3:// connection with STLS before logging in (required off loopback)")
	cmd.Flags().BoolVarP(&f.insecure, "insecure", "k", false, "do not verify the server's TLS certificate")
	cmd.Flags().StringVar(&f.caFile, "ca", "", "PEM file of the CA that signed the server's certificate")
	cmd.Flags().StringVar(&f.netrcFile, "netrc", "", "netrc file for the password (default $NETRC or ~/.netrc)")
	cmd.Flags().DurationVar(&f.timeout, "timeout", 60*time.Second, "how long to wait for each reply")
}

func newMailListCmd() *cobra.Command {
	f := &pop3Flags{}
	var brief bool
	cmd := &cobra.Command{
		Use:   "list pop3://USER[:PASSWORD]@HOST[:PORT] | imap://USER@HOST[:PORT][/FOLDER]",
		Short: "List the messages of a POP3 mailbox or an IMAP folder",
		Long: `list logs in to a POP3 server and prints each message's number, size,
unique id and, unless --brief, its From and Subject (read with TOP).
Nothing is changed on the server.

pop3:// is port 110 (add --starttls to upgrade with STLS), pop3s:// is
implicit TLS on port 995. The password comes from the URL, else the
netrc file, else a prompt on the terminal. A password is never sent
in the clear to a server that is not on loopback.`,
		Example: `  plumb mail list pop3://alice@localhost:10110
  plumb mail list pop3s://alice@mail.example.org --brief
  plumb mail list pop3://alice@mail.example.org --starttls --ca ca.pem
  plumb mail list imap://alice@localhost:10143/Archive --json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if isIMAPURL(args[0]) {
				return imapList(cmd, f, args[0])
			}
			c, err := pop3Connect(cmd, f, args[0])
			if err != nil {
				return err
			}
			defer c.Close()
			return pop3List(cmd.OutOrStdout(), c, brief)
		},
	}
	f.register(cmd)
	addIMAPFlags(cmd)
	cmd.Flags().BoolVar(&brief, "brief", false, "only number, size and unique id (no TOP per message)")
	return cmd
}

func pop3List(out io.Writer, c *pop3.Client, brief bool) error {
	sizes, err := c.List()
	if err != nil {
		return fmt.Errorf("LIST: %w", err)
	}
	uids := map[int]string{}
	if list, err := c.UIDL(); err == nil {
		for _, mi := range list {
			uids[mi.Num] = mi.UID
		}
	}
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	if brief {
		fmt.Fprintln(tw, "NUM\tSIZE\tUID")
	} else {
		fmt.Fprintln(tw, "NUM\tSIZE\tUID\tFROM\tSUBJECT")
	}
	for _, mi := range sizes {
		if brief {
			fmt.Fprintf(tw, "%d\t%d\t%s\n", mi.Num, mi.Size, uids[mi.Num])
			continue
		}
		from, subject := "", ""
		if top, err := c.Top(mi.Num, 0); err == nil {
			if m, err := mail.ReadMessage(strings.NewReader(string(top))); err == nil {
				dec := new(mime.WordDecoder)
				from, _ = dec.DecodeHeader(m.Header.Get("From"))
				subject, _ = dec.DecodeHeader(m.Header.Get("Subject"))
			}
		}
		fmt.Fprintf(tw, "%d\t%d\t%s\t%s\t%s\n", mi.Num, mi.Size, uids[mi.Num], oneLine(from, 30), oneLine(subject, 50))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	return c.Quit()
}

// oneLine makes a header value fit one table cell.
func oneLine(s string, max int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > max {
		return string(r[:max-1]) + "…"
	}
	return s
}

func newMailFetchCmd() *cobra.Command {
	f := &pop3Flags{}
	var (
		del     bool
		maildir string
		all     bool
	)
	cmd := &cobra.Command{
		Use:   "fetch pop3://USER[:PASSWORD]@HOST[:PORT] | imap://USER@HOST[:PORT]/FOLDER;UID=N[/;SECTION=S]",
		Short: "Download the messages of a POP3 mailbox, or one IMAP message",
		Long: `fetch downloads every message of a POP3 mailbox. With --to-maildir DIR
each message is delivered into the Maildir DIR (created if missing, as
mutt and Dovecot read it), and the unique ids (UIDL) fetched are
remembered in DIR, so the next fetch downloads only new messages
(--all fetches everything again). Without it the messages go to
standard output as an mbox.

With --delete each message downloaded is deleted on the server, which
happens only when the session ends cleanly: an interrupted fetch deletes
nothing. Connection and password as for plumb mail list.`,
		Example: `  plumb mail fetch pop3://alice@localhost:10110 --to-maildir ~/Maildir
  plumb mail fetch pop3s://alice@mail.example.org --delete --to-maildir ~/Maildir
  plumb mail fetch pop3://alice:secret@localhost:10110 > alice.mbox
  plumb mail fetch 'imap://alice@localhost:10143/INBOX;UID=7' > msg.eml
  plumb mail fetch 'imap://alice@localhost:10143/INBOX;UID=7/;SECTION=HEADER' --json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if isIMAPURL(args[0]) {
				return imapFetch(cmd, f, args[0])
			}
			c, err := pop3Connect(cmd, f, args[0])
			if err != nil {
				return err
			}
			defer c.Close()
			return pop3Fetch(cmd, c, args[0], maildir, del, all)
		},
	}
	f.register(cmd)
	addIMAPFlags(cmd)
	cmd.Flags().BoolVar(&del, "delete", false, "delete each downloaded message on the server")
	cmd.Flags().StringVar(&maildir, "to-maildir", "", "deliver into this Maildir instead of writing an mbox to standard output")
	cmd.Flags().BoolVar(&all, "all", false, "with --to-maildir, fetch messages already fetched before too")
	return cmd
}

// seenFile, inside a --to-maildir directory, lists "<account> <uid>"
// of every message fetched there.
const seenFile = "plumb-pop3-seen"

func pop3Fetch(cmd *cobra.Command, c *pop3.Client, rawURL, maildir string, del, all bool) error {
	ctx := cmd.Context()
	out := cmd.OutOrStdout()
	u, _ := url.Parse(rawURL)
	account := u.User.Username() + "@" + u.Host
	seen := map[string]bool{}
	var (
		store *mailstore.Store
		box   string
		seenW *os.File
	)
	if maildir != "" {
		abs, err := filepath.Abs(maildir)
		if err != nil {
			return withExit(2, fmt.Errorf("--to-maildir: %w", err))
		}
		box = filepath.Base(abs)
		if store, err = mailstore.Open(filepath.Dir(abs)); err != nil {
			return fmt.Errorf("--to-maildir: %w", err)
		}
		if _, err := store.Mailbox(ctx, box, mailstore.Inbox); err != nil {
			return withExit(2, fmt.Errorf("--to-maildir %s: %w (name a directory not starting with '.')", maildir, err))
		}
		if !all {
			if err := readSeen(filepath.Join(abs, seenFile), account, seen); err != nil {
				return err
			}
		}
		if seenW, err = os.OpenFile(filepath.Join(abs, seenFile), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600); err != nil {
			return err
		}
		defer seenW.Close()
	}
	bw := bufio.NewWriter(out)
	n, err := c.Fetch(func(uid string) bool { return seen[uid] }, del, func(mi pop3.MessageInfo, body []byte) error {
		if store == nil {
			return writeMbox(bw, body)
		}
		if _, err := store.Deliver(ctx, box, mailstore.Inbox, strings.NewReader(string(body))); err != nil {
			return err
		}
		if mi.UID != "" {
			fmt.Fprintf(seenW, "%s %s\n", account, mi.UID)
		}
		return nil
	})
	if ferr := bw.Flush(); err == nil {
		err = ferr
	}
	if err != nil {
		return fmt.Errorf("fetch stopped after %d messages (nothing was deleted): %w", n, err)
	}
	if err := c.Quit(); err != nil {
		return fmt.Errorf("QUIT: %w (messages marked for deletion may still be on the server)", err)
	}
	if maildir != "" {
		verb := "fetched"
		if del {
			verb = "fetched and deleted"
		}
		fmt.Fprintf(cmd.ErrOrStderr(), "%d messages %s into %s\n", n, verb, maildir)
	}
	return nil
}

func readSeen(path, account string, seen map[string]bool) error {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if a, uid, ok := strings.Cut(sc.Text(), " "); ok && a == account {
			seen[uid] = true
		}
	}
	return sc.Err()
}

// writeMbox writes one message in mboxrd form: a "From " line, the
// message with LF line ends and ">From " quoting, and a blank line.
func writeMbox(w *bufio.Writer, body []byte) error {
	fmt.Fprintf(w, "From MAILER-DAEMON %s\n", time.Now().UTC().Format(time.ANSIC))
	for line := range strings.SplitSeq(strings.TrimSuffix(strings.ReplaceAll(string(body), "\r\n", "\n"), "\n"), "\n") {
		if strings.HasPrefix(strings.TrimLeft(line, ">"), "From ") {
			w.WriteByte('>')
		}
		w.WriteString(line)
		w.WriteByte('\n')
	}
	return w.WriteByte('\n')
}

// pop3Connect dials the URL, upgrades with STLS when asked, and logs in.
func pop3Connect(cmd *cobra.Command, f *pop3Flags, raw string) (*pop3.Client, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "pop3" && u.Scheme != "pop3s") || u.Hostname() == "" {
		return nil, withExit(2, fmt.Errorf("%q: want pop3://USER@HOST[:PORT] or pop3s://USER@HOST[:PORT]", raw))
	}
	port := u.Port()
	if port == "" {
		port = map[string]string{"pop3": "110", "pop3s": "995"}[u.Scheme]
	}
	addr := net.JoinHostPort(u.Hostname(), port)
	user, pass, err := pop3Credentials(cmd, f, u)
	if err != nil {
		return nil, err
	}
	tlsCfg, err := tlsClientConfig(u.Hostname(), f.insecure, f.caFile)
	if err != nil {
		return nil, err
	}
	d := pop3.Dialer{Timeout: f.timeout, TLSConfig: tlsCfg}
	var c *pop3.Client
	if u.Scheme == "pop3s" {
		c, err = d.DialTLS(cmd.Context(), addr)
	} else {
		c, err = d.Dial(cmd.Context(), addr)
	}
	if err != nil {
		return nil, pop3ConnectError(addr, err)
	}
	if f.startTLS && u.Scheme == "pop3" {
		if err := c.StartTLS(nil); err != nil {
			c.Close()
			return nil, pop3ConnectError(addr, err)
		}
	}
	if err := c.Login(user, pass); err != nil {
		c.Close()
		var pe *pop3.Error
		switch {
		case errors.Is(err, pop3.ErrPlaintext):
			return nil, withExit(2, fmt.Errorf("%w: add --starttls, or use pop3s://", err))
		case errors.As(err, &pe) && pe.Code == "IN-USE":
			return nil, fmt.Errorf("the mailbox is in use by another session (%w); try again when it ends", err)
		case errors.As(err, &pe) && pe.Code == "AUTH":
			return nil, fmt.Errorf("login as %q refused (%w); check the user and password (in the URL or the netrc file), or add --starttls if the server wants TLS", user, err)
		}
		return nil, fmt.Errorf("login as %q: %w", user, err)
	}
	return c, nil
}

// pop3Credentials takes the user from the URL (or the netrc file) and
// the password from the URL, the netrc file or the terminal.
func pop3Credentials(cmd *cobra.Command, f *pop3Flags, u *url.URL) (user, pass string, err error) {
	user, pass, havePass, err := urlLogin(u, f.netrcFile)
	if err != nil {
		return "", "", err
	}
	if user == "" {
		return "", "", withExit(2, errors.New("no user: write it in the URL (pop3://USER@HOST) or in the netrc file"))
	}
	if havePass {
		return user, pass, nil
	}
	pass, err = askPassword(cmd.InOrStdin(), cmd.ErrOrStderr(), user, u.Hostname(), "the URL or the netrc file")
	return user, pass, err
}

// pop3ConnectError says what to do about a failed connection.
func pop3ConnectError(addr string, err error) error {
	var unknown x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var pe *pop3.Error
	switch {
	case errors.As(err, &unknown):
		return fmt.Errorf("TLS with %s: the certificate is signed by an unknown authority; pass --ca FILE with its issuer (or --insecure to skip the check)", addr)
	case errors.As(err, &hostErr):
		return fmt.Errorf("TLS with %s: %w; connect by the name in the certificate, or pass --insecure", addr, err)
	case errors.As(err, &pe):
		return fmt.Errorf("%s refused: %w", addr, err)
	}
	return fmt.Errorf("connecting to %s: %w (is a POP3 server listening there? pop3s:// needs the implicit-TLS port)", addr, err)
}
