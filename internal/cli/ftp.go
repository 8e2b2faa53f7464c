package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/plumbnet/plumb/ftp"
)

func init() { addCommand(newFTPCmd) }

func newFTPCmd() *cobra.Command {
	var f transferFlags
	cmd := &cobra.Command{
		Use:   "ftp URL",
		Short: "Interactive FTP client: ls, cd, get, put, mget, mput, …",
		Long: `ftp connects to the server of an ftp:// or ftps:// URL, logs in as
plumb get does (URL, --user, ~/.netrc, a password prompt, or
anonymous), changes to the URL's directory if it names one, and reads
commands. Like lftp, it secures the session with AUTH TLS whenever the
server offers it (except for anonymous logins); only where the server
has no TLS does it go on in plain text, and then it warns once if the
server is not on this machine. --ssl-reqd refuses plain text. On a terminal it offers line editing, history, and Tab
completion of commands, remote paths and local paths. Otherwise it
reads commands from standard input, one per line, so it can be
scripted; then it exits 1 if any command failed.

Commands (type help on the prompt for each one's usage):
  ls dir pwd cd cdup get put mget mput mkdir rmdir rm rename size
  lcd passive active binary ascii quote help bye (or quit, exit)

Arguments with spaces are quoted: get "annual report.pdf".`,
		Example: `  plumb ftp ftp://localhost:10021/
  plumb ftp ftp://alice@localhost:10021/pub --ssl-reqd --ca data/tls/cert.pem
  printf 'cd pub\nmget *.txt\nbye\n' | plumb ftp ftp://localhost:10021/`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runFTP(cmd.Context(), cmd, &f, args[0])
		},
	}
	fl := cmd.Flags()
	fl.BoolVarP(&f.insecure, "insecure", "k", false, "accept any TLS certificate (testing only)")
	fl.StringVar(&f.caFile, "ca", "", "trust the PEM certificates in `FILE` instead of the system's")
	fl.BoolVar(&f.sslReqd, "ssl-reqd", false, "require explicit TLS (AUTH TLS) for control and data connections")
	fl.BoolVarP(&f.active, "active", "P", false, "start in active mode (EPRT/PORT)")
	fl.BoolVar(&f.noEPSV, "disable-epsv", false, "send PASV without trying EPSV first")
	fl.StringVarP(&f.user, "user", "u", "", "log in as `USER[:PASSWORD]`")
	fl.StringVar(&f.netrcFile, "netrc-file", "", "read credentials from `FILE` instead of $NETRC or ~/.netrc")
	fl.DurationVar(&f.timeout, "timeout", 30*time.Second, "give up on a connection or a stalled transfer after this long")
	return cmd
}

func runFTP(ctx context.Context, cmd *cobra.Command, f *transferFlags, raw string) error {
	u, _, err := parseTransferURL(raw)
	if err != nil {
		return err
	}
	if s := strings.ToLower(u.Scheme); s != "ftp" && s != "ftps" {
		return withExit(exitTransferUsage, fmt.Errorf("%q: plumb ftp takes ftp:// or ftps:// URLs", raw))
	}
	stdin, stdout := cmd.InOrStdin(), cmd.OutOrStdout()
	c, err := ftpConnect(ctx, u, ftpDialOptions{flags: f, stdin: stdin, stderr: cmd.ErrOrStderr()})
	if err != nil {
		var ee *exitError
		if errors.As(err, &ee) {
			return err
		}
		return withExit(1, err)
	}
	defer c.Close()
	sh := &ftpShell{ctx: ctx, c: c, out: stdout, cache: map[string][]*ftp.Entry{}}
	if p := ftpURLPath(u); p != "" {
		if err := c.Cwd(strings.TrimSuffix(p, "/")); err != nil {
			return withExit(1, fmt.Errorf("cd %s: %w", p, err))
		}
	}
	in, ok := stdin.(*os.File)
	if ok && term.IsTerminal(int(in.Fd())) {
		if of, ok := stdout.(*os.File); ok && term.IsTerminal(int(of.Fd())) {
			return sh.interactive(in, of)
		}
	}
	return sh.script(stdin)
}

// ftpShell runs the commands of plumb ftp on one connection.
type ftpShell struct {
	ctx    context.Context
	c      *ftp.Client
	out    io.Writer
	cache  map[string][]*ftp.Entry // remote directory listings for completion
	failed int
}

