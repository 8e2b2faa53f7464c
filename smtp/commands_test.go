package smtp

import (
	"slices"
	"strings"
	"testing"

	"github.com/plumbnet/plumb/internal/testkit"
)

// TestHelpFromTable: HELP lists exactly the verbs the table offers this
// connection, and HELP verb gives each one's syntax.
func TestHelpFromTable(t *testing.T) {
	serverTLS, _ := testkit.TLS(t)
	for _, tt := range []struct {
		name      string
		srv       *Server
		want, not []string
	}{
		{"plain", &Server{Backend: &MemoryBackend{}},
			[]string{"EHLO", "HELO", "MAIL", "RCPT", "DATA", "BDAT", "RSET", "NOOP", "VRFY", "HELP", "QUIT"}, []string{"STARTTLS", "AUTH", "EXPN"}},
		{"tls+auth, no chunking", &Server{Backend: &MemoryBackend{Users: map[string]string{"a": "b"}}, TLSConfig: serverTLS, DisableChunking: true},
			[]string{"STARTTLS", "AUTH", "MAIL"}, []string{"BDAT", "EXPN"}},
	} {
		s := dialSession(t, startServer(t, tt.srv))
		help := s.cmd("HELP", "214 ")
		first, _, _ := strings.Cut(help, "\n")
		verbs := strings.Fields(strings.TrimPrefix(first, "214-2.0.0 Commands:"))
		for _, v := range tt.want {
			if !slices.Contains(verbs, v) {
				t.Errorf("%s: HELP = %q, lacks %s", tt.name, help, v)
			}
			if r := s.cmd("HELP "+strings.ToLower(v), "214 2.0.0 "); !strings.Contains(r, v) {
				t.Errorf("%s: HELP %s = %q, want its syntax", tt.name, v, r)
			}
		}
		for _, v := range tt.not {
			if slices.Contains(verbs, v) {
				t.Errorf("%s: HELP = %q, lists %s", tt.name, help, v)
			}
			s.cmd("HELP "+v, "504 ")
			s.cmd(v, "502 5.5.1")
		}
	}
}

// TestTableGating: the table's requirements answer before a handler runs.
func TestTableGating(t *testing.T) {
	serverTLS, _ := testkit.TLS(t)
	be := &MemoryBackend{Users: map[string]string{"alice": "s3cret"}}
	addr := startServerOn(t, &Server{Backend: be, TLSConfig: serverTLS, TLSRequired: true, AuthRequired: true}, fromAfar)
	s := dialSession(t, addr)
	s.cmd("MAIL FROM:<a@b.c>", "503 5.5.1 Send EHLO")
	s.cmd("EHLO client.test", "250 ")
	s.cmd("MAIL FROM:<a@b.c>", "530 5.7.0 Must issue a STARTTLS")

	s = dialSession(t, startServer(t, &Server{Backend: be, AuthRequired: true}))
	s.cmd("EHLO client.test", "250 ")
	s.cmd("MAIL FROM:<a@b.c>", "530 5.7.0 Authentication required")
}
