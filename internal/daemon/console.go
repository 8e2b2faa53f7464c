package daemon

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/creack/pty"

	"github.com/plumbnet/plumb/finger"
	"github.com/plumbnet/plumb/telnet"
)

// console is plumb's operator console, the program a telnet operator
// runs. It runs in the daemon's process but on the slave side of the
// session's pseudo-terminal, in cooked mode: the kernel's line
// discipline echoes, erases and ends lines, exactly as for a shell, and
// the console reads whole lines.
type console struct {
	d *Daemon
}

// consoleCommand is one row of the console's command table.
type consoleCommand struct {
	args string
	help string
	run  func(c *console, w io.Writer, t *telnet.Terminal, args []string) error
}

// errLogout ends the console.
var errLogout = fmt.Errorf("logout")

var consoleCommands map[string]consoleCommand

func init() {
	consoleCommands = map[string]consoleCommand{
		"help":     {"", "list the commands", (*console).help},
		"status":   {"", "the services, where they listen and their open connections", (*console).status},
		"sessions": {"", "the open connections of every service", (*console).sessions},
		"kill":     {"ID", "close the connection with that id (see sessions)", (*console).kill},
		"users":    {"", "the accounts", (*console).users},
		"log":      {"[N]", "the last N log lines (default 20)", (*console).logLines},
		"term":     {"", "this terminal's type and size", (*console).term},
		"quit":     {"", "leave the console (also exit, logout, ^D)", func(*console, io.Writer, *telnet.Terminal, []string) error { return errLogout }},
	}
}

var consoleAliases = map[string]string{"exit": "quit", "logout": "quit", "?": "help", "who": "sessions"}

// Run reads commands from the terminal until quit or a hang-up.
func (c *console) Run(ctx context.Context, t *telnet.Terminal) error {
	w := t.TTY
	fmt.Fprintf(w, "plumb operator console: %s logged in. Type help for the commands.\n", t.User)
	sc := bufio.NewScanner(t.TTY)
	for {
		fmt.Fprint(w, "plumb> ")
		if !sc.Scan() {
			return nil // ^D, or the session hung up the terminal
		}
		if ctx.Err() != nil {
			return nil
		}
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		name := strings.ToLower(f[0])
		if a, ok := consoleAliases[name]; ok {
			name = a
		}
		cmd, ok := consoleCommands[name]
		if !ok {
			fmt.Fprintf(w, "%s: unknown command; type help\n", f[0])
			continue
		}
		err := cmd.run(c, w, t, f[1:])
		if err == errLogout {
			fmt.Fprintln(w, "bye")
			return nil
		}
		if err != nil {
			fmt.Fprintf(w, "%s: %v\n", name, err)
		}
	}
}

func (c *console) help(w io.Writer, _ *telnet.Terminal, _ []string) error {
	names := make([]string, 0, len(consoleCommands))
	for n := range consoleCommands {
		names = append(names, n)
	}
	sort.Strings(names)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, n := range names {
		fmt.Fprintf(tw, "  %s %s\t%s\n", n, consoleCommands[n].args, consoleCommands[n].help)
	}
	return tw.Flush()
}

func (c *console) status(w io.Writer, _ *telnet.Terminal, _ []string) error {
	st := c.d.status()
	fmt.Fprintf(w, "up since %s (%s)\n", st.Started.Format(time.DateTime), time.Since(st.Started).Round(time.Second))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SERVICE\tNET\tADDRESS\tCONNECTIONS")
	for _, s := range st.Services {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\n", s.Name, s.Net, s.Addr, s.Connections)
	}
	return tw.Flush()
}

func (c *console) sessions(w io.Writer, t *telnet.Terminal, _ []string) error {
	me := ""
	if t.Info.RemoteAddr != nil {
		me = t.Info.RemoteAddr.String()
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSERVICE\tPEER\tUSER\tSINCE\tIN\tOUT")
	for _, s := range c.d.Sessions() {
		mark := ""
		if s.Peer == me && strings.HasPrefix(s.Service, "telnet") {
			mark = " (you)"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s%s\t%s\t%s\t%d\t%d\n", s.ID, s.Service, s.Peer, mark, orDash(s.User),
			s.Since.Format(time.TimeOnly), s.BytesIn, s.BytesOut)
	}
	return tw.Flush()
}

// orDash is s, or "-" for a session no one has logged in on yet.
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func (c *console) kill(w io.Writer, _ *telnet.Terminal, args []string) error {
	if len(args) != 1 {
		return fmt.Errorf("usage: kill ID")
	}
	id, err := strconv.ParseUint(args[0], 10, 64)
	if err != nil {
		return fmt.Errorf("%q is not a session id", args[0])
	}
	if !c.d.CloseSession(id) {
		return fmt.Errorf("no open session %d", id)
	}
	fmt.Fprintf(w, "closed session %d\n", id)
	return nil
}

func (c *console) users(w io.Writer, _ *telnet.Terminal, _ []string) error {
	ops := telnetSection.of(c.d.Config()).Operators
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tCREATED\tOPERATOR")
	for _, a := range c.d.Accounts().List() {
		created := "-"
		if !a.Created.IsZero() {
			created = a.Created.Format(time.DateOnly)
		}
		op := ""
		if isOperator(ops, a.Name) {
			op = "yes"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", a.Name, created, op)
	}
	return tw.Flush()
}

func (c *console) logLines(w io.Writer, _ *telnet.Terminal, args []string) error {
	n := 20
	if len(args) > 0 {
		v, err := strconv.Atoi(args[0])
		if err != nil || v <= 0 {
			return fmt.Errorf("%q is not a line count", args[0])
		}
		n = v
	}
	for _, l := range c.d.recent.last(n) {
		// One record, one line: a line feed a client put in a logged
		// value is shown as \n, and finger.Harmless escapes the rest.
		fmt.Fprintf(w, "%s\n", finger.Harmless([]byte(strings.ReplaceAll(l, "\n", `\n`))))
	}
	return nil
}

func (c *console) term(w io.Writer, t *telnet.Terminal, _ []string) error {
	ws, err := pty.GetsizeFull(t.TTY)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "TERM=%s size=%dx%d\n", t.Type, ws.Cols, ws.Rows)
	return nil
}
