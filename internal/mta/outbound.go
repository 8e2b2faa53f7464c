package mta

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"github.com/plumbnet/plumb/sasl"
	"github.com/plumbnet/plumb/smtp"
)

// rcptResult is one recipient's outcome of a delivery attempt; err nil
// means delivered.
type rcptResult struct {
	err       error
	permanent bool
}

// deliverRemote tries each pending recipient of e once, domain by
// domain, host by host, and reports per recipient.
func (q *Queue) deliverRemote(ctx context.Context, e *entry, msgPath string) map[string]rcptResult {
	byDomain := map[string][]string{}
	var order []string
	for _, r := range e.Rcpts {
		dom := ""
		if at := strings.LastIndexByte(r, '@'); at >= 0 {
			dom = strings.ToLower(r[at+1:])
		}
		if _, ok := byDomain[dom]; !ok {
			order = append(order, dom)
		}
		byDomain[dom] = append(byDomain[dom], r)
	}
	results := map[string]rcptResult{}
	for _, dom := range order {
		rcpts := byDomain[dom]
		hosts, perm, err := q.route(ctx, dom)
		if err != nil {
			for _, r := range rcpts {
				results[r] = rcptResult{err: err, permanent: perm}
			}
			continue
		}
		var last map[string]rcptResult
		for _, h := range hosts {
			res, retryOther := q.sendTo(ctx, h, e, rcpts, msgPath)
			last = res
			if !retryOther || ctx.Err() != nil {
				break
			}
		}
		for r, res := range last {
			results[r] = res
		}
	}
	return results
}

// route returns the hosts (host:port) to try for domain: the smarthost,
// or the MX hosts by preference (RFC 5321 section 5.1).
func (q *Queue) route(ctx context.Context, domain string) (hosts []string, permanent bool, err error) {
	if sh := q.cfg.Smarthost; sh != "" {
		return []string{sh}, false, nil
	}
	if strings.HasPrefix(domain, "[") && strings.HasSuffix(domain, "]") {
		ip := strings.TrimPrefix(domain[1:len(domain)-1], "ipv6:")
		if net.ParseIP(ip) == nil {
			return nil, true, &smtp.Error{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 2}, Msg: "bad address literal " + domain}
		}
		return []string{net.JoinHostPort(ip, "25")}, false, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	mxs, err := net.DefaultResolver.LookupMX(ctx, domain)
	var dnsErr *net.DNSError
	switch {
	case err == nil && len(mxs) == 1 && (mxs[0].Host == "." || mxs[0].Host == ""):
		return nil, true, &smtp.Error{Code: 556, EnhancedCode: smtp.EnhancedCode{5, 1, 10}, Msg: domain + " accepts no mail (null MX)"}
	case err == nil && len(mxs) > 0:
		for _, mx := range mxs {
			hosts = append(hosts, net.JoinHostPort(strings.TrimSuffix(mx.Host, "."), "25"))
		}
		return hosts, false, nil
	case err != nil && !(errors.As(err, &dnsErr) && dnsErr.IsNotFound):
		return nil, false, fmt.Errorf("MX lookup for %s: %w", domain, err)
	}
	// No MX: the domain's own address is the implicit MX.
	if _, err := net.DefaultResolver.LookupHost(ctx, domain); err != nil {
		if errors.As(err, &dnsErr) && dnsErr.IsNotFound {
			return nil, true, &smtp.Error{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 2}, Msg: "domain " + domain + " not found"}
		}
		return nil, false, fmt.Errorf("address lookup for %s: %w", domain, err)
	}
	return []string{net.JoinHostPort(domain, "25")}, false, nil
}

// sendTo delivers to one host. retryOther says the failure was the
// host's, not the recipients', so the next host may be tried.
func (q *Queue) sendTo(ctx context.Context, host string, e *entry, rcpts []string, msgPath string) (map[string]rcptResult, bool) {
	all := func(err error) (map[string]rcptResult, bool) {
		perm := !smtp.IsTemporary(err)
		res := map[string]rcptResult{}
		for _, r := range rcpts {
			res[r] = rcptResult{err: err, permanent: perm}
		}
		return res, !perm
	}
	out := q.cfg
	smarthost := out.Smarthost != ""
	hostName, _, _ := net.SplitHostPort(host)
	dctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	var c *smtp.Client
	var err error
	if smarthost && out.SmarthostTLS == "tls" {
		c, err = smtp.DialTLS(dctx, host, &tls.Config{ServerName: hostName})
	} else {
		c, err = smtp.Dial(dctx, host)
	}
	if err != nil {
		return all(fmt.Errorf("connecting to %s: %w", host, err))
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	c.Timeout = 5 * time.Minute
	if err := c.Hello(q.hostname()); err != nil {
		return all(err)
	}
	mode := out.SmarthostTLS
	if !smarthost || mode == "" {
		mode = "starttls"
	}
	if _, isTLS := c.TLSConnectionState(); !isTLS && mode != "none" {
		offered, _ := c.Extension("STARTTLS")
		switch {
		case offered:
			// Opportunistic TLS to MX hosts does not verify (RFC 7435);
			// a smarthost required to use STARTTLS must prove its name.
			cfg := &tls.Config{ServerName: hostName, InsecureSkipVerify: mode == "starttls"}
			if err := c.StartTLS(cfg); err != nil {
				return all(fmt.Errorf("STARTTLS with %s: %w", host, err))
			}
		case mode == "require-starttls":
			return all(fmt.Errorf("%s does not offer STARTTLS, which smarthost_tls requires", host))
		}
	}
	if smarthost && out.SmarthostUser != "" {
		if err := c.Auth(sasl.NewPlainClient("", out.SmarthostUser, out.SmarthostPassword)); err != nil {
			return all(fmt.Errorf("AUTH at %s: %w", host, err))
		}
	}
	f, err := os.Open(msgPath)
	if err != nil {
		return all(err)
	}
	defer f.Close()
	opts := &smtp.MailOptions{UTF8: e.UTF8, Body: smtp.BodyType(e.Body), Return: e.Return, EnvelopeID: e.EnvID}
	if fi, err := f.Stat(); err == nil {
		opts.Size = fi.Size()
	}
	err = c.SendMail(e.From, rcpts, f, opts)
	res := map[string]rcptResult{}
	var re *smtp.RcptErrors
	switch {
	case err == nil:
	case errors.As(err, &re):
		for r, rerr := range re.Errors {
			res[r] = rcptResult{err: rerr, permanent: !smtp.IsTemporary(rerr)}
		}
	default:
		return all(err)
	}
	for _, r := range rcpts {
		if _, ok := res[r]; !ok {
			res[r] = rcptResult{}
		}
	}
	c.Quit()
	return res, false
}

// hostname is the name said in EHLO and written in DSNs.
func (q *Queue) hostname() string {
	if q.cfg.Hostname != "" {
		return q.cfg.Hostname
	}
	return "localhost"
}
