package cli

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"
)

func init() {
	addCommand(newGetCmd)
	addCommand(newPutCmd)
}

// Exit statuses of plumb get and plumb put.
const (
	exitTransferFailed     = 1   // nothing was transferred
	exitTransferUsage      = 2   // bad arguments
	exitTransferIncomplete = 3   // some bytes moved, but not all: a partial file
	exitTransferInterrupt  = 130 // interrupted, possibly with a partial file
)

// A transferScheme moves files for one URL scheme. plumb get and plumb
// put find it by the URL's scheme, so adding a protocol to them is one
// registerTransferScheme call in that protocol's file.
type transferScheme interface {
	// get sends the resource at t.url to the writer t.begin returns,
	// from byte offset on (non-zero with --continue). It calls t.begin
	// exactly once before the first byte, unless it fails first, and
	// returns errAlreadyComplete when the local copy is already whole.
	get(ctx context.Context, t *transfer, offset int64) error
	// put stores src (size bytes; -1 when unknown, as for standard
	// input) at t.url. With t.flags.resume it asks the server how much
	// it has and sends only the rest, seeking src.
	put(ctx context.Context, t *transfer, src io.ReadSeeker, size int64) error
}

var transferSchemes = map[string]transferScheme{}

// registerTransferScheme makes plumb get and plumb put handle URLs of scheme.
func registerTransferScheme(scheme string, s transferScheme) { transferSchemes[scheme] = s }

func schemeNames() string {
	var names []string
	for n := range transferSchemes {
		names = append(names, n+"://")
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// errAlreadyComplete tells the command that --continue found nothing left to do.
var errAlreadyComplete = errors.New("already complete")

// transferFlags are the options plumb get and plumb put share.
type transferFlags struct {
	output    string
	resume    bool
	insecure  bool
	caFile    string
	sslReqd   bool
	active    bool
	noEPSV    bool
	user      string
	netrcFile string
	timeout   time.Duration
	silent    bool
	headers   []string // http(s): extra request headers, "Name: value"
	parallel  int      // http(s): segments of a parallel download
	recursive bool     // get: mirror a directory listing
	json      bool     // print the response's metadata as JSON
}

func (f *transferFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.BoolVarP(&f.resume, "continue", "C", false, "resume: get appends to the partial local file, put sends only what the server lacks")
	fl.BoolVarP(&f.insecure, "insecure", "k", false, "accept any TLS certificate (testing only)")
	fl.StringVar(&f.caFile, "ca", "", "trust the PEM certificates in `FILE` instead of the system's")
	fl.BoolVar(&f.sslReqd, "ssl-reqd", false, "ftp://: refuse plain text: require AUTH TLS for the control and data connections")
	fl.BoolVarP(&f.active, "active", "P", false, "ftp://: active mode (EPRT/PORT): the server connects back to us")
	fl.BoolVar(&f.noEPSV, "disable-epsv", false, "ftp://: send PASV without trying EPSV first")
	fl.StringVarP(&f.user, "user", "u", "", "log in as `USER[:PASSWORD]` (else the URL's, ~/.netrc's, or anonymous)")
	fl.StringVar(&f.netrcFile, "netrc-file", "", "read credentials from `FILE` instead of $NETRC or ~/.netrc")
	fl.DurationVar(&f.timeout, "timeout", 30*time.Second, "give up connecting, or on a stalled transfer, after this long")
	fl.BoolVarP(&f.silent, "silent", "s", false, "no progress bar")
	fl.StringArrayVarP(&f.headers, "header", "H", nil, "http(s)://: send the request header `\"NAME: VALUE\"` (repeatable)")
	fl.BoolVar(&f.json, "json", false, "http(s)://: print the response's status, headers and size as JSON on standard output")
}

// transfer is one run of plumb get or plumb put.
type transfer struct {
	url    *url.URL
	flags  *transferFlags
	stdin  io.Reader
	stderr io.Writer
	// begin is called by a scheme once it knows the total size (-1 if
	// unknown) and the offset it starts from; it returns where the
	// bytes go (get) or a writer that counts them (put).
	begin  func(total, offset int64) (io.Writer, error)
	moved  int64 // bytes transferred, counted by what begin returned
	bar    *progressbar.ProgressBar
	out    string    // get: the local file, "-" for standard output
	stdout io.Writer // where --json goes
}

// A recursiveGetter is a scheme that can mirror a directory (plumb get
// --recursive) into the local directory dir.
type recursiveGetter interface {
	getRecursive(ctx context.Context, t *transfer, dir string) error
}

// tlsConfig is the TLS configuration --insecure and --ca ask for.
func (t *transfer) tlsConfig(host string) (*tls.Config, error) {
	return tlsClientConfig(host, t.flags.insecure, t.flags.caFile)
}

// startBar draws a progress bar on standard error when it is a terminal.
func (t *transfer) startBar(total, offset int64, name string, dataToTerminal bool) io.Writer {
	f, ok := t.stderr.(*os.File)
	if t.flags.silent || dataToTerminal || !ok || !term.IsTerminal(int(f.Fd())) {
		return io.Discard
	}
	t.bar = progressbar.NewOptions64(total,
		progressbar.OptionSetWriter(f),
		progressbar.OptionSetDescription(name),
		progressbar.OptionShowBytes(true),
		progressbar.OptionShowCount(), // bytes done of the total, with OptionShowTotalBytes
		progressbar.OptionSetWidth(30),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionShowTotalBytes(true),
		progressbar.OptionOnCompletion(func() { fmt.Fprintln(f) }),
	)
	if offset > 0 {
		t.bar.Set64(offset)
	}
	return t.bar
}

type moveCounter struct {
	w io.Writer
	t *transfer
}

func (m *moveCounter) Write(p []byte) (int, error) {
	n, err := m.w.Write(p)
	m.t.moved += int64(n)
	return n, err
}

// parseTransferURL checks a URL argument and finds its scheme.
func parseTransferURL(raw string) (*url.URL, transferScheme, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, nil, withExit(exitTransferUsage, fmt.Errorf("%q is not a URL: %w", raw, err))
	}
	if strings.ContainsAny(raw, "\r\n") {
		return nil, nil, withExit(exitTransferUsage, errors.New("the URL contains a line break"))
	}
	s, ok := transferSchemes[strings.ToLower(u.Scheme)]
	if !ok || u.Host == "" {
		return nil, nil, withExit(exitTransferUsage, fmt.Errorf("%q: give a URL such as ftp://host/path (schemes: %s)", raw, schemeNames()))
	}
	return u, s, nil
}

// transferResult turns a scheme's error into plumb's exit status: a
// transfer that moved some bytes but not all is incomplete (status 3).
func transferResult(ctx context.Context, t *transfer, what string, err error) error {
	if t.bar != nil && err != nil {
		fmt.Fprintln(t.stderr)
	}
	var ee *exitError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ee):
		return err
	case ctx.Err() != nil:
		return withExit(exitTransferInterrupt, fmt.Errorf("%s: interrupted after %d bytes; run again with --continue to resume", what, t.moved))
	case t.moved > 0:
		return withExit(exitTransferIncomplete, fmt.Errorf("%s: incomplete after %d bytes: %w; run again with --continue to resume", what, t.moved, err))
	}
	return withExit(exitTransferFailed, fmt.Errorf("%s: %w", what, err))
}

