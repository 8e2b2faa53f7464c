package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/plumbnet/plumb/imap"
)

func init() {
	mailSubcommands = append(mailSubcommands, newMailSearchCmd, newMailFoldersCmd, newMailWatchCmd)
}

// isIMAPURL reports whether raw is an imap:// or imaps:// URL, which
// plumb mail list and fetch hand to this file.
func isIMAPURL(raw string) bool {
	return strings.HasPrefix(raw, "imap://") || strings.HasPrefix(raw, "imaps://")
}

// addIMAPFlags adds the flags the IMAP forms of list and fetch have
// beyond POP3's.
func addIMAPFlags(cmd *cobra.Command) {
	cmd.Flags().Bool("json", false, "imap:// only: print JSON instead of a table")
}

// registerIMAPFlags registers POP3's connection flags, with IMAP's words.
func registerIMAPFlags(cmd *cobra.Command, f *pop3Flags) {
	f.register(cmd)
	cmd.Flags().Lookup("starttls").Usage = "upgrade an imap:// connection with STARTTLS before logging in (done anyway off loopback when offered)"
}

// imapTarget is an imap:// URL taken apart the way curl reads it:
// imap://USER@HOST[:PORT]/FOLDER[;UID=N][/;SECTION=S].
type imapTarget struct {
	u       *url.URL
	addr    string
	folder  string
	uid     uint32
	section string
}

func parseIMAPURL(raw string) (*imapTarget, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "imap" && u.Scheme != "imaps") || u.Hostname() == "" {
		return nil, withExit(2, fmt.Errorf("%q: want imap://USER@HOST[:PORT][/FOLDER[;UID=N]] or imaps://…", raw))
	}
	port := u.Port()
	if port == "" {
		port = map[string]string{"imap": "143", "imaps": "993"}[u.Scheme]
	}
	t := &imapTarget{u: u, addr: net.JoinHostPort(u.Hostname(), port), folder: "INBOX"}
	path := strings.TrimPrefix(u.Path, "/")
	parts := strings.Split(path, ";")
	if f := strings.TrimSuffix(parts[0], "/"); f != "" {
		t.folder = f
	}
	for _, p := range parts[1:] {
		k, v, _ := strings.Cut(strings.TrimSuffix(p, "/"), "=")
		switch strings.ToUpper(k) {
		case "UID":
			n, err := strconv.ParseUint(v, 10, 32)
			if err != nil || n == 0 {
				return nil, withExit(2, fmt.Errorf("%q: UID=%q is not a UID", raw, v))
			}
			t.uid = uint32(n)
		case "SECTION":
			t.section = strings.ToUpper(v)
		case "UIDVALIDITY", "MAILINDEX":
		default:
			return nil, withExit(2, fmt.Errorf("%q: unknown parameter %q", raw, k))
		}
	}
	return t, nil
}

// imapConnect connects, upgrades with STARTTLS when asked or when the
// server is not on loopback, and logs in.
func imapConnect(cmd *cobra.Command, f *pop3Flags, t *imapTarget) (*imap.Client, error) {
	user, pass, err := imapCredentials(cmd, f, t.u)
	if err != nil {
		return nil, err
	}
	tlsCfg, err := tlsClientConfig(t.u.Hostname(), f.insecure, f.caFile)
	if err != nil {
		return nil, err
	}
	d := imap.Dialer{Timeout: f.timeout, TLSConfig: tlsCfg}
	var c *imap.Client
	if t.u.Scheme == "imaps" {
		c, err = d.DialTLS(cmd.Context(), t.addr)
	} else {
		c, err = d.Dial(cmd.Context(), t.addr)
	}
	if err != nil {
		return nil, imapConnectError(t.addr, err)
	}
	ctx := cmd.Context()
	if t.u.Scheme == "imap" && (f.startTLS || c.Has("STARTTLS") && !loopbackHost(t.u.Hostname())) {
		if err := c.StartTLS(ctx, nil); err != nil {
			c.Close()
			return nil, imapConnectError(t.addr, err)
		}
	}
	if err := c.Login(ctx, user, pass); err != nil {
		c.Close()
		var pe *imap.Error
		switch {
		case errors.Is(err, imap.ErrPlaintext):
			return nil, withExit(2, fmt.Errorf("%w: add --starttls, or use imaps://", err))
		case errors.As(err, &pe) && pe.Code == "AUTHENTICATIONFAILED":
			return nil, fmt.Errorf("login as %q refused (%w); check the user and password (in the URL or the netrc file)", user, err)
		}
		return nil, fmt.Errorf("login as %q: %w", user, err)
	}
	return c, nil
}

