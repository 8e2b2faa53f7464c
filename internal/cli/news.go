package cli

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/plumbnet/plumb/nntp"
)

func init() { addCommand(newNewsCmd) }

// newsFlags are the connection flags of every plumb news client command.
type newsFlags struct {
	server    string
	startTLS  bool
	insecure  bool
	caFile    string
	netrcFile string
	timeout   time.Duration
	json      bool
}

func (f *newsFlags) register(cmd *cobra.Command) {
	def := os.Getenv("NNTPSERVER")
	if def == "" {
		def = "localhost:10119"
	}
	cmd.Flags().StringVar(&f.server, "server", def, "server `host:port` for news:<message-id> URLs (default $NNTPSERVER)")
	cmd.Flags().BoolVar(&f.startTLS, "starttls", false, "upgrade an nntp:// connection with STARTTLS (needed for a password off loopback)")
	cmd.Flags().BoolVarP(&f.insecure, "insecure", "k", false, "do not verify the server's TLS certificate")
	cmd.Flags().StringVar(&f.caFile, "ca", "", "PEM file of the CA that signed the server's certificate")
	cmd.Flags().StringVar(&f.netrcFile, "netrc", "", "netrc file for the password (default $NETRC or ~/.netrc)")
	cmd.Flags().DurationVar(&f.timeout, "timeout", 60*time.Second, "how long to wait to connect and for the server's greeting")
	cmd.Flags().BoolVar(&f.json, "json", false, "print JSON")
}

// newsTarget is what a news URL names.
type newsTarget struct {
	u      *url.URL
	addr   string
	tls    bool
	group  string
	number string // an article number, or ""
	id     string // a message-id, or ""
}

// parseNewsURL reads nntp://[user[:pass]@]host[:port][/group[/number]],
// nntps://… (implicit TLS) and news:<message-id> (RFC 5538).
func parseNewsURL(raw, server string) (*newsTarget, error) {
	bad := withExit(2, fmt.Errorf("%q: want nntp://HOST[:PORT]/GROUP[/NUMBER], nntps://…, or news:<message-id>", raw))
	if rest, ok := strings.CutPrefix(raw, "news:"); ok && !strings.HasPrefix(rest, "//") {
		// RFC 5538 section 2.2: news:<id> or news:id names an article
		// (an id has an "@"), news:group a group.
		if !strings.Contains(rest, "@") {
			if !nntp.ValidGroupName(rest) {
				return nil, bad
			}
			return &newsTarget{u: &url.URL{Scheme: "nntp", Host: server}, addr: server, group: rest}, nil
		}
		id := rest
		if !strings.HasPrefix(id, "<") {
			id = "<" + id + ">"
		}
		if !nntp.ValidMessageID(id) {
			return nil, bad
		}
		return &newsTarget{u: &url.URL{Scheme: "nntp", Host: server}, addr: server, id: id}, nil
	}
	u, err := url.Parse(raw)
	if err != nil || u.Hostname() == "" {
		return nil, bad
	}
	t := &newsTarget{u: u}
	switch u.Scheme {
	case "nntp", "news":
		t.addr = net.JoinHostPort(u.Hostname(), portOr(u.Port(), "119"))
	case "nntps", "snews":
		t.tls = true
		t.addr = net.JoinHostPort(u.Hostname(), portOr(u.Port(), "563"))
	default:
		return nil, bad
	}
	parts := strings.Split(strings.Trim(u.Path, "/"), "/")
	if len(parts) > 0 && parts[0] != "" {
		if strings.HasPrefix(parts[0], "<") || strings.Contains(parts[0], "@") {
			t.id = parts[0]
			if !strings.HasPrefix(t.id, "<") {
				t.id = "<" + t.id + ">"
			}
		} else {
			t.group = parts[0]
		}
	}
	if len(parts) > 1 {
		if _, err := strconv.ParseInt(parts[1], 10, 64); err != nil {
			return nil, bad
		}
		t.number = parts[1]
	}
	return t, nil
}

func portOr(p, def string) string {
	if p == "" {
		return def
	}
	return p
}