func newGetCmd() *cobra.Command {
	var f transferFlags
	cmd := &cobra.Command{
		Use:   "get URL [-o FILE]",
		Short: "Download a URL to a file or standard output",
		Long: `get downloads one URL. The file is saved under the URL's last path
element in the current directory, or as -o FILE; -o - writes to standard
output. A URL ending in / lists the directory instead.

ftp:// logs in with the URL's user and password, or --user, or the
matching machine of ~/.netrc (or --netrc-file), or else anonymously; a
user with no password is asked for one on the terminal. A path is
relative to the login directory; start it with %2F
(ftp://host/%2Fetc/motd) or a double slash for an absolute one.

TLS: ftp:// uses AUTH TLS, for the login and the data connections,
whenever the server offers it, as lftp does (anonymous logins excepted).
Only where the server has no TLS does it go on in plain text, and then
it warns once, on a terminal, if the server is not on this machine.
--ssl-reqd refuses plain text: AUTH TLS is required, for anonymous
logins too. ftps:// is implicit TLS (port 990). The server's certificate
must verify against the system's authorities or --ca FILE (--insecure
skips the check); only AUTH TLS without --ssl-reqd to a server on this
machine (plumb serve's self-signed one, say) goes on unverified.

http:// and https:// follow redirects (up to 10), send the URL's, --user's
or ~/.netrc's credentials as HTTP Basic (asking for a missing password on
the terminal; never in plain text off this machine: use https://), and
fail on an HTTP error status. --continue asks for the rest with a Range.
--parallel N fetches a large file in N ranges at once and checks the
whole length, and the server's Repr-Digest or Digest (sha-256) when it
sends one. --recursive mirrors a directory listing (plumb's own HTML or
JSON, nginx's and Apache's autoindex, Python's http.server) into -o DIR,
keeping the files' modification times. --json prints the response's
status and headers as JSON on standard output.

A file is written as FILE.part and renamed to FILE once it is complete,
so a broken download never replaces a good copy; --continue resumes
FILE.part (or, without one, appends to FILE itself).

A progress bar is drawn on standard error when it is a terminal.
Exit status: 0 when the whole file arrived (or --continue found it
complete); 1 when nothing was transferred; 2 for bad arguments; 3 when
the transfer broke part-way, leaving FILE.part for --continue to
resume; 130 when interrupted.`,
		Example: `  plumb get ftp://localhost:10021/pub/notes.txt
  plumb get ftp://alice@localhost:10021/big.iso -o big.iso --continue
  plumb get ftps://localhost:10990/report.pdf --ca data/tls/cert.pem
  plumb get --ssl-reqd -k ftp://localhost:10021/dir/
  plumb get -o - ftp://localhost:10021/log.txt | grep ERROR
  plumb get http://localhost:10080/pub/big.iso --parallel 4
  plumb get -C -o big.iso https://localhost:10443/~alice/big.iso --ca data/tls/cert.pem
  plumb get --recursive -o mirror http://localhost:10080/pub/
  plumb get --json -o page.html -H "Accept-Language: fr" https://example.org/`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runGet(cmd.Context(), cmd, &f, args[0])
		},
	}
	f.register(cmd)
	cmd.Flags().StringVarP(&f.output, "output", "o", "", "write to `FILE` (- for standard output) instead of the URL's file name")
	cmd.Flags().IntVar(&f.parallel, "parallel", 0, "http(s)://: download a large file in `N` ranges at once")
	cmd.Flags().BoolVarP(&f.recursive, "recursive", "r", false, "http(s)://: mirror the directory listing at URL (and below) into -o DIR")
	return cmd
}

