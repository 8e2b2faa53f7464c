package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/plumbnet/plumb/gopher"
	"github.com/plumbnet/plumb/internal/termsafe"
)

func init() { addCommand(newGopherCmd) }

type gopherFlags struct {
	transfer transferFlags
	dump     bool
	json     bool
}

func newGopherCmd() *cobra.Command {
	f := &gopherFlags{}
	cmd := &cobra.Command{
		Use:   "gopher [URL]",
		Short: "Browse gopherspace: menus, text, searches, downloads",
		Long: `gopher opens URL (gopher://localhost:10070/, plumb serve's gopher, by
default) and shows its menu with the links numbered. Then type:

  N              open link N: a menu or a text, or ask for the words of a search
  N WORDS        search with link N (a type-7 item)
  s N [FILE]     save link N to FILE (default: its name, without a leading
                 dot or a path; NAME.1, NAME.2, ... when NAME exists)
  b              back to the previous menu
  o URL          open another gopher:// or gophers:// URL
  u [N]          show the URL of this menu or of link N
  r              show this menu again
  q              quit (end of input quits too)

Commands come from standard input, so a script can pipe them in:
  printf '2\nq\n' | plumb gopher gopher://localhost:10070/

--dump prints the menu (or text) at URL and exits, as lynx -dump does;
--json prints a menu's items as JSON. Control characters the server
sends are shown as ^X (C1 controls and bytes that are not UTF-8 as
\xNN), so a menu cannot take over the terminal. gophers://
is TLS: the certificate must verify (--ca FILE, or --insecure).`,
		Example: `  plumb gopher
  plumb gopher gopher://localhost:10070/1/~alice/
  plumb gopher --dump gopher://localhost:10070/0/README
  plumb gopher --json gopher://localhost:10070/ | jq '.[].selector'
  plumb gopher -k gophers://localhost:10070/`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			raw := "gopher://localhost:10070/"
			if len(args) == 1 {
				raw = args[0]
			}
			u, err := gopher.ParseURL(raw)
			if err != nil {
				return withExit(exitTransferUsage, fmt.Errorf("%w (give a URL such as gopher://host:70/1/dir)", err))
			}
			b := &browser{flags: f, in: bufio.NewScanner(cmd.InOrStdin()), out: cmd.OutOrStdout(),
				t: &transfer{flags: &f.transfer, stderr: cmd.ErrOrStderr()}}
			switch {
			case f.json:
				return b.printJSON(cmd.Context(), u)
			case f.dump:
				return b.show(cmd.Context(), u)
			}
			return b.run(cmd.Context(), u)
		},
	}
	fl := cmd.Flags()
	fl.BoolVarP(&f.transfer.insecure, "insecure", "k", false, "accept any TLS certificate (testing only)")
	fl.StringVar(&f.transfer.caFile, "ca", "", "trust the PEM certificates in `FILE` instead of the system's")
	fl.DurationVar(&f.transfer.timeout, "timeout", 30*time.Second, "give up on a server that does not answer for this long")
	fl.BoolVar(&f.dump, "dump", false, "print URL's menu or text and exit")
	fl.BoolVar(&f.json, "json", false, "print URL's menu as JSON and exit")
	return cmd
}

// browser is one plumb gopher session.
type browser struct {
	flags   *gopherFlags
	t       *transfer
	in      *bufio.Scanner
	out     io.Writer
	history []gopher.URL // the menus visited, the current one last
	items   []gopher.Item
	links   []int // links[n-1] is the index in items of link n
}

func (b *browser) client(u gopher.URL) (*gopher.Client, error) { return gopherClient(b.t, u) }

func (b *browser) printf(format string, a ...any) { fmt.Fprintf(b.out, format, a...) }

// run shows u and then reads commands until q or the end of input.
func (b *browser) run(ctx context.Context, u gopher.URL) error {
	if !gopher.IsMenu(u.Type) {
		return b.show(ctx, u) // a text: nothing to browse from
	}
	if err := b.open(ctx, u); err != nil {
		return withExit(exitTransferFailed, err)
	}
	for {
		b.printf("gopher> ")
		if !b.in.Scan() {
			b.printf("\n")
			return nil
		}
		if ctx.Err() != nil {
			return nil
		}
		line := strings.TrimSpace(b.in.Text())
		if line == "q" || line == "quit" {
			return nil
		}
		if err := b.command(ctx, line); err != nil {
			b.printf("%s\n", termsafe.String(err.Error()))
		}
	}
}

var errBrowserUsage = errors.New("type N to open link N, s N to save it, b for back, o URL, u, r, q (help: plumb gopher --help)")

