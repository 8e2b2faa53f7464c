package ftp

import (
	"crypto/tls"
	"errors"
	"strings"

	"github.com/plumbnet/plumb/internal/lifecycle"
)

// isAnonymous reports whether user names the anonymous account.
func isAnonymous(user string) bool {
	u := strings.ToLower(user)
	return u == "anonymous" || u == "ftp"
}

// tlsNeeded reports whether the policy refuses a login in the clear
// from this client.
func (s *session) tlsNeeded() bool {
	if s.tls {
		return false
	}
	switch s.srv.LoginTLS {
	case TLSOptional:
		return false
	case TLSRequired:
		return true
	default:
		return !s.remote.IsLoopback()
	}
}

func (s *session) cmdUSER(arg string) bool {
	if s.loggedIn {
		s.logout() // RFC 959: USER may change the user at any time
	}
	if !isAnonymous(arg) && s.tlsNeeded() {
		s.user = ""
		s.reply(530, "TLS is required to log in: use AUTH TLS first")
		return false
	}
	s.user = arg
	if isAnonymous(arg) {
		s.reply(331, "Anonymous login ok, send your e-mail address as password")
	} else {
		s.reply(331, "Password required")
	}
	return false
}

func (s *session) cmdPASS(arg string) bool {
	if s.loggedIn {
		s.reply(230, "Already logged in")
		return false
	}
	if s.user == "" {
		s.reply(503, "Login with USER first")
		return false
	}
	user := s.user
	s.user = ""
	srv := s.srv
	info := ConnInfo{RemoteAddr: s.raw.RemoteAddr(), LocalAddr: s.raw.LocalAddr()}
	if tc, ok := s.conn.(*tls.Conn); ok && s.tls {
		cs := tc.ConnectionState()
		info.TLS = &cs
	}
	fsys, err := srv.Backend.Login(s.ctx, info, user, arg)
	if err != nil || fsys == nil {
		s.failures++
		s.log.Info("login failed", "user", user, "failures", s.failures, "err", err)
		if fe := (*Error)(nil); errors.As(err, &fe) && fe.Code >= 400 && fe.Code < 600 {
			s.reply(fe.Code, fe.Msg) // the backend chose the reply
		} else {
			s.reply(530, "Login incorrect")
		}
		if s.failures >= lifecycle.OrDefault(srv.MaxLoginFailures, DefaultMaxLoginFailures) {
			s.reply(421, "Too many failed logins; closing control connection")
			return true
		}
		return false
	}
	s.fs, s.loggedIn, s.anonymous, s.cwd = fsys, true, isAnonymous(user), "/"
	s.log = s.log.With("user", user)
	s.log.Info("logged in", "tls", s.tls)
	s.reply(230, "Login successful")
	return false
}

func (s *session) cmdACCT(arg string) bool {
	s.reply(202, "ACCT not needed")
	return false
}

func (s *session) cmdHOST(arg string) bool {
	if s.loggedIn || s.user != "" {
		s.reply(503, "HOST must come before USER")
		return false
	}
	s.hostSent = true
	s.reply(220, "Host accepted")
	return false
}

func (s *session) cmdAUTH(arg string) bool {
	switch strings.ToUpper(arg) {
	case "TLS", "TLS-C", "SSL", "TLS-P":
	default:
		s.reply(504, "Unknown AUTH type; use AUTH TLS")
		return false
	}
	if s.srv.TLSConfig == nil {
		s.reply(502, "TLS is not configured on this server")
		return false
	}
	if s.tls {
		s.reply(503, "Already using TLS")
		return false
	}
	if s.loggedIn {
		s.reply(503, "AUTH must come before login")
		return false
	}
	if s.lr.Buffered() > 0 {
		// Commands sent in the clear after AUTH could be taken for ones
		// sent under TLS; a client that does this is not one to trust.
		s.log.Warn("data pipelined after AUTH TLS; closing")
		return true
	}
	s.reply(234, "AUTH TLS successful")
	if err := s.handshake(tls.Server(s.raw, s.srv.baseTLS())); err != nil {
		s.log.Info("TLS handshake failed", "err", err)
		return true
	}
	s.br.Reset(s.conn) // nothing sent in the clear before the handshake survives
	s.user = ""
	return false
}

func (s *session) cmdPBSZ(arg string) bool {
	if !s.tls {
		s.reply(503, "PBSZ needs a TLS connection; use AUTH TLS first")
		return false
	}
	s.pbsz = true
	s.reply(200, "PBSZ=0")
	return false
}

func (s *session) cmdPROT(arg string) bool {
	if !s.tls {
		s.reply(503, "PROT needs a TLS connection; use AUTH TLS first")
		return false
	}
	if !s.pbsz {
		s.reply(503, "PROT needs PBSZ first")
		return false
	}
	switch strings.ToUpper(arg) {
	case "C":
		s.protP = false
		s.reply(200, "Protection level set to Clear")
	case "P":
		s.protP = true
		s.reply(200, "Protection level set to Private")
	case "S", "E":
		s.reply(536, "Protection level not supported")
	default:
		s.reply(504, "Unknown protection level")
	}
	return false
}

func (s *session) cmdCCC(arg string) bool {
	s.reply(534, "CCC refused: the control connection stays encrypted")
	return false
}

func (s *session) cmdQUIT(arg string) bool {
	s.reply(221, "Goodbye")
	return true
}

func (s *session) cmdSYST(arg string) bool {
	s.reply(215, "UNIX Type: L8")
	return false
}

func (s *session) cmdNOOP(arg string) bool {
	s.reply(200, "NOOP ok")
	return false
}

func (s *session) cmdHELP(arg string) bool {
	if arg != "" {
		if c := commands[strings.ToUpper(arg)]; c != nil {
			s.reply(214, "Syntax: "+c.help)
		} else {
			s.reply(502, "Unknown command")
		}
		return false
	}
	s.replyLines(214, "The following commands are recognized:", helpText(), "Help OK")
	return false
}

func (s *session) cmdFEAT(arg string) bool {
	feats := []string{"EPRT", "EPSV", "HOST", "MDTM", "MFMT", "MLST " + mlstFeature(s.mlstFacts),
		"REST STREAM", "SIZE", "TVFS", "UTF8"}
	if s.srv.TLSConfig != nil {
		feats = append([]string{"AUTH TLS", "PBSZ", "PROT"}, feats...)
	}
	s.replyLines(211, "Features:", feats, "End")
	return false
}

func (s *session) cmdOPTS(arg string) bool {
	name, val, _ := strings.Cut(arg, " ")
	switch strings.ToUpper(name) {
	case "UTF8", "UTF-8":
		switch strings.ToUpper(strings.TrimSpace(val)) {
		case "ON", "":
			s.reply(200, "UTF8 mode on")
		default:
			s.reply(504, "UTF8 cannot be turned off: names are sent as stored")
		}
	case "MLST":
		s.mlstFacts = selectMLSTFacts(val)
		s.reply(200, "MLST OPTS "+s.mlstFacts)
	default:
		s.reply(501, "Unknown option")
	}
	return false
}