func runGet(ctx context.Context, cmd *cobra.Command, f *transferFlags, raw string) error {
	u, scheme, err := parseTransferURL(raw)
	if err != nil {
		return err
	}
	if f.recursive {
		rg, ok := scheme.(recursiveGetter)
		if !ok {
			return withExit(exitTransferUsage, fmt.Errorf("--recursive works with http:// and https:// URLs"))
		}
		dir := f.output
		if dir == "" {
			if dir = path.Base(strings.TrimSuffix(u.Path, "/")); dir == "/" || dir == "." {
				dir = u.Hostname()
			}
		}
		t := &transfer{url: u, flags: f, stdin: cmd.InOrStdin(), stderr: cmd.ErrOrStderr(), out: dir, stdout: cmd.OutOrStdout()}
		return transferResult(ctx, t, "get --recursive "+u.Redacted(), rg.getRecursive(ctx, t, dir))
	}
	out := f.output
	if out == "" {
		if strings.HasSuffix(u.Path, "/") || u.Path == "" {
			out = "-"
		} else {
			out = path.Base(u.Path)
		}
	}
	if out == "-" && f.resume {
		return withExit(exitTransferUsage, errors.New("--continue needs a file to append to: give -o FILE"))
	}
	// The bytes go to dest, FILE.part, until the file is complete.
	dest := out
	var offset int64
	if out != "-" {
		dest = out + ".part"
		if f.resume {
			if st, err := os.Stat(dest); err == nil {
				offset = st.Size()
			} else if st, err := os.Stat(out); err == nil {
				dest, offset = out, st.Size() // a file left by another tool: append to it
			}
		}
	}
	t := &transfer{url: u, flags: f, stdin: cmd.InOrStdin(), stderr: cmd.ErrOrStderr(), out: dest, stdout: cmd.OutOrStdout()}
	var file *os.File
	t.begin = func(total, off int64) (io.Writer, error) {
		var w io.Writer
		toTerminal := false
		if out == "-" {
			w = cmd.OutOrStdout()
			if of, ok := w.(*os.File); ok {
				toTerminal = term.IsTerminal(int(of.Fd()))
			}
		} else {
			flag := os.O_WRONLY | os.O_CREATE | os.O_TRUNC
			if off > 0 {
				flag = os.O_WRONLY | os.O_APPEND
			}
			var err error
			if file, err = os.OpenFile(dest, flag, 0o644); err != nil {
				return nil, withExit(exitTransferFailed, fmt.Errorf("%s: %w (check the directory, or choose another -o FILE)", dest, err))
			}
			w = file
		}
		bar := t.startBar(total, off, filepath.Base(out), toTerminal)
		return &moveCounter{w: io.MultiWriter(w, bar), t: t}, nil
	}
	err = scheme.get(ctx, t, offset)
	if file != nil {
		if cerr := file.Close(); err == nil && cerr != nil {
			err = cerr
		}
	}
	complete := errors.Is(err, errAlreadyComplete)
	if (err == nil || complete) && dest != out {
		if rerr := os.Rename(dest, out); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
			return withExit(exitTransferFailed, fmt.Errorf("%s: %w", out, rerr))
		}
	}
	if complete {
		fmt.Fprintf(t.stderr, "%s is already complete (%d bytes)\n", out, offset)
		return nil
	}
	return transferResult(ctx, t, "get "+u.Redacted(), err)
}

