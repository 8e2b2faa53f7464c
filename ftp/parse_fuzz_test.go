package ftp

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestParseCommandLine(t *testing.T) {
	for _, tc := range []struct{ line, verb, arg string }{
		{"USER alice\r\n", "USER", "alice"},
		{"retr my file.txt\r\n", "RETR", "my file.txt"},
		{"STOR  two spaces\r\n", "STOR", " two spaces"},
		{"NOOP\n", "NOOP", ""},
		{"  PWD\r\n", "PWD", ""},
		{"\xff\xf4\xff\xf2ABOR\r\n", "ABOR", ""},
		{"\xff\xf4\xffABOR\r\n", "ABOR", ""},
		{"STOR a\xff\xffb\r\n", "STOR", "a\xffb"},
		{"TOOLONGVERB x\r\n", "", ""},
	} {
		verb, arg := parseCommandLine(tc.line)
		if verb != tc.verb || arg != tc.arg {
			t.Errorf("parseCommandLine(%q) = %q, %q; want %q, %q", tc.line, verb, arg, tc.verb, tc.arg)
		}
	}
}

func FuzzParseCommandLine(f *testing.F) {
	for _, s := range []string{"USER a\r\n", "\xff\xf4\xff\xf2ABOR\r\n", "LIST -la /x y\r\n", "", "\r\n", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		if i := strings.IndexByte(line, '\n'); i >= 0 && i != len(line)-1 {
			return // readLine ends a line at its first LF
		}
		verb, arg := parseCommandLine(line)
		if verb != asciiUpper(verb) || strings.ContainsAny(verb, "abcdefghijklmnopqrstuvwxyz") || len(verb) > 8 || strings.Contains(verb, " ") {
			t.Fatalf("parseCommandLine(%q) verb = %q", line, verb)
		}
		if verb == "" && arg != "" {
			t.Fatalf("parseCommandLine(%q) = no verb but argument %q", line, arg)
		}
		if strings.HasSuffix(line, "\r\n") && strings.HasSuffix(arg, "\n") {
			t.Fatalf("parseCommandLine(%q) argument %q keeps the line end", line, arg)
		}
	})
}

func TestDecodePortArg(t *testing.T) {
	ap, err := decodePortArg("127,0,0,1,4,1")
	if err != nil || ap != netip.MustParseAddrPort("127.0.0.1:1025") {
		t.Fatalf("decodePortArg = %v, %v; want 127.0.0.1:1025", ap, err)
	}
	for _, bad := range []string{"", "1,2,3,4,5", "1,2,3,4,5,6,7", "256,0,0,1,4,1", "a,b,c,d,e,f", "1,2,3,4,0,0", "-1,2,3,4,5,6"} {
		if _, err := decodePortArg(bad); err == nil {
			t.Errorf("decodePortArg(%q) accepted", bad)
		}
	}
}

func FuzzDecodePortArg(f *testing.F) {
	f.Add("127,0,0,1,4,1")
	f.Add("1,2,3,4,5,6,7")
	f.Add(" 10, 0,0,1,255,255 ")
	f.Fuzz(func(t *testing.T, arg string) {
		ap, err := decodePortArg(arg)
		if err != nil {
			return
		}
		a := ap.Addr().As4()
		again := fmt.Sprintf("%d,%d,%d,%d,%d,%d", a[0], a[1], a[2], a[3], ap.Port()>>8, ap.Port()&0xff)
		if ap2, err := decodePortArg(again); err != nil || ap2 != ap {
			t.Fatalf("decodePortArg(%q) = %v, but its own form %q gives %v, %v", arg, ap, again, ap2, err)
		}
		if ap.Port() == 0 || !ap.Addr().Is4() {
			t.Fatalf("decodePortArg(%q) = %v", arg, ap)
		}
	})
}

