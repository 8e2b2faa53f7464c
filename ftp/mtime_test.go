package ftp

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// MFMT and both forms of SITE UTIME set a file's modification time,
// which MDTM and listings then show; FEAT lists MFMT.
func TestSetModificationTime(t *testing.T) {
	ts := startServer(t, nil)
	ts.home.WriteFile("a file.txt", []byte("x"))
	c := dialT(t, ts.addr)
	c.login("alice", "secret")
	if msg := c.Do("FEAT", 211); !strings.Contains(msg, "\n MFMT\n") {
		t.Errorf("FEAT = %q, want MFMT listed", msg)
	}
	for _, step := range []struct {
		line, mdtm string
		code       int
	}{
		{"MFMT 20200102030405 a file.txt", "20200102030405", 213},
		{"MFMT 19991231235959.123 a file.txt", "19991231235959", 213},
		{"SITE UTIME 20110203040506 a file.txt", "20110203040506", 200},
		{"SITE UTIME a file.txt 20120101000000 20130405060708 20120101000000 UTC", "20130405060708", 200},
	} {
		if code, msg := c.Cmd(step.line); code != step.code {
			t.Fatalf("%q = %d %q, want %d", step.line, code, msg, step.code)
		}
		if got := c.Do("MDTM a file.txt", 213); got != "213 "+step.mdtm {
			t.Errorf("MDTM after %q = %q, want %q", step.line, got, step.mdtm)
		}
	}
	if msg := c.Do("MFMT 20200102030405 a file.txt", 213); msg != "213 Modify=20200102030405; /a file.txt" {
		t.Errorf("MFMT reply = %q, want %q", msg, "213 Modify=20200102030405; /a file.txt")
	}
	for line, code := range map[string]int{
		"MFMT 2020 a file.txt":                                                501,
		"MFMT 20200102030405":                                                 501,
		"MFMT 20201302030405 a file.txt":                                      501,
		"MFMT 20200102030405 missing":                                         550,
		"SITE UTIME 20200102030405":                                           501,
		"SITE UTIME a file.txt x 20130405060708 y UTC":                        501,
		"SITE UTIME missing 20120101000000 20120101000000 20120101000000 UTC": 550,
		"MFMT 20200102030405 /":                                               550,
	} {
		if got, msg := c.Cmd(line); got != code {
			t.Errorf("%q = %d %q, want %d", line, got, msg, code)
		}
	}
	// The anonymous area is read-only.
	a := dialT(t, ts.addr)
	a.login("anonymous", "x")
	a.Do("MFMT 20200102030405 readme.txt", 550)
}

// An FS without ModTimeSetter answers 502.
func TestSetModificationTimeUnsupported(t *testing.T) {
	ts := startServer(t, func(s *Server) { s.Backend = plainBackend{} })
	c := dialT(t, ts.addr)
	c.login("alice", "secret")
	if code, msg := c.Cmd("MFMT 20200102030405 x"); code != 502 {
		t.Fatalf("MFMT on an FS that cannot = %d %q, want 502", code, msg)
	}
}

// plainFS hides MemoryFS's optional interfaces.
type plainFS struct{ FS }

// plainBackend logs everyone into a plainFS.
type plainBackend struct{}

func (plainBackend) Login(context.Context, ConnInfo, string, string) (FS, error) {
	return plainFS{NewMemoryFS()}, nil
}

func TestClientSetModTime(t *testing.T) {
	cs := startClientTestServer(t, "")
	cs.home.WriteFile("f.bin", []byte("data"))
	c := cs.login(t, Dialer{}, "")
	want := time.Date(2019, 5, 6, 7, 8, 9, 0, time.UTC)
	if err := c.SetModTime("f.bin", want.In(time.FixedZone("X", 3600))); err != nil {
		t.Fatalf("SetModTime(f.bin) = %v", err)
	}
	if got, err := c.ModTime("f.bin"); err != nil || !got.Equal(want) {
		t.Fatalf("ModTime(f.bin) after SetModTime = %v, %v; want %v", got, err, want)
	}
	fi, _ := cs.home.Stat(context.Background(), "f.bin")
	if !fi.ModTime().Equal(want) {
		t.Errorf("the server's file time = %v, want %v", fi.ModTime(), want)
	}
	if err := c.SetModTime("x\r\nDELE f.bin", want); !errors.Is(err, ErrBadArgument) {
		t.Errorf("SetModTime with CRLF = %v, want ErrBadArgument", err)
	}
}
