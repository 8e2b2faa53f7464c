package httpfs

import (
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
		Logger: nil,
		Stderr: os.Stderr,
	}
	h.ServeHTTP(w, r)
}