func TestDecodeEprtArg(t *testing.T) {
	for arg, want := range map[string]string{
		"|1|132.235.1.2|6275|":           "132.235.1.2:6275",
		"|2|1080::8:800:200C:417A|5282|": "[1080::8:800:200c:417a]:5282",
		"!1!10.0.0.1!80!":                "10.0.0.1:80",
	} {
		ap, err := decodeEprtArg(arg)
		if err != nil || ap.String() != want {
			t.Errorf("decodeEprtArg(%q) = %v, %v; want %s", arg, ap, err, want)
		}
	}
	for _, bad := range []string{"", "|1|1.2.3.4|5", "|1|::1|5|", "|2|1.2.3.4|5|", "|1|1.2.3.4|0|", "|1|1.2.3.4|70000|", "|2|fe80::1%eth0|5|", " 1 1.2.3.4 5 "} {
		if _, err := decodeEprtArg(bad); err == nil {
			t.Errorf("decodeEprtArg(%q) accepted", bad)
		}
	}
}

func FuzzDecodeEprtArg(f *testing.F) {
	f.Add("|1|132.235.1.2|6275|")
	f.Add("|2|::1|5282|")
	f.Add("|3|x|1|")
	f.Fuzz(func(t *testing.T, arg string) {
		ap, err := decodeEprtArg(arg)
		if err != nil {
			return
		}
		fam := "2"
		if ap.Addr().Is4() {
			fam = "1"
		}
		again := "|" + fam + "|" + ap.Addr().String() + "|" + fmt.Sprint(ap.Port()) + "|"
		if ap2, err := decodeEprtArg(again); err != nil || ap2 != ap {
			t.Fatalf("decodeEprtArg(%q) = %v, but its own form %q gives %v, %v", arg, ap, again, ap2, err)
		}
	})
}

// FuzzSession runs whole command sequences through a logged-in session
// and checks that every reply is well formed and the session ends.
func FuzzSession(f *testing.F) {
	for _, s := range []string{
		"PWD\r\nMKD a\r\nCWD a\r\nCDUP\r\nRMD a\r\n",
		"EPSV\r\nRETR x\r\nABOR\r\nSTAT\r\n",
		"PASV\r\nSTOR y\r\nSTAT /\r\nRNFR y\r\nRNTO z\r\n",
		"REST 5\r\nTYPE A\r\nLIST -la\r\nMLST /\r\nSITE CHMOD 644 f\r\n",
		"PORT 127,0,0,1,200,1\r\nEPRT |2|::1|9|\r\nAUTH TLS\r\nPROT P\r\n",
		"\xff\xf4ABOR\r\nUSER x\r\nPASS y\r\nHELP RETR\r\nFEAT\r\n",
	} {
		f.Add(s)
	}
	be := NewMemoryBackend()
	home := be.AddUser("u", "p")
	home.WriteFile("f", []byte("data\nline\n"))
	srv := &Server{Backend: be, PassiveTimeout: 20 * time.Millisecond, MaxLoginFailures: 1000}
	f.Fuzz(func(t *testing.T, input string) {
		client, server := net.Pipe()
		sess := newSession(srv, server)
		done := make(chan struct{})
		go func() { sess.serve(); close(done) }()
		go func() {
			io.WriteString(client, "USER u\r\nPASS p\r\n"+input+"\r\nQUIT\r\n")
		}()
		client.SetReadDeadline(time.Now().Add(10 * time.Second))
		r := bufio.NewReader(client)
		inMulti := ""
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				break
			}
			if !strings.HasSuffix(line, "\r\n") {
				t.Fatalf("reply line %q without CRLF", line)
			}
			switch {
			case inMulti != "" && strings.HasPrefix(line, inMulti+" "):
				inMulti = ""
			case inMulti != "":
			case len(line) >= 6 && line[3] == '-' && isDigits(line[:3]):
				inMulti = line[:3]
			case len(line) >= 6 && line[3] == ' ' && isDigits(line[:3]) && line[0] >= '1' && line[0] <= '5':
			default:
				t.Fatalf("malformed reply line %q", line)
			}
		}
		client.Close()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("session did not end")
		}
	})
}

func isDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