// script runs commands from r, one per line, without a prompt.
func (sh *ftpShell) script(r io.Reader) error {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		if quit := sh.execute(sc.Text()); quit {
			break
		}
		if sh.ctx.Err() != nil {
			return withExit(130, errors.New("interrupted"))
		}
	}
	if sh.failed > 0 {
		sh.c.Quit()
		return withExit(1, fmt.Errorf("%d command(s) failed", sh.failed))
	}
	return sh.c.Quit()
}

// interactive runs a prompt with line editing and Tab completion.
func (sh *ftpShell) interactive(in, out *os.File) error {
	state, err := term.MakeRaw(int(in.Fd()))
	if err != nil {
		return sh.script(in)
	}
	defer term.Restore(int(in.Fd()), state)
	t := term.NewTerminal(struct {
		io.Reader
		io.Writer
	}{in, out}, "ftp> ")
	if w, h, err := term.GetSize(int(out.Fd())); err == nil {
		t.SetSize(w, h)
	}
	sh.out = t
	t.AutoCompleteCallback = func(line string, pos int, key rune) (string, int, bool) {
		if key != '\t' {
			return "", 0, false
		}
		return sh.complete(t, line, pos)
	}
	for {
		line, err := t.ReadLine()
		if err == io.EOF {
			fmt.Fprintln(t)
			break
		}
		if err != nil {
			return err
		}
		if sh.execute(line) {
			break
		}
	}
	sh.c.Quit()
	return nil
}

// ftpCommand is one command of the shell.
type ftpCommand struct {
	usage   string
	help    string
	min     int // fewest arguments
	max     int // most arguments; -1 for any number
	complet byte
	run     func(sh *ftpShell, args []string) error
}

// Completion kinds for a command's arguments.
const (
	completeNone   = 0
	completeRemote = 'r'
	completeLocal  = 'l'
)

var ftpCommands map[string]*ftpCommand

func init() {
	ftpCommands = map[string]*ftpCommand{
		"ls":      {"ls [PATH]", "list names", 0, 1, completeRemote, (*ftpShell).cmdLs},
		"dir":     {"dir [PATH]", "list in long form", 0, 1, completeRemote, (*ftpShell).cmdDir},
		"pwd":     {"pwd", "print the remote directory", 0, 0, completeNone, (*ftpShell).cmdPwd},
		"cd":      {"cd DIR", "change the remote directory", 1, 1, completeRemote, func(sh *ftpShell, a []string) error { return sh.c.Cwd(a[0]) }},
		"cdup":    {"cdup", "go to the parent remote directory", 0, 0, completeNone, func(sh *ftpShell, _ []string) error { return sh.c.CdUp() }},
		"get":     {"get REMOTE [LOCAL]", "download a file", 1, 2, completeRemote, (*ftpShell).cmdGet},
		"put":     {"put LOCAL [REMOTE]", "upload a file", 1, 2, completeLocal, (*ftpShell).cmdPut},
		"mget":    {"mget PATTERN...", "download the files matching each pattern (* ? [])", 1, -1, completeRemote, (*ftpShell).cmdMget},
		"mput":    {"mput PATTERN...", "upload the local files matching each pattern", 1, -1, completeLocal, (*ftpShell).cmdMput},
		"mkdir":   {"mkdir DIR", "make a remote directory", 1, 1, completeRemote, (*ftpShell).cmdMkdir},
		"rmdir":   {"rmdir DIR", "remove an empty remote directory", 1, 1, completeRemote, (*ftpShell).cmdRmdir},
		"rm":      {"rm FILE", "delete a remote file", 1, 1, completeRemote, (*ftpShell).cmdRm},
		"rename":  {"rename FROM TO", "rename a remote file or directory", 2, 2, completeRemote, (*ftpShell).cmdRename},
		"size":    {"size FILE", "print a remote file's size", 1, 1, completeRemote, (*ftpShell).cmdSize},
		"lcd":     {"lcd [DIR]", "change the local directory", 0, 1, completeLocal, (*ftpShell).cmdLcd},
		"passive": {"passive", "data connections by EPSV/PASV (the default)", 0, 0, completeNone, (*ftpShell).cmdMode},
		"active":  {"active", "data connections by EPRT/PORT: the server connects to us", 0, 0, completeNone, (*ftpShell).cmdMode},
		"binary":  {"binary", "transfer bytes as they are (the default)", 0, 0, completeNone, func(sh *ftpShell, _ []string) error { return sh.c.SetASCII(false) }},
		"ascii":   {"ascii", "transfer text, converting line ends", 0, 0, completeNone, func(sh *ftpShell, _ []string) error { return sh.c.SetASCII(true) }},
		"quote":   {"quote COMMAND...", "send a raw command and print the reply", 1, -1, completeNone, (*ftpShell).cmdQuote},
		"help":    {"help [COMMAND]", "list commands, or explain one", 0, 1, completeNone, (*ftpShell).cmdHelp},
		"bye":     {"bye", "log out and quit (also quit, exit)", 0, 0, completeNone, nil},
	}
	ftpCommands["quit"], ftpCommands["exit"] = ftpCommands["bye"], ftpCommands["bye"]
	ftpCommands["delete"] = ftpCommands["rm"]
}

