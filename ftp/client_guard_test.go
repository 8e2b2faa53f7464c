package ftp

import (
	"bufio"
	"io"
	"net"
	"testing"
)

// A feature on several FEAT lines keeps all of its parameters.
func TestFeaturesRepeatedLines(t *testing.T) {
	cc, sc := net.Pipe()
	defer cc.Close()
	go func() {
		defer sc.Close()
		r := bufio.NewReader(sc)
		io.WriteString(sc, "220 scripted\r\n")
		if l, _ := r.ReadString('\n'); l != "FEAT\r\n" {
			return
		}
		io.WriteString(sc, "211-Features:\r\n AUTH TLS\r\n AUTH SSL\r\n MDTM\r\n UTF8\r\n211 End\r\n")
		r.ReadString('\n')
	}()
	c, err := NewClient(cc)
	if err != nil {
		t.Fatal(err)
	}
	f, err := c.Features()
	if err != nil {
		t.Fatalf("Features() = %v", err)
	}
	if f["AUTH"] != "TLS;SSL" {
		t.Errorf(`Features()["AUTH"] = %q, want "TLS;SSL"`, f["AUTH"])
	}
	if _, ok := f["MDTM"]; !ok {
		t.Errorf("Features() = %v, want MDTM in it", f)
	}
}
