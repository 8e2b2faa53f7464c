package cli

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/plumbnet/plumb/finger"
	"github.com/plumbnet/plumb/xmlrpc"
)

func init() { addCommand(newXMLRPCCmd) }

// Exit statuses of plumb xmlrpc.
const (
	exitXMLRPCFault = 1 // the server answered with a fault
	exitXMLRPCError = 3 // no answer: connection, HTTP status, a malformed response
)

type xmlrpcFlags struct {
	user         string
	netrcFile    string
	insecure     bool
	caFile       string
	insecureAuth bool
	timeout      time.Duration
	compact      bool
}

func newXMLRPCCmd() *cobra.Command {
	f := &xmlrpcFlags{}
	cmd := &cobra.Command{
		Use:   "xmlrpc [FLAGS] URL METHOD [ARG...]",
		Short: "Call an XML-RPC method and print the result as JSON",
		Long: `xmlrpc calls METHOD on the XML-RPC server at URL (http:// or https://)
and prints the result as JSON on standard output. Flags come before
URL, so that arguments like -5 are arguments. A fault is printed on
standard error as "METHOD: fault CODE: TEXT" and the exit status is 1;
a call that got no XML-RPC answer exits with 3, bad arguments with 2.

Each ARG is typed by its form:
  42, -7            int                 3.25, 1e-3      double
  true, false       boolean             nil             nil (the extension)
  [1,"a"], {"k":1}  array, struct (JSON: null is nil, 5 is int, 5.0 and 5e0 double)
  anything else     string
or explicitly, TYPE:VALUE, for what the form would take for another type:
  int:5  i8:5000000000  double:5  boolean:1  string:42  string:nil
  base64:SGVsbG8=  date:2026-12-01T10:30:00 (or 20261201T10:30:00)
  json:"quoted"
In the JSON printed, base64 is a base64 string and a date is RFC 3339.

HTTP Basic credentials come from the URL (https://USER:PASSWORD@host/),
--user, the netrc file, or a prompt when only the user name is known;
a password is not sent over plain http:// to a host that is not
loopback unless --insecure-auth.`,
		Example: `  plumb xmlrpc http://localhost:8000/RPC2 system.listMethods
  plumb xmlrpc http://localhost:8000/RPC2 math.add 2 3
  plumb xmlrpc http://localhost:8000/RPC2 store.put string:007 '{"tags":["a","b"],"size":3}' base64:AAEC
  plumb xmlrpc --ca ca.pem https://root@localhost:10443/RPC2 plumb.status`,
		Args: cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runXMLRPC(cmd, f, args[0], args[1], args[2:])
		},
	}
	fl := cmd.Flags()
	fl.SetInterspersed(false)
	fl.StringVarP(&f.user, "user", "u", "", "authenticate as `USER[:PASSWORD]` (HTTP Basic)")
	fl.StringVar(&f.netrcFile, "netrc-file", "", "read credentials from `FILE` instead of $NETRC or ~/.netrc")
	fl.BoolVarP(&f.insecure, "insecure", "k", false, "accept any TLS certificate (testing only)")
	fl.StringVar(&f.caFile, "ca", "", "trust the PEM certificates in `FILE` instead of the system's")
	fl.BoolVar(&f.insecureAuth, "insecure-auth", false, "send a password over plain http:// to a host that is not loopback")
	fl.DurationVar(&f.timeout, "timeout", 60*time.Second, "give up on the call after this long")
	fl.BoolVar(&f.compact, "compact", false, "print the JSON on one line")
	return cmd
}

func runXMLRPC(cmd *cobra.Command, f *xmlrpcFlags, rawURL, method string, rawArgs []string) error {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return withExit(2, fmt.Errorf("URL %q: want http://HOST[:PORT]/PATH or https://…", rawURL))
	}
	args := make([]any, len(rawArgs))
	for i, a := range rawArgs {
		if args[i], err = parseXMLRPCArg(a); err != nil {
			return withExit(2, fmt.Errorf("argument %d %q: %w", i+1, a, err))
		}
	}
	if err := xmlrpcLogin(cmd, f, u); err != nil {
		return err
	}
	tlsCfg, err := tlsClientConfig(u.Hostname(), f.insecure, f.caFile)
	if err != nil {
		return err
	}
	c := &xmlrpc.Client{
		URL:          u.String(),
		InsecureAuth: f.insecureAuth,
		HTTPClient: &http.Client{Timeout: f.timeout,
			Transport: &http.Transport{Proxy: http.ProxyFromEnvironment, TLSClientConfig: tlsCfg, ForceAttemptHTTP2: true}},
	}
	var result any
	err = c.Call(cmd.Context(), method, &result, args...)
	var fault *xmlrpc.Fault
	switch {
	case errors.As(err, &fault):
		// The server chose the text: it must not drive the terminal.
		return withExit(exitXMLRPCFault, fmt.Errorf("%s: fault %d: %s", method, fault.Code, finger.Harmless([]byte(fault.String))))
	case errors.Is(err, xmlrpc.ErrBadArgument):
		return withExit(2, err)
	case errors.Is(err, xmlrpc.ErrPlaintext):
		return withExit(2, fmt.Errorf("%w (use https://, or --insecure-auth)", err))
	case err != nil:
		return withExit(exitXMLRPCError, err)
	}
	return printXMLRPCResult(cmd.OutOrStdout(), result, f.compact)
}