// command runs one command line.
func (b *browser) command(ctx context.Context, line string) error {
	verb, arg, _ := strings.Cut(line, " ")
	arg = strings.TrimSpace(arg)
	switch verb {
	case "":
		return nil
	case "b", "back":
		if len(b.history) < 2 {
			return errors.New("no menu to go back to")
		}
		return b.reopen(ctx, 2)
	case "r", "reload":
		return b.reopen(ctx, 1)
	case "o", "open":
		u, err := gopher.ParseURL(arg)
		if err != nil {
			return err
		}
		return b.visit(ctx, u)
	case "u", "url":
		if arg == "" {
			b.printf("%s\n", termsafe.String(b.history[len(b.history)-1].String()))
			return nil
		}
		u, err := b.link(arg)
		if err != nil {
			return err
		}
		b.printf("%s\n", termsafe.String(u.String())) // the host is the server's to choose
		return nil
	case "s", "save":
		n, file, _ := strings.Cut(arg, " ")
		u, err := b.link(n)
		if err != nil {
			return err
		}
		return b.save(ctx, u, strings.TrimSpace(file))
	case "h", "help", "?":
		return errBrowserUsage
	}
	if _, err := strconv.Atoi(verb); err != nil {
		return errBrowserUsage
	}
	u, err := b.link(verb)
	if err != nil {
		return err
	}
	if u.Type == gopher.TypeSearch {
		if arg == "" {
			b.printf("search words: ")
			if !b.in.Scan() {
				return nil
			}
			arg = strings.TrimSpace(b.in.Text())
		}
		if arg == "" {
			return errors.New("no words: nothing searched")
		}
		u.Search = arg
	}
	return b.visit(ctx, u)
}

// reopen goes back back-1 menus and opens that one again; history is
// kept as it was if that fails.
func (b *browser) reopen(ctx context.Context, back int) error {
	saved := b.history
	u := b.history[len(b.history)-back]
	b.history = b.history[: len(b.history)-back : len(b.history)-back]
	if err := b.open(ctx, u); err != nil {
		b.history = saved
		return err
	}
	return nil
}

// link returns the URL of link n of the current menu.
func (b *browser) link(n string) (gopher.URL, error) {
	i, err := strconv.Atoi(n)
	if err != nil || i < 1 || i > len(b.links) {
		return gopher.URL{}, fmt.Errorf("no link %q: this menu has links 1 to %d", n, len(b.links))
	}
	it := b.items[b.links[i-1]]
	cur := b.history[len(b.history)-1]
	// A link to the server the menu came from stays on its TLS.
	u := it.URL(false)
	u.TLS = cur.TLS && u.Host == cur.Host
	return u, nil
}

// visit opens u: a menu becomes the current page; a text is shown; a
// web link is printed; anything else is to be saved.
func (b *browser) visit(ctx context.Context, u gopher.URL) error {
	switch {
	case gopher.IsMenu(u.Type):
		return b.open(ctx, u)
	case u.Type == gopher.TypeText:
		return b.show(ctx, u)
	case u.Type == gopher.TypeHTML && strings.HasPrefix(u.Selector, "URL:"):
		b.printf("a web link: %s\n", termsafe.String(strings.TrimPrefix(u.Selector, "URL:")))
		return nil
	case u.Type == gopher.TypeTelnet || u.Type == gopher.TypeInfo || u.Type == gopher.TypeError:
		return fmt.Errorf("item type %c cannot be opened here", u.Type)
	}
	return fmt.Errorf("a binary item (type %c): save it with s N [FILE]", u.Type)
}

// open fetches the menu u and makes it the current page.
func (b *browser) open(ctx context.Context, u gopher.URL) error {
	c, err := b.client(u)
	if err != nil {
		return err
	}
	if !gopher.IsMenu(u.Type) {
		return b.show(ctx, u)
	}
	items, err := c.Menu(ctx, u)
	if err != nil {
		return err
	}
	b.history = append(b.history, u)
	b.items, b.links = items, nil
	b.printMenu()
	return nil
}

func (b *browser) printMenu() {
	for i, it := range b.items {
		switch it.Type {
		case gopher.TypeInfo:
			b.printf("           %s\n", termsafe.String(it.Display))
		case gopher.TypeError:
			b.printf("       !!  %s\n", termsafe.String(it.Display))
		default:
			b.links = append(b.links, i)
			b.printf("%4d %-5s %s\n", len(b.links), typeLabel(it.Type), termsafe.String(it.Display))
		}
	}
}