func imapCredentials(cmd *cobra.Command, f *pop3Flags, u *url.URL) (user, pass string, err error) {
	user, pass, havePass, err := urlLogin(u, f.netrcFile)
	if err != nil {
		return "", "", err
	}
	if user == "" {
		return "", "", withExit(2, errors.New("no user: write it in the URL (imap://USER@HOST) or in the netrc file"))
	}
	if havePass {
		return user, pass, nil
	}
	pass, err = askPassword(cmd.InOrStdin(), cmd.ErrOrStderr(), user, u.Hostname(), "the URL or the netrc file")
	return user, pass, err
}

func imapConnectError(addr string, err error) error {
	if e := pop3ConnectError(addr, err); !strings.Contains(e.Error(), "is a POP3 server") {
		return e
	}
	return fmt.Errorf("connecting to %s: %w (is an IMAP server listening there? imaps:// needs the implicit-TLS port)", addr, err)
}

// imapMessage is one message as list, search and watch print it.
type imapMessage struct {
	UID     uint32    `json:"uid"`
	Size    int64     `json:"size"`
	Flags   []string  `json:"flags"`
	Date    time.Time `json:"date"`
	From    string    `json:"from"`
	Subject string    `json:"subject"`
}

func toMessage(f *imap.FetchData) imapMessage {
	return imapMessage{UID: f.UID, Size: f.Size, Flags: append([]string{}, f.Flags...), Date: f.InternalDate, From: f.From(), Subject: f.Subject()}
}

// fetchSummaries fetches UID, flags, size, date and envelope of set.
func fetchSummaries(ctx context.Context, c *imap.Client, uid bool, set imap.SeqSet) ([]imapMessage, error) {
	var out []imapMessage
	err := c.Fetch(ctx, uid, set, "(UID FLAGS RFC822.SIZE INTERNALDATE ENVELOPE)", func(f *imap.FetchData) error {
		out = append(out, toMessage(f))
		return nil
	})
	return out, err
}

