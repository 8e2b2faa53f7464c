package daemon

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/plumbnet/plumb/internal/atomicfile"
)

// Names of the self-signed certificate files in the data directory.
const (
	selfSignedCert = "tls/cert.pem"
	selfSignedKey  = "tls/key.pem"
	// selfSignedOrg marks a certificate plumb made, which it may remake.
	selfSignedOrg = "plumb self-signed"
)

// LoadCertificate returns the configured certificate, or the data
// directory's self-signed one, creating it on first use. The
// self-signed certificate names localhost, 127.0.0.1, ::1, this host's
// name and hosts (the hosts the daemon listens on; an unspecified one,
// "" or 0.0.0.0 or ::, stands for every address of this machine's
// interfaces), so a client can be told to trust it for any address it
// is reached at. When it does not name all of them it is remade, with
// the same key and every name it had, so names only ever grow.
// plumb listen --tls uses it too, so both present the same certificate.
func LoadCertificate(dataDir, certFile, keyFile string, hosts ...string) (tls.Certificate, error) {
	if certFile != "" || keyFile != "" {
		c, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return tls.Certificate{}, fmt.Errorf("tls: loading %s and %s: %w", certFile, keyFile, err)
		}
		return c, nil
	}
	cf, kf := filepath.Join(dataDir, selfSignedCert), filepath.Join(dataDir, selfSignedKey)
	dns, ips := certNames(hosts)
	var key crypto.Signer
	c, err := tls.LoadX509KeyPair(cf, kf)
	switch {
	case err == nil:
		leaf := c.Leaf
		if leaf == nil {
			leaf, _ = x509.ParseCertificate(c.Certificate[0])
		}
		if !selfMade(leaf) || covers(leaf, dns, ips) {
			return c, nil // someone else's certificate is theirs to change
		}
		dns = union(dns, leaf.DNSNames)
		for _, ip := range leaf.IPAddresses {
			if a, ok := netip.AddrFromSlice(ip); ok {
				ips = unionIP(ips, []netip.Addr{a.Unmap()})
			}
		}
		key, _ = c.PrivateKey.(crypto.Signer)
	case errors.Is(err, fs.ErrNotExist):
		// Remake only a pair that is wholly gone: a certificate or key
		// left alone may be someone's own.
		for _, f := range []string{cf, kf} {
			if _, statErr := os.Stat(f); statErr == nil {
				return tls.Certificate{}, fmt.Errorf("tls: %s is there without its pair: %w (put the pair back, or delete it to have a new one made)", f, err)
			}
		}
	default:
		if _, statErr := os.Stat(cf); statErr == nil {
			return tls.Certificate{}, fmt.Errorf("tls: self-signed certificate in %s: %w (delete it to have a new one made)", filepath.Dir(cf), err)
		}
	}
	if err := makeSelfSigned(cf, kf, key, dns, ips); err != nil {
		return tls.Certificate{}, fmt.Errorf("tls: making a self-signed certificate: %w", err)
	}
	return tls.LoadX509KeyPair(cf, kf)
}

// certNames returns the DNS names and IP addresses a self-signed
// certificate for hosts must name.
func certNames(hosts []string) (dns []string, ips []netip.Addr) {
	dns = []string{"localhost"}
	ips = []netip.Addr{netip.MustParseAddr("127.0.0.1"), netip.IPv6Loopback()}
	if h, _ := os.Hostname(); h != "" {
		dns = union(dns, []string{strings.ToLower(h)})
	}
	for _, h := range hosts {
		h = strings.TrimSuffix(strings.Trim(h, "[]"), ".")
		if i := strings.IndexByte(h, '%'); i >= 0 {
			h = h[:i] // a zone names no one but this host
		}
		ip, err := netip.ParseAddr(h)
		switch {
		case h == "" || err == nil && ip.IsUnspecified():
			ips = unionIP(ips, interfaceAddrs())
		case err == nil:
			ips = unionIP(ips, []netip.Addr{ip.Unmap()})
		default:
			dns = union(dns, []string{strings.ToLower(h)})
		}
	}
	return dns, ips
}

// interfaceAddrs returns this machine's unicast addresses, leaving out
// the link-local ones, which need a zone to be reached.
func interfaceAddrs() []netip.Addr {
	addrs, _ := net.InterfaceAddrs()
	var out []netip.Addr
	for _, a := range addrs {
		n, ok := a.(*net.IPNet)
		if !ok {
			continue
		}
		ip, ok := netip.AddrFromSlice(n.IP)
		if ok && !ip.IsLinkLocalUnicast() && !ip.IsMulticast() {
			out = append(out, ip.Unmap())
		}
	}
	return out
}

// selfMade reports whether plumb made leaf: self-signed, with plumb's mark.
func selfMade(leaf *x509.Certificate) bool {
	return leaf != nil && slices.Contains(leaf.Subject.Organization, selfSignedOrg) &&
		leaf.CheckSignatureFrom(leaf) == nil
}

// covers reports whether leaf names every one of dns and ips and is
// good for a month more.
func covers(leaf *x509.Certificate, dns []string, ips []netip.Addr) bool {
	if time.Now().AddDate(0, 1, 0).After(leaf.NotAfter) {
		return false
	}
	for _, n := range dns {
		if !slices.Contains(leaf.DNSNames, n) {
			return false
		}
	}
	for _, ip := range ips {
		if !slices.ContainsFunc(leaf.IPAddresses, func(c net.IP) bool { return c.Equal(ip.AsSlice()) }) {
			return false
		}
	}
	return true
}

func union(a, b []string) []string {
	for _, s := range b {
		if !slices.Contains(a, s) {
			a = append(a, s)
		}
	}
	return a
}

func unionIP(a []netip.Addr, b []netip.Addr) []netip.Addr {
	for _, ip := range b {
		if !slices.Contains(a, ip) {
			a = append(a, ip)
		}
	}
	return a
}

// makeSelfSigned writes a certificate for dns and ips with key, or with
// a new key if key is nil.
func makeSelfSigned(certFile, keyFile string, key crypto.Signer, dns []string, ips []netip.Addr) error {
	newKey := key == nil
	if newKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return err
		}
		key = k
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "localhost", Organization: []string{selfSignedOrg}},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().AddDate(5, 0, 0),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              dns,
	}
	for _, ip := range ips {
		tmpl.IPAddresses = append(tmpl.IPAddresses, net.IP(ip.AsSlice()))
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(certFile), 0o700); err != nil {
		return err
	}
	if newKey {
		kder, err := x509.MarshalECPrivateKey(key.(*ecdsa.PrivateKey))
		if err != nil {
			return err
		}
		if err := atomicfile.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
			return err
		}
	}
	return atomicfile.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
}

// certHosts returns the hosts the daemon listens on with TLS or
// STARTTLS: the listen host and every enabled listener's.
func (c *Config) certHosts() []string {
	hosts := []string{c.Listen}
	for _, l := range c.listenerList() {
		if !l.Enabled {
			continue
		}
		if h, _, err := net.SplitHostPort(c.resolve(l.Addr)); err == nil && !slices.Contains(hosts, h) {
			hosts = append(hosts, h)
		}
	}
	return hosts
}

// serverTLSConfig is the one TLS config every listener and STARTTLS shares.
func serverTLSConfig(cert tls.Certificate) *tls.Config {
	return &tls.Config{
		Certificates: []tls.Certificate{cert},
		MinVersion:   tls.VersionTLS12,
	}
}