// execute runs one command line and reports whether the shell should end.
func (sh *ftpShell) execute(line string) (quit bool) {
	args, err := splitShellWords(line)
	if err != nil {
		fmt.Fprintf(sh.out, "?%v\n", err)
		sh.failed++
		return false
	}
	if len(args) == 0 {
		return false
	}
	name := strings.ToLower(args[0])
	c, ok := ftpCommands[name]
	if !ok {
		fmt.Fprintf(sh.out, "?unknown command %q; type help for the list\n", args[0])
		sh.failed++
		return false
	}
	if c.run == nil {
		return true
	}
	args = args[1:]
	if len(args) < c.min || (c.max >= 0 && len(args) > c.max) {
		fmt.Fprintf(sh.out, "?usage: %s\n", c.usage)
		sh.failed++
		return false
	}
	if name == "active" || name == "passive" {
		args = []string{name}
	}
	if err := c.run(sh, args); err != nil {
		fmt.Fprintf(sh.out, "%s: %v\n", name, err)
		sh.failed++
		var fe *ftp.Error
		if !errors.As(err, &fe) && sh.c.NoOp() != nil {
			fmt.Fprintln(sh.out, "the connection is lost; quitting")
			return true
		}
	}
	return false
}

// splitShellWords splits a command line into words; double or single
// quotes keep spaces in a word, and a backslash escapes one character.
func splitShellWords(line string) ([]string, error) {
	var words []string
	var b strings.Builder
	inWord := false
	var quote byte
	for i := 0; i < len(line); i++ {
		ch := line[i]
		switch {
		case quote != 0 && ch == quote:
			quote = 0
		case quote != '\'' && ch == '\\' && i+1 < len(line):
			i++
			b.WriteByte(line[i])
			inWord = true
		case quote != 0:
			b.WriteByte(ch)
		case ch == '"' || ch == '\'':
			quote, inWord = ch, true
		case ch == ' ' || ch == '\t':
			if inWord {
				words = append(words, b.String())
				b.Reset()
				inWord = false
			}
		default:
			b.WriteByte(ch)
			inWord = true
		}
	}
	if quote != 0 {
		return nil, errors.New("unterminated quote")
	}
	if inWord {
		words = append(words, b.String())
	}
	return words, nil
}

func (sh *ftpShell) cmdLs(args []string) error {
	names, err := sh.c.NameList(optArg(args))
	if err != nil {
		return err
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintln(sh.out, n)
	}
	return nil
}

func (sh *ftpShell) cmdDir(args []string) error {
	lines, err := sh.c.ListLines(optArg(args))
	for _, l := range lines {
		fmt.Fprintln(sh.out, l)
	}
	return err
}

func (sh *ftpShell) cmdPwd([]string) error {
	p, err := sh.c.Pwd()
	if err == nil {
		fmt.Fprintln(sh.out, p)
	}
	return err
}

func optArg(args []string) string {
	if len(args) > 0 {
		return args[0]
	}
	return ""
}

func (sh *ftpShell) cmdGet(args []string) error {
	remote := args[0]
	local := path.Base(remote)
	if len(args) > 1 {
		local = args[1]
	}
	f, err := os.Create(local)
	if err != nil {
		return err
	}
	start := time.Now()
	n, err := sh.c.Retr(remote, f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("%w (%d bytes kept in %s)", err, n, local)
	}
	sh.report(n, start, remote+" -> "+local)
	return nil
}

func (sh *ftpShell) cmdPut(args []string) error {
	local := args[0]
	remote := filepath.Base(local)
	if len(args) > 1 {
		remote = args[1]
	}
	f, err := os.Open(local)
	if err != nil {
		return err
	}
	defer f.Close()
	start := time.Now()
	n, err := sh.c.Stor(remote, f)
	sh.invalidate()
	if err != nil {
		return err
	}
	sh.report(n, start, local+" -> "+remote)
	return nil
}