func printMessages(w io.Writer, msgs []imapMessage, asJSON bool) error {
	if asJSON {
		if msgs == nil {
			msgs = []imapMessage{}
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(msgs)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "UID\tSIZE\tFLAGS\tFROM\tSUBJECT")
	for _, m := range msgs {
		fmt.Fprintf(tw, "%d\t%d\t%s\t%s\t%s\n", m.UID, m.Size, strings.Join(m.Flags, " "), oneLine(m.From, 30), oneLine(m.Subject, 50))
	}
	return tw.Flush()
}

// imapList is plumb mail list imap://…/FOLDER.
func imapList(cmd *cobra.Command, f *pop3Flags, raw string) error {
	t, err := parseIMAPURL(raw)
	if err != nil {
		return err
	}
	c, err := imapConnect(cmd, f, t)
	if err != nil {
		return err
	}
	defer c.Close()
	ctx := cmd.Context()
	sel, err := c.Select(ctx, t.folder, true)
	if err != nil {
		return fmt.Errorf("EXAMINE %s: %w", t.folder, err)
	}
	var msgs []imapMessage
	if sel.Exists > 0 {
		if msgs, err = fetchSummaries(ctx, c, false, imap.SeqSet{Ranges: []imap.SeqRange{{Start: 1, Stop: 0}}}); err != nil {
			return fmt.Errorf("FETCH: %w", err)
		}
	}
	asJSON, _ := cmd.Flags().GetBool("json")
	if err := printMessages(cmd.OutOrStdout(), msgs, asJSON); err != nil {
		return err
	}
	return c.Logout(ctx)
}

// imapFetch is plumb mail fetch imap://…/FOLDER;UID=N[/;SECTION=S].
func imapFetch(cmd *cobra.Command, f *pop3Flags, raw string) error {
	t, err := parseIMAPURL(raw)
	if err != nil {
		return err
	}
	if t.uid == 0 {
		return withExit(2, fmt.Errorf("%q: name the message: imap://HOST/%s;UID=N (plumb mail list shows the UIDs)", raw, t.folder))
	}
	c, err := imapConnect(cmd, f, t)
	if err != nil {
		return err
	}
	defer c.Close()
	ctx := cmd.Context()
	if _, err := c.Select(ctx, t.folder, true); err != nil {
		return fmt.Errorf("EXAMINE %s: %w", t.folder, err)
	}
	asJSON, _ := cmd.Flags().GetBool("json")
	items := "(UID FLAGS RFC822.SIZE INTERNALDATE ENVELOPE BODY.PEEK[" + t.section + "])"
	var got *imap.FetchData
	collect := func(d *imap.FetchData) error { got = d; return nil }
	if asJSON {
		err = c.Fetch(ctx, true, imap.SeqSetOf(t.uid), items, collect)
	} else {
		// The body goes to standard output as it arrives, however large.
		out := cmd.OutOrStdout()
		err = c.FetchTo(ctx, true, imap.SeqSetOf(t.uid), items, func(_ string, r io.Reader) error {
			_, err := io.Copy(out, r)
			return err
		}, collect)
	}
	if err != nil {
		return fmt.Errorf("UID FETCH %d: %w", t.uid, err)
	}
	if got == nil {
		return fmt.Errorf("no message with UID %d in %s", t.uid, t.folder)
	}
	if asJSON {
		m := toMessage(got)
		return json.NewEncoder(cmd.OutOrStdout()).Encode(struct {
			imapMessage
			Section string `json:"section"`
			Body    string `json:"body"`
		}{m, t.section, got.Sections["BODY["+t.section+"]"]})
	}
	return c.Logout(ctx)
}

func newMailSearchCmd() *cobra.Command {
	f := &pop3Flags{}
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "search imap://USER@HOST[:PORT][/FOLDER] QUERY...",
		Short: "Search an IMAP folder",
		Long: `search runs an IMAP SEARCH in a folder (INBOX unless the URL names one)
and prints the messages found. QUERY is IMAP's search syntax (RFC 9051
section 6.4.4): FROM, TO, SUBJECT, BODY, TEXT, SINCE 1-Jan-2024,
UNSEEN, LARGER 10000, OR, NOT and parentheses. Connection and password
as for plumb mail list.`,
		Example: `  plumb mail search imap://alice@localhost:10143 FROM bob UNSEEN
  plumb mail search imaps://alice@mail.example.org/Archive SUBJECT '"quarterly report"' --json
  plumb mail search imap://alice@localhost:10143 OR FROM bob FROM carol`,
		Args: cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			t, err := parseIMAPURL(args[0])
			if err != nil {
				return err
			}
			c, err := imapConnect(cmd, f, t)
			if err != nil {
				return err
			}
			defer c.Close()
			ctx := cmd.Context()
			if _, err := c.Select(ctx, t.folder, true); err != nil {
				return fmt.Errorf("EXAMINE %s: %w", t.folder, err)
			}
			uids, err := c.Search(ctx, true, "CHARSET UTF-8 "+strings.Join(args[1:], " "))
			if err != nil {
				return fmt.Errorf("SEARCH: %w", err)
			}
			var msgs []imapMessage
			if len(uids) > 0 {
				if msgs, err = fetchSummaries(ctx, c, true, imap.SeqSetOf(uids...)); err != nil {
					return fmt.Errorf("FETCH: %w", err)
				}
			}
			if err := printMessages(cmd.OutOrStdout(), msgs, asJSON); err != nil {
				return err
			}
			return c.Logout(ctx)
		},
	}
	registerIMAPFlags(cmd, f)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON instead of a table")
	return cmd
}