// xmlrpcLogin puts the credentials of --user, the URL, the netrc file
// or the prompt into u's user information, where xmlrpc.Client finds them.
func xmlrpcLogin(cmd *cobra.Command, f *xmlrpcFlags, u *url.URL) error {
	if f.user != "" {
		name, pass, ok := strings.Cut(f.user, ":")
		if ok {
			u.User = url.UserPassword(name, pass)
		} else {
			u.User = url.User(name)
		}
	}
	user, pass, havePass, err := urlLogin(u, f.netrcFile)
	if err != nil {
		return err
	}
	if user == "" {
		u.User = nil
		return nil
	}
	if !havePass {
		if pass, err = askPassword(cmd.InOrStdin(), cmd.ErrOrStderr(), user, u.Hostname(), "the URL, --user or the netrc file"); err != nil {
			return err
		}
	}
	u.User = url.UserPassword(user, pass)
	return nil
}

// parseXMLRPCArg types one command-line argument (see the command's help).
func parseXMLRPCArg(s string) (any, error) {
	if kind, v, ok := strings.Cut(s, ":"); ok {
		switch kind {
		case "int", "i4", "i8":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("%q is not an integer", v)
			}
			return int(n), nil
		case "double", "float":
			x, err := strconv.ParseFloat(v, 64)
			if err != nil || math.IsInf(x, 0) || math.IsNaN(x) {
				return nil, fmt.Errorf("%q is not a finite number", v)
			}
			return x, nil
		case "bool", "boolean":
			switch v {
			case "true", "1":
				return true, nil
			case "false", "0":
				return false, nil
			}
			return nil, fmt.Errorf("%q is not true, false, 1 or 0", v)
		case "string", "str":
			return v, nil
		case "base64":
			b, err := base64.StdEncoding.DecodeString(v)
			if err != nil {
				return nil, fmt.Errorf("bad base64: %w", err)
			}
			return b, nil
		case "date", "dateTime", "dateTime.iso8601":
			for _, l := range []string{time.RFC3339, "2006-01-02T15:04:05", "20060102T15:04:05", "2006-01-02"} {
				if t, err := time.Parse(l, v); err == nil {
					return t, nil
				}
			}
			return nil, fmt.Errorf("%q is not a date like 2026-12-01T10:30:00", v)
		case "json":
			return parseXMLRPCJSON(v)
		}
	}
	switch s {
	case "nil":
		return nil, nil
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return int(n), nil
	}
	if x, err := strconv.ParseFloat(s, 64); err == nil && !math.IsInf(x, 0) && !math.IsNaN(x) && strings.ContainsAny(s, "0123456789") {
		return x, nil
	}
	if strings.HasPrefix(s, "[") || strings.HasPrefix(s, "{") {
		v, err := parseXMLRPCJSON(s)
		if err != nil {
			return nil, fmt.Errorf("%w (for a string, write string:%s)", err, s)
		}
		return v, nil
	}
	return s, nil
}

func parseXMLRPCJSON(s string) (any, error) {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("not JSON: %w", err)
	}
	if dec.More() {
		return nil, errors.New("not JSON: more after the value")
	}
	return fromJSON(v), nil
}

// fromJSON turns JSON numbers into ints where they are whole, and
// doubles otherwise.
func fromJSON(v any) any {
	switch v := v.(type) {
	case json.Number:
		if n, err := v.Int64(); err == nil {
			return int(n)
		}
		f, _ := v.Float64()
		return f
	case []any:
		for i := range v {
			v[i] = fromJSON(v[i])
		}
	case map[string]any:
		for k := range v {
			v[k] = fromJSON(v[k])
		}
	}
	return v
}

func printXMLRPCResult(w io.Writer, v any, compact bool) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if !compact {
		enc.SetIndent("", "  ")
	}
	if err := enc.Encode(v); err != nil {
		return err
	}
	_, err := w.Write(buf.Bytes())
	return err
}
