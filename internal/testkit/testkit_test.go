package testkit

import (
	"crypto/tls"
	"testing"
)

func TestTLSFilesLoad(t *testing.T) {
	certFile, keyFile := TLSFiles(t, t.TempDir())
	if _, err := tls.LoadX509KeyPair(certFile, keyFile); err != nil {
		t.Fatalf("LoadX509KeyPair(TLSFiles) = %v", err)
	}
}

func TestTLSHandshake(t *testing.T) {
	srvCfg, cliCfg := TLS(t)
	ln := Listen(t)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			tls.Server(c, srvCfg).Handshake()
			c.Close()
		}
	}()
	c, err := tls.Dial("tcp", ln.Addr().String(), cliCfg)
	if err != nil {
		t.Fatalf("tls.Dial with the client config = %v, want a verified handshake", err)
	}
	c.Close()
}
