package httpfs

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/cgi"
	"os"
	"path/filepath"
	"strings"
)

// cgiDir runs the scripts of one directory (net/http/cgi): the first
// path element after /cgi-bin/ names the script, the rest is its
// PATH_INFO. Only regular, executable files directly in the directory
// run; os.Root keeps a symbolic link from leading out of it.
type cgiDir struct{ dir string }

// cgiHidden are the request headers a script never sees: the
// account's password (Basic credentials) and a proxy's. Cookies do
// go through: plumb sets none, and a script's own session needs them.
var cgiHidden = []string{"Authorization", "Proxy-Authorization"}

// cgiStderrMax bounds one logged line of a script's standard error.
const cgiStderrMax = 4 << 10

func (s *Server) serveCGI(w http.ResponseWriter, r *http.Request, rest string) {
	name, _, _ := strings.Cut(rest, "/")
	if name == "" || strings.HasPrefix(name, ".") {
		http.NotFound(w, r)
		return
	}
	root, err := os.OpenRoot(s.cgi.dir)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	fi, err := root.Stat(name)
	root.Close()
	if err != nil || !fi.Mode().IsRegular() || fi.Mode()&0o111 == 0 {
		http.NotFound(w, r)
		return
	}
	h := &cgi.Handler{
		Path:   filepath.Join(s.cgi.dir, name),
		Root:   "/cgi-bin/" + name,
		Dir:    s.cgi.dir,
		Env:    []string{"SERVER_SOFTWARE=plumb"},
		Logger: slog.NewLogLogger(s.Logger.Handler(), slog.LevelWarn),
		Stderr: cgiStderr{log: s.Logger, script: name},
	}
	r = r.Clone(r.Context())
	for _, k := range cgiHidden {
		r.Header.Del(k)
	}
	h.ServeHTTP(w, r)
}

// cgiStderr logs what a script writes on standard error, a record a
// line (of at most cgiStderrMax bytes).
type cgiStderr struct {
	log    *slog.Logger
	script string
}

func (e cgiStderr) Write(p []byte) (int, error) {
	for _, line := range bytes.Split(bytes.TrimRight(p, "\n"), []byte("\n")) {
		if len(line) > cgiStderrMax {
			line = line[:cgiStderrMax]
		}
		e.log.Warn("http: cgi stderr", "script", e.script, "text", string(line))
	}
	return len(p), nil
}
