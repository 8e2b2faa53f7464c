package cli

import (
	"bufio"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"

	"github.com/plumbnet/plumb/ftp"
)

func init() {
	registerTransferScheme("ftp", ftpScheme{})
	registerTransferScheme("ftps", ftpScheme{})
}

// ftpScheme is plumb get and plumb put for ftp:// and ftps:// URLs.
type ftpScheme struct{}

// ftpDialOptions is what connecting and logging in to an FTP URL needs.
type ftpDialOptions struct {
	flags  *transferFlags
	stdin  io.Reader // where a password prompt reads, when it is a terminal
	stderr io.Writer
}

// ftpConnect connects to the server of an ftp:// or ftps:// URL, secures
// the connection as the URL and flags ask, and logs in.
func ftpConnect(ctx context.Context, u *url.URL, o ftpDialOptions) (*ftp.Client, error) {
	implicit := strings.EqualFold(u.Scheme, "ftps")
	host, port := u.Hostname(), u.Port()
	if port == "" {
		port = "21"
		if implicit {
			port = "990"
		}
	}
	addr := net.JoinHostPort(host, port)
	user, pass, err := ftpCredentials(u, o)
	if err != nil {
		return nil, err
	}
	t := &transfer{flags: o.flags}
	d := ftp.Dialer{Timeout: o.flags.timeout, Active: o.flags.active, DisableEPSV: o.flags.noEPSV}
	if d.TLSConfig, err = t.tlsConfig(host); err != nil {
		return nil, err
	}
	var c *ftp.Client
	if implicit {
		c, err = d.DialTLS(ctx, addr)
	} else {
		c, err = d.Dial(ctx, addr)
	}
	if err != nil {
		return nil, ftpConnectError(addr, err)
	}
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	switch {
	case implicit:
	case o.flags.sslReqd:
		if err := c.AuthTLS(d.TLSConfig); err != nil {
			c.Close()
			var fe *ftp.Error
			if errors.As(err, &fe) {
				return nil, fmt.Errorf("%s refused AUTH TLS (%w); drop --ssl-reqd only if a plain-text password is acceptable", addr, err)
			}
			return nil, ftpConnectError(addr, err)
		}
	case user == "anonymous" || user == "ftp":
		// As lftp: no secret to protect, and many servers (vsftpd by
		// default) refuse anonymous logins under TLS.
	default:
		loopback := ftpPeerLoopback(c)
		secured, err := ftpTryTLS(c, d.TLSConfig, loopback)
		if err != nil {
			c.Close()
			return nil, ftpConnectError(addr, err)
		}
		if !secured {
			// The server has no TLS: the password goes in the clear,
			// said once on a terminal when it crosses a network.
			c.InsecureAuth = true
			if !loopback {
				warnFTPPlaintext(o.stderr, addr)
			}
		}
	}
	if err := c.Login(user, pass); err != nil {
		c.Close()
		var fe *ftp.Error
		if errors.As(err, &fe) && fe.Code == 530 {
			return nil, fmt.Errorf("login as %q refused (%w); check the user and password (in the URL, --user or ~/.netrc)", user, err)
		}
		return nil, fmt.Errorf("login as %q: %w", user, err)
	}
	return c, nil
}

// ftpCredentials picks the user and password: --user, then the URL,
// then the netrc file, then anonymous; a password still missing is
// asked for on the terminal.
func ftpCredentials(u *url.URL, o ftpDialOptions) (user, pass string, err error) {
	if o.flags.user != "" {
		u = &url.URL{Host: u.Host}
		name, pw, ok := strings.Cut(o.flags.user, ":")
		u.User = url.User(name)
		if ok {
			u.User = url.UserPassword(name, pw)
		}
	}
	user, pass, havePass, err := urlLogin(u, o.flags.netrcFile)
	if err != nil {
		return "", "", err
	}
	if user == "" {
		return "anonymous", "anonymous@", nil
	}
	if havePass {
		return user, pass, nil
	}
	if user == "anonymous" || user == "ftp" {
		return user, "anonymous@", nil
	}
	pass, err = askPassword(o.stdin, o.stderr, user, u.Hostname(), "the URL, --user USER:PASSWORD or ~/.netrc")
	return user, pass, err
}