func (sh *ftpShell) report(n int64, start time.Time, what string) {
	d := time.Since(start)
	rate := float64(n) / d.Seconds() / (1 << 20)
	fmt.Fprintf(sh.out, "%s: %d bytes in %s (%.1f MiB/s)\n", what, n, d.Round(time.Millisecond), rate)
}

func (sh *ftpShell) cmdMget(args []string) error {
	var failed error
	for _, pat := range args {
		if _, err := path.Match(pat, ""); err != nil {
			return fmt.Errorf("pattern %q: %w", pat, err)
		}
		dir := path.Dir(pat)
		if dir == "." {
			dir = ""
		}
		names, err := sh.c.NameList(dir)
		if err != nil {
			return err
		}
		matched := 0
		for _, n := range names {
			full := path.Join(dir, path.Base(n))
			if ok, _ := path.Match(path.Base(pat), path.Base(n)); !ok {
				continue
			}
			matched++
			if err := sh.cmdGet([]string{full}); err != nil {
				fmt.Fprintf(sh.out, "get %s: %v\n", full, err)
				failed = errors.New("some files failed")
			}
		}
		if matched == 0 {
			failed = fmt.Errorf("no remote file matches %q", pat)
		}
	}
	return failed
}

func (sh *ftpShell) cmdMput(args []string) error {
	var failed error
	for _, pat := range args {
		files, err := filepath.Glob(pat)
		if err != nil {
			return fmt.Errorf("pattern %q: %w", pat, err)
		}
		if len(files) == 0 {
			failed = fmt.Errorf("no local file matches %q", pat)
		}
		for _, f := range files {
			if st, err := os.Stat(f); err != nil || st.IsDir() {
				continue
			}
			if err := sh.cmdPut([]string{f}); err != nil {
				fmt.Fprintf(sh.out, "put %s: %v\n", f, err)
				failed = errors.New("some files failed")
			}
		}
	}
	return failed
}

func (sh *ftpShell) cmdMkdir(args []string) error {
	p, err := sh.c.MakeDir(args[0])
	sh.invalidate()
	if err == nil {
		fmt.Fprintf(sh.out, "created %s\n", p)
	}
	return err
}

func (sh *ftpShell) cmdRmdir(args []string) error {
	defer sh.invalidate()
	return sh.c.RemoveDir(args[0])
}

func (sh *ftpShell) cmdRm(args []string) error {
	defer sh.invalidate()
	return sh.c.Delete(args[0])
}

func (sh *ftpShell) cmdRename(args []string) error {
	defer sh.invalidate()
	return sh.c.Rename(args[0], args[1])
}

func (sh *ftpShell) cmdSize(args []string) error {
	n, err := sh.c.Size(args[0])
	if err == nil {
		fmt.Fprintf(sh.out, "%s: %d bytes\n", args[0], n)
	}
	return err
}

func (sh *ftpShell) cmdLcd(args []string) error {
	dir := optArg(args)
	if dir == "" {
		var err error
		if dir, err = os.UserHomeDir(); err != nil {
			return err
		}
	}
	if err := os.Chdir(dir); err != nil {
		return err
	}
	wd, _ := os.Getwd()
	fmt.Fprintf(sh.out, "local directory now %s\n", wd)
	return nil
}

func (sh *ftpShell) cmdMode(args []string) error {
	sh.c.SetActive(args[0] == "active")
	fmt.Fprintf(sh.out, "%s mode\n", args[0])
	return nil
}

func (sh *ftpShell) cmdQuote(args []string) error {
	code, msg, err := sh.c.Command(strings.Join(args, " "))
	if err != nil {
		return err
	}
	for i, l := range strings.Split(msg, "\n") {
		sep := " "
		if i < strings.Count(msg, "\n") {
			sep = "-"
		}
		fmt.Fprintf(sh.out, "%d%s%s\n", code, sep, l)
	}
	return nil
}

func (sh *ftpShell) cmdHelp(args []string) error {
	if len(args) == 1 {
		c, ok := ftpCommands[strings.ToLower(args[0])]
		if !ok {
			return fmt.Errorf("no command %q", args[0])
		}
		fmt.Fprintf(sh.out, "%s: %s\n", c.usage, c.help)
		return nil
	}
	names := make([]string, 0, len(ftpCommands))
	for n := range ftpCommands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(sh.out, "  %-24s %s\n", ftpCommands[n].usage, ftpCommands[n].help)
	}
	return nil
}