// connect dials the target and logs in when credentials are known.
func (f *newsFlags) connect(cmd *cobra.Command, t *newsTarget) (*nntp.Client, error) {
	ctx := cmd.Context()
	cfg := &tls.Config{ServerName: t.u.Hostname(), InsecureSkipVerify: f.insecure, MinVersion: tls.VersionTLS12}
	if f.caFile != "" {
		pem, err := os.ReadFile(f.caFile)
		if err != nil {
			return nil, withExit(2, fmt.Errorf("--ca: %w", err))
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, withExit(2, fmt.Errorf("--ca %s: no PEM certificate in it", f.caFile))
		}
		cfg.RootCAs = pool
	}
	d := nntp.Dialer{Timeout: f.timeout, TLSConfig: cfg}
	var c *nntp.Client
	var err error
	if t.tls {
		c, err = d.DialTLS(ctx, t.addr)
	} else {
		c, err = d.Dial(ctx, t.addr)
	}
	if err != nil {
		return nil, fmt.Errorf("connecting to %s: %w (is an NNTP server listening there? nntps:// needs the implicit-TLS port)", t.addr, err)
	}
	if f.startTLS && !t.tls {
		if err := c.StartTLS(ctx, cfg); err != nil {
			c.Close()
			return nil, fmt.Errorf("STARTTLS with %s: %w", t.addr, err)
		}
	}
	user, pass, have, err := urlLogin(t.u, f.netrcFile)
	if err != nil {
		c.Close()
		return nil, err
	}
	if user != "" && !have {
		if pass, err = askPassword(cmd.InOrStdin(), cmd.ErrOrStderr(), user, t.u.Hostname(), "the URL or a netrc file"); err != nil {
			c.Close()
			return nil, err
		}
	}
	if user != "" {
		if err := c.Auth(ctx, user, pass); err != nil {
			c.Close()
			if errors.Is(err, nntp.ErrPlaintext) {
				return nil, withExit(2, fmt.Errorf("%w: add --starttls, or use nntps://", err))
			}
			return nil, fmt.Errorf("login as %q: %w", user, err)
		}
	}
	return c, nil
}

func newNewsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "news",
		Short: "Read and post Usenet news over NNTP, and manage plumb's newsgroups",
		Long: `news is an NNTP client (RFC 3977): list a server's groups, a group's
articles, read and post articles, and watch a group for new ones. URLs
are nntp://[USER[:PASSWORD]@]HOST[:PORT]/GROUP[/NUMBER] (port 119),
nntps://… (implicit TLS, port 563) and news:<message-id> (on --server).
A password comes from the URL or the netrc file, and is sent only over
TLS or to loopback. "plumb news group" manages the groups of plumb serve.`,
		Example: `  plumb news groups nntp://localhost:10119
  plumb news list nntp://localhost:10119/local.test
  plumb news read nntp://localhost:10119/local.test/1
  echo hello | plumb news post nntp://alice:pw@localhost:10119/local.test --subject Hi
  plumb news watch nntp://localhost:10119/local.test --json`,
	}
	cmd.AddCommand(newNewsGroupsCmd(), newNewsListCmd(), newNewsReadCmd(), newNewsPostCmd(), newNewsWatchCmd(), newNewsGroupCmd())
	return cmd
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func newNewsGroupsCmd() *cobra.Command {
	f := &newsFlags{}
	cmd := &cobra.Command{
		Use:   "groups nntp://HOST[:PORT][/WILDMAT]",
		Short: "List a server's newsgroups",
		Example: `  plumb news groups nntp://localhost:10119
  plumb news groups nntp://news.example.org/comp.lang.* --json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			t, err := parseNewsURL(args[0], f.server)
			if err != nil {
				return err
			}
			c, err := f.connect(cmd, t)
			if err != nil {
				return err
			}
			defer c.Close()
			ctx := cmd.Context()
			groups, err := c.ListActive(ctx, t.group)
			if err != nil {
				return fmt.Errorf("LIST ACTIVE: %w", err)
			}
			desc := map[string]string{}
			c.List(ctx, "NEWSGROUPS", t.group, func(l string) error {
				name, d, _ := strings.Cut(l, "\t")
				desc[name] = strings.TrimSpace(d)
				return nil
			})
			type row struct {
				Name        string `json:"name"`
				Low         int64  `json:"low"`
				High        int64  `json:"high"`
				Status      string `json:"status"`
				Description string `json:"description,omitempty"`
			}
			rows := []row{}
			for _, g := range groups {
				rows = append(rows, row{g.Name, g.Low, g.High, string(g.Status), desc[g.Name]})
			}
			c.Quit(ctx)
			if f.json {
				return printJSON(cmd.OutOrStdout(), rows)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "GROUP\tLOW\tHIGH\tSTATUS\tDESCRIPTION")
			for _, r := range rows {
				fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\n", r.Name, r.Low, r.High, r.Status, oneLine(r.Description, 50))
			}
			return tw.Flush()
		},
	}
	f.register(cmd)
	return cmd
}

// overviewRow is one article of plumb news list and watch.
type overviewRow struct {
	Number    int64  `json:"number"`
	Date      string `json:"date"`
	From      string `json:"from"`
	Subject   string `json:"subject"`
	MessageID string `json:"message_id"`
	Bytes     int64  `json:"bytes"`
}

func toRow(o nntp.Overview) overviewRow {
	return overviewRow{o.Number, o.Date, o.From, o.Subject, o.MessageID, o.Bytes}
}

func newNewsListCmd() *cobra.Command {
	f := &newsFlags{}
	var last int64
	cmd := &cobra.Command{
		Use:   "list nntp://HOST[:PORT]/GROUP",
		Short: "List a group's articles: number, date, from, subject",
		Example: `  plumb news list nntp://localhost:10119/local.test
  plumb news list nntp://news.example.org/comp.lang.go --last 20 --json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			t, err := parseNewsURL(args[0], f.server)
			if err != nil {
				return err
			}
			if t.group == "" {
				return withExit(2, fmt.Errorf("%q names no group", args[0]))
			}
			c, err := f.connect(cmd, t)
			if err != nil {
				return err
			}
			defer c.Close()
			ctx := cmd.Context()
			g, err := c.Group(ctx, t.group)
			if err != nil {
				return fmt.Errorf("GROUP %s: %w", t.group, err)
			}
			rows := []overviewRow{}
			if g.Count > 0 {
				lo := g.Low
				if last > 0 && g.High-last+1 > lo {
					lo = g.High - last + 1
				}
				err = c.Over(ctx, fmt.Sprintf("%d-%d", lo, g.High), func(o nntp.Overview) error {
					rows = append(rows, toRow(o))
					return nil
				})
				if err != nil && !errors.Is(err, &nntp.Error{Code: 423}) {
					return fmt.Errorf("OVER: %w", err)
				}
			}
			c.Quit(ctx)
			return printRows(cmd.OutOrStdout(), rows, f.json, true)
		},
	}
	f.register(cmd)
	cmd.Flags().Int64Var(&last, "last", 0, "only the last N articles")
	return cmd
}

