package daemon

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func x509Pool(certs ...*x509.Certificate) *x509.CertPool {
	p := x509.NewCertPool()
	for _, c := range certs {
		p.AddCert(c)
	}
	return p
}

// TestSelfSignedCertificateRemadeForNewAddresses: a self-signed
// certificate that does not name a new listen address is remade with
// the same key and every name it had; someone else's is left alone.
func TestSelfSignedCertificateRemadeForNewAddresses(t *testing.T) {
	dir := t.TempDir()
	first, err := LoadCertificate(dir, "", "", "127.0.0.9", "mail.test")
	if err != nil {
		t.Fatalf("LoadCertificate(127.0.0.9, mail.test) = %v", err)
	}
	for _, name := range []string{"127.0.0.9", "mail.test", "localhost", "127.0.0.1", "::1"} {
		if err := first.Leaf.VerifyHostname(name); err != nil {
			t.Errorf("first certificate VerifyHostname(%q) = %v, want nil", name, err)
		}
	}
	same, err := LoadCertificate(dir, "", "", "127.0.0.9")
	if err != nil || same.Leaf.SerialNumber.Cmp(first.Leaf.SerialNumber) != 0 {
		t.Errorf("LoadCertificate(127.0.0.9) again = serial %v, %v; want the same certificate", same.Leaf.SerialNumber, err)
	}
	second, err := LoadCertificate(dir, "", "", "192.0.2.7")
	if err != nil {
		t.Fatalf("LoadCertificate(192.0.2.7) = %v", err)
	}
	if second.Leaf.SerialNumber.Cmp(first.Leaf.SerialNumber) == 0 {
		t.Fatalf("LoadCertificate(192.0.2.7) kept the certificate that does not name it")
	}
	for _, name := range []string{"192.0.2.7", "127.0.0.9", "mail.test"} {
		if err := second.Leaf.VerifyHostname(name); err != nil {
			t.Errorf("remade certificate VerifyHostname(%q) = %v, want nil", name, err)
		}
	}
	if !second.Leaf.PublicKey.(*ecdsa.PublicKey).Equal(first.Leaf.PublicKey) {
		t.Errorf("remade certificate has a new key; want the old one kept, so pinned keys still match")
	}

	// Unspecified means every interface address.
	all, err := LoadCertificate(dir, "", "", "0.0.0.0")
	if err != nil {
		t.Fatal(err)
	}
	for _, ip := range interfaceAddrs() {
		if err := all.Leaf.VerifyHostname(ip.String()); err != nil {
			t.Errorf("certificate for 0.0.0.0: VerifyHostname(%s) = %v, want nil", ip, err)
		}
	}

	// A certificate someone else put there is not replaced.
	own := filepath.Join(t.TempDir(), "d")
	writeForeignCert(t, own)
	got, err := LoadCertificate(own, "", "", "127.0.0.9")
	if err != nil {
		t.Fatalf("LoadCertificate over a foreign certificate = %v", err)
	}
	if got.Leaf.Subject.CommonName != "foreign.test" {
		t.Errorf("LoadCertificate replaced a certificate plumb did not make (got CN %q)", got.Leaf.Subject.CommonName)
	}
}

func writeForeignCert(t *testing.T, dataDir string) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "foreign.test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().AddDate(1, 0, 0),
		DNSNames: []string{"foreign.test"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalECPrivateKey(key)
	os.MkdirAll(filepath.Join(dataDir, "tls"), 0o700)
	os.WriteFile(filepath.Join(dataDir, selfSignedCert), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(filepath.Join(dataDir, selfSignedKey), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600)
}

// TestHalfAPairIsNotReplaced: a certificate (or key) in the data
// directory without its pair may be someone's own: it is refused with
// advice, never overwritten by a self-signed one.
func TestHalfAPairIsNotReplaced(t *testing.T) {
	for _, present := range []string{selfSignedCert, selfSignedKey} {
		dir := t.TempDir()
		os.MkdirAll(filepath.Join(dir, "tls"), 0o700)
		mine := []byte("-----BEGIN SOMETHING-----\nbWluZQ==\n-----END SOMETHING-----\n")
		if err := os.WriteFile(filepath.Join(dir, present), mine, 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := LoadCertificate(dir, "", "")
		got, _ := os.ReadFile(filepath.Join(dir, present))
		if err == nil || string(got) != string(mine) {
			t.Errorf("LoadCertificate with only %s there = %v, file changed %v; want an error and the file left alone", present, err, string(got) != string(mine))
		}
	}
}
