package cli

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync"

	"golang.org/x/term"

	"github.com/plumbnet/plumb/ftp"
)

// ftpOfferedTLS reports whether the server offers AUTH TLS: FEAT lists
// it, or the server has no FEAT to tell (lftp tries AUTH then too).
func ftpOfferedTLS(c *ftp.Client) bool {
	feat, err := c.Features()
	if err != nil || len(feat) == 0 {
		return true
	}
	params, ok := feat["AUTH"]
	return ok && (params == "" || strings.Contains(strings.ToUpper(params), "TLS"))
}

// ftpTryTLS secures the control connection with AUTH TLS when the
// server offers it, as lftp does, and reports whether it did. Plain
// text goes on only where the server has no TLS (it lists no AUTH TLS,
// or answers AUTH with a 5xx reply). A server that has TLS but whose
// certificate fails the check is an error, with advice, as under
// --ssl-reqd; except on loopback, where nothing crosses a network and
// an unverified certificate (plumb serve's self-signed one) still
// encrypts.
func ftpTryTLS(c *ftp.Client, cfg *tls.Config, loopback bool) (bool, error) {
	if !ftpOfferedTLS(c) {
		return false, nil
	}
	cfg = cfg.Clone()
	if loopback {
		cfg.InsecureSkipVerify = true
	}
	err := c.AuthTLS(cfg)
	var fe *ftp.Error
	if errors.As(err, &fe) && fe.Code/100 == 5 {
		return false, nil // no TLS here after all
	}
	return err == nil, err
}

// ftpPeerLoopback is whether the control connection's peer is a
// loopback address (a variable, for tests).
var ftpPeerLoopback = func(c *ftp.Client) bool {
	a := c.RemoteAddr()
	if a == nil {
		return false
	}
	ap, err := netip.ParseAddrPort(a.String())
	if err != nil {
		_, isUnix := a.(*net.UnixAddr)
		return isUnix
	}
	return ap.Addr().Unmap().IsLoopback()
}

// ftpStderrTerminal is whether w is a terminal (a variable, for tests).
var ftpStderrTerminal = func(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// ftpPlainWarning is given once per run of plumb.
var ftpPlainWarning sync.Once

// warnFTPPlaintext tells the person at the terminal, once, that the
// session with addr goes on in plain text across a network.
func warnFTPPlaintext(stderr io.Writer, addr string) {
	if !ftpStderrTerminal(stderr) {
		return
	}
	ftpPlainWarning.Do(func() {
		fmt.Fprintf(stderr, "plumb: warning: %s has no TLS: the password and the files cross the network unencrypted (--ssl-reqd refuses this)\n", addr)
	})
}