func printRows(w io.Writer, rows []overviewRow, asJSON, header bool) error {
	if asJSON {
		return printJSON(w, rows)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	if header {
		fmt.Fprintln(tw, "NUM\tDATE\tFROM\tSUBJECT")
	}
	for _, r := range rows {
		date := r.Date
		if t, err := parseNewsDate(r.Date); err == nil {
			date = t.Local().Format("2006-01-02 15:04")
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", r.Number, date, oneLine(r.From, 30), oneLine(r.Subject, 60))
	}
	return tw.Flush()
}

func parseNewsDate(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC1123Z, time.RFC1123, "Mon, 2 Jan 2006 15:04:05 -0700", "2 Jan 2006 15:04:05 -0700"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, errors.New("unknown date format")
}

func newNewsReadCmd() *cobra.Command {
	f := &newsFlags{}
	var headOnly bool
	cmd := &cobra.Command{
		Use:   "read nntp://HOST[:PORT]/GROUP/NUMBER | news:<message-id>",
		Short: "Print an article",
		Example: `  plumb news read nntp://localhost:10119/local.test/1
  plumb news read news:<abc@example.org> --server localhost:10119 --json
  plumb news read nntp://localhost:10119/local.test/3 --head`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			t, err := parseNewsURL(args[0], f.server)
			if err != nil {
				return err
			}
			spec := t.id
			if spec == "" {
				if t.group == "" || t.number == "" {
					return withExit(2, fmt.Errorf("%q names no article: want nntp://HOST/GROUP/NUMBER or news:<message-id>", args[0]))
				}
				spec = t.number
			}
			c, err := f.connect(cmd, t)
			if err != nil {
				return err
			}
			defer c.Close()
			ctx := cmd.Context()
			if t.id == "" {
				if _, err := c.Group(ctx, t.group); err != nil {
					return fmt.Errorf("GROUP %s: %w", t.group, err)
				}
			}
			var buf bytes.Buffer
			fetch := c.Article
			if headOnly {
				fetch = c.Head
			}
			n, id, err := fetch(ctx, spec, &buf)
			if err != nil {
				return fmt.Errorf("reading %s: %w", spec, err)
			}
			c.Quit(ctx)
			text := strings.ReplaceAll(buf.String(), "\r\n", "\n")
			if !f.json {
				_, err := io.WriteString(cmd.OutOrStdout(), text)
				return err
			}
			head, body, _ := strings.Cut(text, "\n\n")
			a, _ := nntp.ParseArticle([]byte(head + "\n\n"))
			hdr := [][2]string{}
			if a != nil {
				for _, fl := range a.Header {
					hdr = append(hdr, [2]string{fl.Name, strings.TrimSpace(strings.ReplaceAll(fl.Value, "\r\n", ""))})
				}
			}
			return printJSON(cmd.OutOrStdout(), map[string]any{"number": n, "message_id": id, "header": hdr, "body": body})
		},
	}
	f.register(cmd)
	cmd.Flags().BoolVar(&headOnly, "head", false, "only the header")
	return cmd
}

func newNewsPostCmd() *cobra.Command {
	f := &newsFlags{}
	var subject, from, refs string
	cmd := &cobra.Command{
		Use:   "post nntp://[USER[:PASSWORD]@]HOST[:PORT]/GROUP[,GROUP...]",
		Short: "Post an article read from standard input",
		Long: `post reads an article from standard input and posts it. If the input
starts with a header ("Name: value" lines, a blank line, the body), it
is posted as it is, with the URL's groups as Newsgroups when it names
none; otherwise the input is the body, and --subject and --from make
the header. A Message-ID is added when missing, and printed.`,
		Example: `  echo "Hello" | plumb news post nntp://alice:pw@localhost:10119/local.test --subject Hi --from alice@example.org
  plumb news post nntp://alice@news.example.org/misc.test --starttls < article.txt`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			t, err := parseNewsURL(args[0], f.server)
			if err != nil {
				return err
			}
			if t.group == "" {
				return withExit(2, fmt.Errorf("%q names no group", args[0]))
			}
			in, err := io.ReadAll(io.LimitReader(cmd.InOrStdin(), 64<<20))
			if err != nil {
				return err
			}
			a := composeArticle(in, t.group, subject, from, refs)
			if a.Get("Subject") == "" {
				return withExit(2, errors.New("the article has no Subject: give --subject or a header"))
			}
			c, err := f.connect(cmd, t)
			if err != nil {
				return err
			}
			defer c.Close()
			ctx := cmd.Context()
			if err := c.Post(ctx, bytes.NewReader(a.Bytes())); err != nil {
				if errors.Is(err, &nntp.Error{Code: 480}) {
					return fmt.Errorf("posting: %w (put USER[:PASSWORD]@ in the URL)", err)
				}
				return fmt.Errorf("posting: %w", err)
			}
			c.Quit(ctx)
			id := a.Get("Message-ID")
			if f.json {
				return printJSON(cmd.OutOrStdout(), map[string]string{"message_id": id, "newsgroups": a.Get("Newsgroups")})
			}
			fmt.Fprintf(cmd.OutOrStdout(), "posted %s to %s\n", id, a.Get("Newsgroups"))
			return nil
		},
	}
	f.register(cmd)
	cmd.Flags().StringVar(&subject, "subject", "", "Subject of an article given as a body")
	cmd.Flags().StringVar(&from, "from", "", "From of an article given as a body (default: USER@HOST)")
	cmd.Flags().StringVar(&refs, "references", "", "References (the Message-IDs of the thread, for a follow-up)")
	return cmd
}