func newMailFoldersCmd() *cobra.Command {
	f := &pop3Flags{}
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "folders imap://USER@HOST[:PORT]",
		Short: "List the folders of an IMAP account",
		Long: `folders lists every folder of an IMAP account with its attributes
(\Sent, \Trash, \HasChildren, …) and its message and unseen counts.`,
		Example: `  plumb mail folders imap://alice@localhost:10143
  plumb mail folders imaps://alice@mail.example.org --json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			t, err := parseIMAPURL(args[0])
			if err != nil {
				return err
			}
			c, err := imapConnect(cmd, f, t)
			if err != nil {
				return err
			}
			defer c.Close()
			ctx := cmd.Context()
			list, err := c.List(ctx, "", "*")
			if err != nil {
				return fmt.Errorf("LIST: %w", err)
			}
			type folder struct {
				Name     string   `json:"name"`
				Attrs    []string `json:"attributes"`
				Messages uint64   `json:"messages"`
				Unseen   uint64   `json:"unseen"`
			}
			out := []folder{}
			for _, l := range list {
				fo := folder{Name: l.Name, Attrs: append([]string{}, l.Attrs...)}
				if !strings.Contains(strings.ToLower(strings.Join(l.Attrs, " ")), `\noselect`) {
					if st, err := c.Status(ctx, l.Name, "MESSAGES", "UNSEEN"); err == nil {
						fo.Messages, fo.Unseen = st["MESSAGES"], st["UNSEEN"]
					}
				}
				out = append(out, fo)
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				if err := enc.Encode(out); err != nil {
					return err
				}
			} else {
				tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "FOLDER\tMESSAGES\tUNSEEN\tATTRIBUTES")
				for _, fo := range out {
					fmt.Fprintf(tw, "%s\t%d\t%d\t%s\n", fo.Name, fo.Messages, fo.Unseen, strings.Join(fo.Attrs, " "))
				}
				tw.Flush()
			}
			return c.Logout(ctx)
		},
	}
	registerIMAPFlags(cmd, f)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON instead of a table")
	return cmd
}

func newMailWatchCmd() *cobra.Command {
	f := &pop3Flags{}
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "watch imap://USER@HOST[:PORT][/FOLDER]",
		Short: "Print each new message of an IMAP folder as it arrives",
		Long: `watch selects a folder (INBOX unless the URL names one) and waits in
IMAP IDLE, printing the sender and subject of each message as it
arrives, until interrupted (Ctrl-C). --json prints one JSON object a line.`,
		Example: `  plumb mail watch imap://alice@localhost:10143
  plumb mail watch imaps://alice@mail.example.org/Lists --json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			t, err := parseIMAPURL(args[0])
			if err != nil {
				return err
			}
			c, err := imapConnect(cmd, f, t)
			if err != nil {
				return err
			}
			defer c.Close()
			return imapWatch(cmd.Context(), c, t.folder, cmd.OutOrStdout(), asJSON)
		},
	}
	registerIMAPFlags(cmd, f)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object a line instead of text")
	return cmd
}

// imapWatch idles until ctx ends; on each EXISTS it leaves IDLE, fetches
// the messages past the last UID seen, prints them and idles again.
func imapWatch(ctx context.Context, c *imap.Client, folder string, w io.Writer, asJSON bool) error {
	sel, err := c.Select(ctx, folder, true)
	if err != nil {
		return fmt.Errorf("EXAMINE %s: %w", folder, err)
	}
	next := sel.UIDNext
	for ctx.Err() == nil {
		ictx, stop := context.WithCancel(ctx)
		err := c.Idle(ictx, func(r *imap.Response) {
			if r.Type == "EXISTS" {
				stop()
			}
		})
		stop()
		if err != nil {
			return fmt.Errorf("IDLE: %w", err)
		}
		if ctx.Err() != nil {
			break
		}
		msgs, err := fetchSummaries(ctx, c, true, imap.SeqSet{Ranges: []imap.SeqRange{{Start: max(next, 1), Stop: 0}}})
		if err != nil {
			return fmt.Errorf("FETCH: %w", err)
		}
		for _, m := range msgs {
			if m.UID < next {
				continue // n:* holds the last message even when n is past it
			}
			next = m.UID + 1
			if asJSON {
				json.NewEncoder(w).Encode(m)
			} else {
				fmt.Fprintf(w, "%s  %s  %s\n", m.Date.Format("2006-01-02 15:04"), oneLine(m.From, 40), oneLine(m.Subject, 70))
			}
		}
	}
	return nil
}