// ftpConnectError says what to do about a failed connection.
func ftpConnectError(addr string, err error) error {
	var unknown x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var fe *ftp.Error
	switch {
	case errors.As(err, &unknown):
		return fmt.Errorf("TLS with %s: the certificate is signed by an unknown authority; pass --ca FILE with its issuer (or --insecure to skip the check)", addr)
	case errors.As(err, &hostErr):
		return fmt.Errorf("TLS with %s: the certificate is not valid for this host name: %w; connect by the name it was issued for, or --insecure", addr, err)
	case errors.As(err, &fe):
		return fmt.Errorf("%s: %w", addr, err)
	case strings.Contains(err.Error(), "connection refused"):
		return fmt.Errorf("%s: connection refused: no FTP server listens there; check the host and port", addr)
	}
	return fmt.Errorf("connecting to %s: %w", addr, err)
}

// ftpURLPath turns a URL path into the path sent to the server: relative
// to the login directory, as RFC 1738 says, unless it starts with "//"
// (or %2F), which makes it absolute.
func ftpURLPath(u *url.URL) string {
	return strings.TrimPrefix(u.Path, "/")
}

func (ftpScheme) dial(ctx context.Context, t *transfer) (*ftp.Client, error) {
	c, err := ftpConnect(ctx, t.url, ftpDialOptions{flags: t.flags, stdin: t.stdin, stderr: t.stderr})
	if err != nil {
		var ee *exitError
		if errors.As(err, &ee) {
			return nil, err
		}
		return nil, withExit(exitTransferFailed, err)
	}
	context.AfterFunc(ctx, func() { c.Close() })
	return c, nil
}

func (s ftpScheme) get(ctx context.Context, t *transfer, offset int64) error {
	c, err := s.dial(ctx, t)
	if err != nil {
		return err
	}
	defer c.Close()
	p := ftpURLPath(t.url)
	if p == "" || strings.HasSuffix(p, "/") {
		lines, err := c.ListLines(strings.TrimSuffix(p, "/"))
		if err != nil {
			return err
		}
		w, err := t.begin(-1, 0)
		if err != nil {
			return err
		}
		bw := bufio.NewWriter(w)
		for _, l := range lines {
			fmt.Fprintln(bw, l)
		}
		if err := bw.Flush(); err != nil {
			return err
		}
		return c.Quit()
	}
	size, sizeErr := c.Size(p)
	if sizeErr != nil {
		var fe *ftp.Error
		if errors.As(sizeErr, &fe) && fe.Code == 550 {
			return withExit(exitTransferFailed, fmt.Errorf("%s: %w (no such file, or not allowed)", p, sizeErr))
		}
		size = -1
	}
	if offset > 0 && size >= 0 {
		if offset == size {
			c.Quit()
			return errAlreadyComplete
		}
		if offset > size {
			return withExit(exitTransferFailed, fmt.Errorf("the local file has %d bytes, more than the server's %d: it is not a partial copy of %s; remove it or choose another -o FILE", offset, size, p))
		}
	}
	w, err := t.begin(size, offset)
	if err != nil {
		return err
	}
	n, err := c.RetrFrom(p, w, offset)
	if err != nil {
		return err
	}
	if size >= 0 && offset+n != size {
		return fmt.Errorf("got %d bytes of %d: the server ended the transfer early", offset+n, size)
	}
	c.Quit()
	return nil
}

func (s ftpScheme) put(ctx context.Context, t *transfer, src io.ReadSeeker, size int64) error {
	c, err := s.dial(ctx, t)
	if err != nil {
		return err
	}
	defer c.Close()
	p := ftpURLPath(t.url)
	var offset int64
	if t.flags.resume {
		if n, err := c.Size(p); err == nil {
			offset = n
		}
		if offset == size {
			c.Quit()
			return errAlreadyComplete
		}
		if offset > size {
			return withExit(exitTransferFailed, fmt.Errorf("the server's %s has %d bytes, more than the local %d: not a partial upload; put it without --continue to replace it", p, offset, size))
		}
		if _, err := src.Seek(offset, io.SeekStart); err != nil {
			return err
		}
	}
	w, err := t.begin(size, offset)
	if err != nil {
		return err
	}
	r := io.TeeReader(src, w)
	if offset > 0 {
		_, err = c.Append(p, r)
	} else {
		_, err = c.Stor(p, r)
	}
	if err != nil {
		return err
	}
	if size >= 0 {
		if n, err := c.Size(p); err == nil && n != size {
			return fmt.Errorf("the server has %d bytes of %d after the upload", n, size)
		}
	}
	c.Quit()
	return nil
}
