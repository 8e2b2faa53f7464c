package telnet

import (
	"encoding/binary"
	"errors"
	"strings"
)

// Subnegotiation codes shared by TTYPE (RFC 1091) and NEW-ENVIRON (RFC 1572).
const (
	subIS   = 0
	subSEND = 1
	subINFO = 2
)

// NEW-ENVIRON type codes (RFC 1572 section 2).
const (
	envVAR     = 0
	envVALUE   = 1
	envESC     = 2
	envUSERVAR = 3
)

// maxTermType bounds a terminal type name (RFC 1091 allows 40).
const maxTermType = 40

var errBadSub = errors.New("telnet: malformed subnegotiation")

// ttypeSend is the server's request for the terminal type.
var ttypeSend = []byte{subSEND}

// parseTermType reads IS name from a TTYPE subnegotiation and returns
// the name lowercased, as TERM spells it. Names are letters, digits,
// '-', '+', '.', '_', '/' and ':' only (RFC 1091 and what terminfo uses).
func parseTermType(sub []byte) (string, error) {
	if len(sub) < 2 || sub[0] != subIS || len(sub)-1 > maxTermType {
		return "", errBadSub
	}
	name := string(sub[1:])
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("-+._/:", c)) {
			return "", errBadSub
		}
	}
	return strings.ToLower(name), nil
}

// termTypeIs is a client's answer to TTYPE SEND.
func termTypeIs(name string) []byte { return append([]byte{subIS}, strings.ToUpper(name)...) }

// parseNAWS reads a window size (RFC 1073): width and height, 16 bits
// each, big-endian; 0 means unknown.
func parseNAWS(sub []byte) (cols, rows int, err error) {
	if len(sub) != 4 {
		return 0, 0, errBadSub
	}
	return int(binary.BigEndian.Uint16(sub)), int(binary.BigEndian.Uint16(sub[2:])), nil
}

// nawsParams encodes a window size for a NAWS subnegotiation.
func nawsParams(cols, rows int) []byte {
	clamp := func(v int) uint16 { return uint16(min(max(v, 0), 0xffff)) }
	b := binary.BigEndian.AppendUint16(nil, clamp(cols))
	return binary.BigEndian.AppendUint16(b, clamp(rows))
}

// An EnvVar is one variable of a NEW-ENVIRON IS or INFO (RFC 1572).
type EnvVar struct {
	Name, Value string
	User        bool // USERVAR rather than a well-known VAR
	Undefined   bool // sent without a VALUE: the variable is not set
}

// parseEnviron reads NEW-ENVIRON IS/INFO: the verb, then VAR/USERVAR
// name [VALUE value] ..., with ESC quoting the next byte.
func parseEnviron(sub []byte) (verb byte, vars []EnvVar, err error) {
	if len(sub) == 0 || sub[0] != subIS && sub[0] != subINFO {
		return 0, nil, errBadSub
	}
	verb = sub[0]
	var cur *EnvVar
	var buf []byte
	inValue := false
	end := func() {
		if cur == nil {
			return
		}
		if inValue {
			cur.Value = string(buf)
		} else {
			cur.Name, cur.Undefined = string(buf), true
		}
		vars = append(vars, *cur)
		cur, buf = nil, nil
	}
	for i := 1; i < len(sub); i++ {
		switch b := sub[i]; b {
		case envVAR, envUSERVAR:
			end()
			cur, inValue = &EnvVar{User: b == envUSERVAR}, false
		case envVALUE:
			if cur == nil || inValue {
				return 0, nil, errBadSub
			}
			cur.Name, buf, inValue = string(buf), nil, true
		case envESC:
			if cur == nil || i+1 == len(sub) {
				return 0, nil, errBadSub
			}
			i++
			buf = append(buf, sub[i])
		default:
			if cur == nil {
				return 0, nil, errBadSub
			}
			buf = append(buf, b)
		}
	}
	end()
	return verb, vars, nil
}

// envName reports whether name is fit for an environment: a letter or
// underscore, then letters, digits and underscores (no '=', NUL or
// control bytes, which exec would refuse or a shell misread).
func envName(name string) bool {
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c == '_', 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z':
		case '0' <= c && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return name != ""
}

// environParams encodes NEW-ENVIRON verb (IS or INFO) with vars.
func environParams(verb byte, vars []EnvVar) []byte {
	b := []byte{verb}
	quote := func(s string) {
		for i := 0; i < len(s); i++ {
			if c := s[i]; c <= envUSERVAR {
				b = append(b, envESC)
			}
			b = append(b, s[i])
		}
	}
	for _, v := range vars {
		t := byte(envVAR)
		if v.User {
			t = envUSERVAR
		}
		b = append(b, t)
		quote(v.Name)
		if !v.Undefined {
			b = append(b, envVALUE)
			quote(v.Value)
		}
	}
	return b
}

// environSend is the server's request for every variable the client
// will give: SEND with no list (RFC 1572 section 3).
var environSend = []byte{subSEND}