func typeLabel(t byte) string {
	switch t {
	case gopher.TypeText:
		return "text"
	case gopher.TypeMenu:
		return "menu"
	case gopher.TypeSearch:
		return "find"
	case gopher.TypeGIF, gopher.TypeImage:
		return "image"
	case gopher.TypeHTML:
		return "html"
	case gopher.TypeSound:
		return "sound"
	case gopher.TypeTelnet:
		return "telnt"
	}
	return "file"
}

// show prints the menu or text at u (--dump, and a text opened while
// browsing).
func (b *browser) show(ctx context.Context, u gopher.URL) error {
	c, err := b.client(u)
	if err != nil {
		return err
	}
	if gopher.IsMenu(u.Type) {
		items, err := c.Menu(ctx, u)
		if err != nil {
			return err
		}
		b.items, b.links = items, nil
		b.printMenu()
		return nil
	}
	if u.Type != gopher.TypeText {
		return fmt.Errorf("%s is not text (type %c): fetch it with plumb get", u, u.Type)
	}
	w := &termsafe.Writer{W: b.out}
	if _, err = c.Text(ctx, u, w); err != nil {
		return err
	}
	return w.Flush()
}

// save fetches u into file, or by default into a file named after the
// selector's last element (see saveName). An existing file is never
// overwritten: a FILE given is refused, a default name gets a number.
func (b *browser) save(ctx context.Context, u gopher.URL, file string) error {
	c, err := b.client(u)
	if err != nil {
		return err
	}
	var f *os.File
	if file != "" {
		f, err = os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err != nil {
			return fmt.Errorf("%w (give another file name: s N FILE)", err)
		}
	} else if f, file, err = createNew(saveName(u.Selector)); err != nil {
		return fmt.Errorf("%w (give a file name: s N FILE)", err)
	}
	var n int64
	switch {
	case gopher.IsMenu(u.Type):
		var items []gopher.Item
		if items, err = c.Menu(ctx, u); err == nil {
			for _, it := range items {
				k, _ := io.WriteString(f, it.Line()+"\n")
				n += int64(k)
			}
		}
	case u.Type == gopher.TypeText:
		n, err = c.Text(ctx, u, f)
	default:
		n, err = c.Binary(ctx, u, f)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(file)
		return err
	}
	b.printf("saved %s (%d bytes)\n", termsafe.String(file), n)
	return nil
}

// printJSON prints the menu at u as JSON (--json).
func (b *browser) printJSON(ctx context.Context, u gopher.URL) error {
	c, err := b.client(u)
	if err != nil {
		return err
	}
	if !gopher.IsMenu(u.Type) {
		return withExit(exitTransferUsage, fmt.Errorf("--json prints menus; %s is type %c", u, u.Type))
	}
	items, err := c.Menu(ctx, u)
	if err != nil {
		return withExit(exitTransferFailed, err)
	}
	type jsonItem struct {
		Type     string `json:"type"`
		Display  string `json:"display"`
		Selector string `json:"selector"`
		Host     string `json:"host"`
		Port     int    `json:"port"`
		URL      string `json:"url,omitempty"`
	}
	out := make([]jsonItem, 0, len(items))
	for _, it := range items {
		j := jsonItem{Type: string(it.Type), Display: it.Display, Selector: it.Selector, Host: it.Host, Port: it.Port}
		if it.Type != gopher.TypeInfo && it.Type != gopher.TypeError {
			j.URL = it.URL(u.TLS && it.URL(false).Host == u.Host).String()
		}
		out = append(out, j)
	}
	enc := json.NewEncoder(b.out)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// saveName is the default file name for an item: the last element of
// its selector, which the server chose, made a plain name in the
// current directory: no path separator, no leading dot (no
// .bash_profile), no control character; "gopher-item" when nothing is
// left.
func saveName(selector string) string {
	name := strings.TrimLeft(path.Base(selector), "/") // Base("/") is "/"
	if i := strings.LastIndexByte(name, '\\'); i >= 0 {
		name = name[i+1:]
	}
	name = strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f || r >= 0x80 && r < 0xa0 || r == utf8.RuneError || r == ':' {
			return '_'
		}
		return r
	}, name)
	name = strings.TrimLeft(name, ".")
	if name == "" {
		return "gopher-item"
	}
	return name
}

// createNew creates name, or name.1, name.2, … when it exists, and
// returns the file and the name used.
func createNew(name string) (*os.File, string, error) {
	try := name
	for i := 1; ; i++ {
		f, err := os.OpenFile(try, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err == nil || !errors.Is(err, fs.ErrExist) || i > 99 {
			return f, try, err
		}
		try = name + "." + strconv.Itoa(i)
	}
}
