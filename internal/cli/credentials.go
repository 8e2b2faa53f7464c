package cli

import (
	"fmt"
	"io"
	"net/url"
	"os"

	"golang.org/x/term"
)

// urlLogin finds a client command's login the way curl does: the user
// and password written in the URL, then what the netrc file has for
// the URL's host (and user, when the URL names one).
func urlLogin(u *url.URL, netrcFile string) (user, pass string, havePass bool, err error) {
	if u.User != nil {
		user = u.User.Username()
		pass, havePass = u.User.Password()
	}
	if havePass {
		return user, pass, true, nil
	}
	l, p, found, err := netrcLookup(netrcFile, u.Hostname(), user)
	if err != nil {
		return "", "", false, withExit(2, fmt.Errorf("netrc: %w", err))
	}
	if found && l != "" {
		return l, p, true, nil
	}
	return user, pass, false, nil
}

// askPassword reads user's password for host without echo, when stdin
// is a terminal; hint says where else a password can come from.
func askPassword(stdin io.Reader, stderr io.Writer, user, host, hint string) (string, error) {
	in, ok := stdin.(*os.File)
	if !ok || !term.IsTerminal(int(in.Fd())) {
		return "", withExit(2, fmt.Errorf("no password for %q: put it in %s, or run on a terminal to be asked", user, hint))
	}
	fmt.Fprintf(stderr, "Password for %s@%s: ", user, host)
	b, err := term.ReadPassword(int(in.Fd()))
	fmt.Fprintln(stderr)
	if err != nil {
		return "", fmt.Errorf("reading the password: %w", err)
	}
	return string(b), nil
}
