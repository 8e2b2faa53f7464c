package wire

import (
	"errors"
	"strings"
	"testing"
)

func TestDecoderIMAPLogin(t *testing.T) {
	dec := NewDecoder(`A001 LOGIN "al\"ice" {6+}`)
	var tag, verb, user string
	var size int64
	var nonSync bool
	if !dec.ExpectAtom(&tag) || !dec.ExpectSP() || !dec.ExpectAtom(&verb) || !dec.ExpectSP() ||
		!dec.ExpectQuoted(&user) || !dec.ExpectSP() || !dec.Literal(&size, &nonSync) || !dec.End() {
		t.Fatalf("decoding a LOGIN line: %v", dec.Err())
	}
	if tag != "A001" || verb != "LOGIN" || user != `al"ice` || size != 6 || !nonSync {
		t.Errorf("LOGIN line = %q %q %q {%d %v}", tag, verb, user, size, nonSync)
	}
	// The literal's bytes are read by the caller; the line goes on.
	dec.Continue(" 12")
	var n uint64
	if !dec.ExpectSP() || !dec.ExpectNumber(&n) || !dec.End() || n != 12 {
		t.Errorf("after Continue: %d, %v; want 12", n, dec.Err())
	}
}

func TestDecoderNNTP(t *testing.T) {
	dec := NewDecoder("group comp.lang.go")
	var group string
	if !dec.Expect("GROUP") || !dec.ExpectSP() || !dec.ExpectWord(&group) || !dec.End() {
		t.Fatalf("decoding GROUP: %v", dec.Err())
	}
	if group != "comp.lang.go" {
		t.Errorf("group = %q, want comp.lang.go", group)
	}
}

func TestDecoderErrorsAreSticky(t *testing.T) {
	dec := NewDecoder("A1  NOOP")
	var tag, verb string
	if !dec.ExpectAtom(&tag) || !dec.ExpectSP() {
		t.Fatal(dec.Err())
	}
	if dec.ExpectAtom(&verb) {
		t.Fatalf("ExpectAtom on a second SP = true, %q", verb)
	}
	err := dec.Err()
	if !errors.Is(err, ErrSyntax) || !strings.Contains(err.Error(), "column 4") {
		t.Errorf("Err() = %v, want a syntax error at column 4", err)
	}
	if dec.SP() || dec.ExpectSP() || dec.End() || dec.Err() != err {
		t.Errorf("calls after an error succeeded or changed it: %v", dec.Err())
	}
}

func TestDecoderOptionalForms(t *testing.T) {
	dec := NewDecoder("x")
	var s string
	var n uint64
	var size int64
	var plus bool
	if dec.SP() || dec.Number(&n) || dec.Quoted(&s) || dec.Literal(&size, &plus) || dec.Err() != nil {
		t.Errorf("optional forms on %q: matched or failed: %v", "x", dec.Err())
	}
	if !dec.Atom(&s) || s != "x" || !dec.End() {
		t.Errorf("Atom(%q) = %q, %v", "x", s, dec.Err())
	}
}

func TestDecoderFailures(t *testing.T) {
	var s string
	var n uint64
	var size int64
	var plus bool
	for line, step := range map[string]func(d *Decoder) bool{
		`"abc`:                  func(d *Decoder) bool { return d.Quoted(&s) },
		`"a\b"`:                 func(d *Decoder) bool { return d.Quoted(&s) },
		"\"a\x00\"":             func(d *Decoder) bool { return d.Quoted(&s) },
		"99999999999999999999":  func(d *Decoder) bool { return d.Number(&n) },
		"{5} x":                 func(d *Decoder) bool { return d.Literal(&size, &plus) },
		"{x}":                   func(d *Decoder) bool { return d.Literal(&size, &plus) },
		"abc":                   func(d *Decoder) bool { return d.Expect("abd") },
		"(":                     func(d *Decoder) bool { return d.ExpectAtom(&s) },
		" ":                     func(d *Decoder) bool { return d.ExpectWord(&s) },
		"a b":                   func(d *Decoder) bool { d.ExpectAtom(&s); return d.End() },
		strings.Repeat("a", 11): func(d *Decoder) bool { return d.ExpectAtom(&s) },
	} {
		d := NewDecoder(line)
		d.MaxToken = 10
		if step(d) || !errors.Is(d.Err(), ErrSyntax) {
			t.Errorf("decoding %q: ok or error %v, want a syntax error", line, d.Err())
		}
	}
	d := NewDecoder(strings.Repeat("a", 11))
	d.MaxToken = 10
	d.Atom(&s)
	if !errors.Is(d.Err(), ErrTokenTooLong) {
		t.Errorf("an 11-byte atom with MaxToken 10: %v, want ErrTokenTooLong", d.Err())
	}
	d = NewDecoder(strings.Repeat("a", 10))
	d.MaxToken = 10
	if !d.Atom(&s) || !d.End() {
		t.Errorf("a 10-byte atom with MaxToken 10: %v, want it", d.Err())
	}
}
