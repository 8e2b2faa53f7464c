package ftp

import (
	"bytes"
	"crypto/sha256"
	"crypto/tls"
)

// sessionMarkPrefix starts the mark a control connection's session
// tickets carry (SessionState.Extra), so that a data connection can be
// checked to resume that connection's session and no other.
const sessionMarkPrefix = "plumb-ftp-session:"

// sessionMark is the mark of the TLS connection whose state cs is: a
// hash of its channel binding, which only its two ends know. TLS 1.3
// binds with an exporter (RFC 8446 7.5); TLS 1.2 with tls-unique (RFC
// 5929), which a resumed TLS 1.2 connection does not have when its
// tickets are issued, so those carry no mark. nil: no mark.
func sessionMark(cs tls.ConnectionState) []byte {
	var binding []byte
	if cs.Version >= tls.VersionTLS13 {
		b, err := cs.ExportKeyingMaterial("EXPORTER-plumb-ftp-control-session", nil, 32)
		if err != nil {
			return nil
		}
		binding = b
	} else {
		if len(cs.TLSUnique) == 0 || bytes.Count(cs.TLSUnique, []byte{0}) == len(cs.TLSUnique) {
			return nil
		}
		binding = cs.TLSUnique
	}
	h := sha256.Sum256(binding)
	return append([]byte(sessionMarkPrefix), h[:16]...)
}

// dataTLS is the config of one PROT P data connection of the session
// whose control connection's mark is mark: it resumes only a ticket
// with that mark (issued to the control connection, or to an earlier
// data connection of it, whose tickets carry the same mark), and sets
// *matched when it does.
func (s *session) dataTLS(mark []byte, matched *bool) *tls.Config {
	base := s.srv.baseTLS()
	c := base.Clone()
	c.WrapSession = func(cs tls.ConnectionState, ss *tls.SessionState) ([]byte, error) {
		if mark != nil {
			ss.Extra = append(ss.Extra, mark)
		}
		return base.EncryptTicket(cs, ss)
	}
	c.UnwrapSession = func(id []byte, cs tls.ConnectionState) (*tls.SessionState, error) {
		ss, err := base.DecryptTicket(id, cs)
		if err != nil || ss == nil || mark == nil {
			return nil, nil // a full handshake instead
		}
		for _, e := range ss.Extra {
			if bytes.Equal(e, mark) {
				*matched = true
				return ss, nil
			}
		}
		return nil, nil
	}
	return c
}