// composeArticle makes an article of in: as it is when it starts with
// a header, else as the body under a header made of the flags.
func composeArticle(in []byte, groups, subject, from, refs string) *nntp.Article {
	a, err := nntp.ParseArticle(in)
	first, _, _ := bytes.Cut(in, []byte("\n"))
	if err != nil || len(a.Header) == 0 || !bytes.Contains(first, []byte(":")) || a.Body == nil {
		a = &nntp.Article{Body: in}
	}
	a.Body = bytes.ReplaceAll(bytes.ReplaceAll(a.Body, []byte("\r\n"), []byte("\n")), []byte("\n"), []byte("\r\n"))
	if len(a.Body) > 0 && !bytes.HasSuffix(a.Body, []byte("\r\n")) {
		a.Body = append(a.Body, '\r', '\n')
	}
	set := func(name, v string) {
		if v != "" && a.Get(name) == "" {
			a.Set(name, v)
		}
	}
	if from == "" {
		from = defaultSender()
	}
	set("From", from)
	set("Newsgroups", groups)
	set("Subject", subject)
	set("References", refs)
	if a.Get("Message-ID") == "" {
		a.Set("Message-ID", nntp.NewMessageID(localHostname()))
	}
	return a
}

func newNewsWatchCmd() *cobra.Command {
	f := &newsFlags{}
	var every time.Duration
	var count int
	cmd := &cobra.Command{
		Use:   "watch nntp://HOST[:PORT]/GROUP",
		Short: "Print a group's new articles as they arrive",
		Long: `watch prints one line per new article of a group (JSON lines with
--json), polling the server every --every, until interrupted or until
--count articles were printed. Articles already there are not printed.`,
		Example: `  plumb news watch nntp://localhost:10119/local.test
  plumb news watch nntp://localhost:10119/local.test --json --count 1`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			t, err := parseNewsURL(args[0], f.server)
			if err != nil {
				return err
			}
			if t.group == "" {
				return withExit(2, fmt.Errorf("%q names no group", args[0]))
			}
			c, err := f.connect(cmd, t)
			if err != nil {
				return err
			}
			defer c.Close()
			ctx := cmd.Context()
			g, err := c.Group(ctx, t.group)
			if err != nil {
				return fmt.Errorf("GROUP %s: %w", t.group, err)
			}
			seen := g.High
			fmt.Fprintf(cmd.ErrOrStderr(), "watching %s after article %d\n", t.group, seen)
			out := bufio.NewWriter(cmd.OutOrStdout())
			printed := 0
			for {
				g, err = c.Group(ctx, t.group)
				if err != nil {
					return fmt.Errorf("GROUP %s: %w", t.group, err)
				}
				if g.High > seen {
					var rows []overviewRow
					err := c.Over(ctx, fmt.Sprintf("%d-%d", seen+1, g.High), func(o nntp.Overview) error {
						rows = append(rows, toRow(o))
						return nil
					})
					if err != nil && !errors.Is(err, &nntp.Error{Code: 423}) {
						return fmt.Errorf("OVER: %w", err)
					}
					seen = g.High
					for _, r := range rows {
						if f.json {
							b, _ := json.Marshal(r)
							out.Write(append(b, '\n'))
						} else {
							printRows(out, []overviewRow{r}, false, false)
						}
						if printed++; count > 0 && printed >= count {
							return out.Flush()
						}
					}
					out.Flush()
				}
				select {
				case <-ctx.Done():
					return nil
				case <-time.After(every):
				}
			}
		},
	}
	f.register(cmd)
	cmd.Flags().DurationVar(&every, "every", 10*time.Second, "how often to poll")
	cmd.Flags().IntVar(&count, "count", 0, "stop after this many articles (0: run until interrupted)")
	return cmd
}