func newPutCmd() *cobra.Command {
	var f transferFlags
	cmd := &cobra.Command{
		Use:   "put FILE URL",
		Short: "Upload a file (or standard input) to a URL",
		Long: `put uploads FILE (- for standard input) to URL. A URL ending in /
names a directory: the file keeps its own name there.

Credentials and TLS work as for plumb get: ftp:// uses AUTH TLS when
the server offers it, and --ssl-reqd refuses plain text. With
--continue, put asks the server how many bytes it already has and
sends only the rest. After an upload put checks the size the server
reports where it can.

Exit status: 0 when the whole file was stored; 1 when nothing was
transferred; 2 for bad arguments; 3 when the upload broke part-way
(--continue resumes it); 130 when interrupted.`,
		Example: `  plumb put notes.txt ftp://alice@localhost:10021/
  plumb put big.iso ftp://localhost:10021/incoming/big.iso --continue
  tar c dir | plumb put - ftps://localhost:10990/dir.tar --ca data/tls/cert.pem
  plumb put notes.txt http://alice@localhost:10080/~alice/
  plumb put report.pdf https://alice@localhost:10443/dav/reports/ --ca data/tls/cert.pem`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runPut(cmd.Context(), cmd, &f, args[0], args[1])
		},
	}
	f.register(cmd)
	return cmd
}

func runPut(ctx context.Context, cmd *cobra.Command, f *transferFlags, local, raw string) error {
	u, scheme, err := parseTransferURL(raw)
	if err != nil {
		return err
	}
	var src io.ReadSeeker
	size := int64(-1)
	if local == "-" {
		if f.resume {
			return withExit(exitTransferUsage, errors.New("--continue needs a file to seek in, not standard input"))
		}
		src = readerOnly{cmd.InOrStdin()}
	} else {
		file, err := os.Open(local)
		if err != nil {
			return withExit(exitTransferFailed, fmt.Errorf("%w (check the file name)", err))
		}
		defer file.Close()
		st, err := file.Stat()
		if err != nil {
			return withExit(exitTransferFailed, err)
		}
		if st.IsDir() {
			return withExit(exitTransferUsage, fmt.Errorf("%s is a directory; put uploads one file", local))
		}
		src, size = file, st.Size()
	}
	if strings.HasSuffix(u.Path, "/") || u.Path == "" {
		if local == "-" {
			return withExit(exitTransferUsage, errors.New("uploading standard input: give the file name at the end of the URL"))
		}
		u.Path = strings.TrimSuffix(u.Path, "/") + "/" + filepath.Base(local)
		u.RawPath = ""
	}
	t := &transfer{url: u, flags: f, stdin: cmd.InOrStdin(), stderr: cmd.ErrOrStderr(), stdout: cmd.OutOrStdout()}
	t.begin = func(total, off int64) (io.Writer, error) {
		return &moveCounter{w: t.startBar(total, off, path.Base(u.Path), false), t: t}, nil
	}
	if local == "-" {
		t.stdin = eofReader{} // standard input is the data, not a password prompt
	}
	err = scheme.put(ctx, t, src, size)
	if errors.Is(err, errAlreadyComplete) {
		fmt.Fprintf(t.stderr, "%s is already complete on the server (%d bytes)\n", u.Redacted(), size)
		return nil
	}
	return transferResult(ctx, t, "put "+u.Redacted(), err)
}

// readerOnly is a reader that cannot seek: standard input.
type readerOnly struct{ io.Reader }

func (readerOnly) Seek(int64, int) (int64, error) {
	return 0, errors.New("standard input cannot seek")
}

type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }
