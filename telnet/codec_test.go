package telnet

import (
	"bytes"
	"fmt"
	"testing"
)

// parseAll parses in as pieces split at cut and returns the data and a
// printed list of the commands, in order (data between commands is
// marked by its position).
func parseAll(p *Parser, pieces ...[]byte) (data []byte, cmds []string) {
	for _, in := range pieces {
		p.Parse(in, func(t Token) {
			if t.Verb == 0 {
				data = append(data, t.Data...)
				return
			}
			cmds = append(cmds, fmt.Sprintf("@%d %s %v", len(data), cmdName(t), t.TooLong))
		})
	}
	return data, cmds
}

func TestParser(t *testing.T) {
	for _, tc := range []struct {
		in, data string
		cmds     []string
		crOnly   bool
	}{
		{in: "a\xff\xffb", data: "a\xffb"},
		{in: "a\r\x00b\r\nc", data: "a\rb\r\nc"},
		{in: "a\r\x00b\r\nc", data: "a\rb\rc", crOnly: true},
		{in: "x\xff\xfd\x01y", data: "xy", cmds: []string{"@1 DO ECHO false"}},
		{in: "\xff\xfa\x18\x00VT\xff\xff\xff\xf0z", data: "z", cmds: []string{"@0 SB TTYPE [0 86 84 255] false"}},
		{in: "\xff\xf4\xff\xf6", cmds: []string{"@0 IP false", "@0 AYT false"}},
		// An IAC other than IAC or SE inside SB ends the subnegotiation.
		{in: "\xff\xfa\x1f\x00\xff\xfb\x03", cmds: []string{"@0 SB NAWS [0] false", "@0 WILL SGA false"}},
		{in: "\r\xff\xf1", data: "\r", cmds: []string{"@1 NOP false"}},
	} {
		p := Parser{NewlineCR: tc.crOnly}
		data, cmds := parseAll(&p, []byte(tc.in))
		if string(data) != tc.data || fmt.Sprint(cmds) != fmt.Sprint(tc.cmds) {
			t.Errorf("Parse(%q) = %q %v, want %q %v", tc.in, data, cmds, tc.data, tc.cmds)
		}
	}
}

func TestParserSubLimit(t *testing.T) {
	p := Parser{MaxSubnegotiation: 4}
	_, cmds := parseAll(&p, AppendSub(nil, TerminalType, []byte("0123456789")), []byte("ok"))
	if fmt.Sprint(cmds) != "[@0 SB TTYPE [48 49 50 51] true]" {
		t.Fatalf("overlong SB = %v, want its first 4 bytes marked TooLong", cmds)
	}
}

func TestAppendData(t *testing.T) {
	got := AppendData(nil, []byte("a\xff\r\nb\rc\r"))
	if want := "a\xff\xff\r\nb\r\x00c\r\x00"; string(got) != want {
		t.Fatalf("AppendData = %q, want %q", got, want)
	}
}

// FuzzParser checks that the parser's output does not depend on how the
// stream is cut into reads, that subnegotiations stay within the limit,
// and that data encoded by AppendData (and a subnegotiation by
// AppendSub) decodes to itself.
func FuzzParser(f *testing.F) {
	f.Add([]byte("\xff\xfd\x01hello\r\n\xff\xfa\x18\x00XTERM\xff\xf0"), 3)
	f.Add([]byte("\r\r\x00\xff\xff\r"), 1)
	f.Add([]byte("\xff\xfa\x1f\xff"), 2)
	f.Fuzz(func(t *testing.T, in []byte, cut int) {
		for _, crOnly := range []bool{false, true} {
			whole := Parser{MaxSubnegotiation: 16, NewlineCR: crOnly}
			d1, c1 := parseAll(&whole, in)
			cut := min(max(cut, 0), len(in))
			split := Parser{MaxSubnegotiation: 16, NewlineCR: crOnly}
			d2, c2 := parseAll(&split, in[:cut], in[cut:])
			if !bytes.Equal(d1, d2) || fmt.Sprint(c1) != fmt.Sprint(c2) {
				t.Fatalf("Parse(%q) whole = %q %v; cut at %d = %q %v", in, d1, c1, cut, d2, c2)
			}
		}
		p := Parser{MaxSubnegotiation: 16}
		p.Parse(in, func(tok Token) {
			if len(tok.Sub) > 16 {
				t.Fatalf("subnegotiation of %d bytes kept, limit 16", len(tok.Sub))
			}
		})
		var rt Parser
		if d, c := parseAll(&rt, AppendData(nil, in)); !bytes.Equal(d, in) || len(c) != 0 {
			t.Fatalf("Parse(AppendData(%q)) = %q %v", in, d, c)
		}
		var sp Parser
		sp.MaxSubnegotiation = len(in) + 1
		var got []byte
		n := 0
		sp.Parse(AppendSub(nil, NAWS, in), func(tok Token) { got = append(got, tok.Sub...); n++ })
		if n != 1 || !bytes.Equal(got, in) {
			t.Fatalf("AppendSub(%q) parsed as %d tokens, %q", in, n, got)
		}
	})
}

func TestEnvironRoundTrip(t *testing.T) {
	vars := []EnvVar{{Name: "LANG", Value: "C"}, {Name: "X\x00\x02Y", Value: "\x01\x03", User: true}, {Name: "GONE", Undefined: true}}
	verb, got, err := parseEnviron(environParams(subIS, vars))
	if err != nil || verb != subIS || fmt.Sprint(got) != fmt.Sprint(vars) {
		t.Fatalf("parseEnviron(environParams(%v)) = %d %v %v", vars, verb, got, err)
	}
	for _, bad := range []string{"", "\x01", "\x00x", "\x00\x01v", "\x00\x00a\x01b\x01c", "\x00\x00a\x02",
		"\x00\x02\x00\x00X", // an ESC before any VAR once carried into the next name
	} {
		if _, _, err := parseEnviron([]byte(bad)); err == nil {
			t.Errorf("parseEnviron(%q) = nil error, want one", bad)
		}
	}
}

func TestEnvName(t *testing.T) {
	for name, want := range map[string]bool{"LANG": true, "_x1": true, "LC_ALL": true,
		"": false, "1A": false, "A=B": false, "A\x00": false, "LC_\x01X": false, "A-B": false, "Ä": false} {
		if got := envName(name); got != want {
			t.Errorf("envName(%q) = %v, want %v", name, got, want)
		}
	}
}

// FuzzEnviron: what parses prints and parses back the same.
func FuzzEnviron(f *testing.F) {
	f.Add([]byte("\x00\x00LANG\x01C\x03X\x02\x01\x01y"))
	f.Fuzz(func(t *testing.T, in []byte) {
		verb, vars, err := parseEnviron(in)
		if err != nil {
			return
		}
		v2, vars2, err := parseEnviron(environParams(verb, vars))
		if err != nil || v2 != verb || fmt.Sprint(vars) != fmt.Sprint(vars2) {
			t.Fatalf("parseEnviron(%q) = %v; printed and parsed again = %v, %v", in, vars, vars2, err)
		}
	})
}
