package webadmin

import (
	"context"
	"net"
	"net/http"
	"strings"
)

// Authenticator checks an API token presented by a client that is not
// on loopback.
type Authenticator interface {
	Token(ctx context.Context, token string) (user string, ok bool)
}

type userKey struct{}

// User returns the account whose token authenticated r, "" for a
// loopback client that sent none.
func User(r *http.Request) string {
	u, _ := r.Context().Value(userKey{}).(string)
	return u
}

// authenticate lets loopback clients through and asks others for a
// token over TLS. A loopback client must name a loopback host (an IP
// literal or localhost) in Host, so that a web page whose name was
// made to resolve to 127.0.0.1 (DNS rebinding) cannot reach the API.
// A token is checked whenever one is sent, from loopback too.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, hasToken := bearer(r)
		if !hasToken && isLoopback(r.RemoteAddr) {
			if !loopbackHost(r.Host) {
				writeError(w, http.StatusForbidden, "Host "+r.Host+" is not this machine's loopback address: use http://127.0.0.1 or http://localhost, or send a token")
				return
			}
			next.ServeHTTP(w, r)
			return
		}
		if r.TLS == nil && !isLoopback(r.RemoteAddr) {
			writeError(w, http.StatusForbidden, "off loopback the admin API is served only over HTTPS; connect with https:// and send Authorization: Bearer <token>")
			return
		}
		if !hasToken {
			w.Header().Set("WWW-Authenticate", `Bearer realm="plumb"`)
			writeError(w, http.StatusUnauthorized, "send Authorization: Bearer <token> (make one with: plumb user token NAME, for an account in admin.operators)")
			return
		}
		user, ok := "", false
		if s.cfg.Auth != nil {
			user, ok = s.cfg.Auth.Token(r.Context(), token)
		}
		if !ok {
			s.log.Warn("webadmin: refused a token", "remote", r.RemoteAddr, "path", r.URL.Path)
			w.Header().Set("WWW-Authenticate", `Bearer realm="plumb", error="invalid_token"`)
			writeError(w, http.StatusUnauthorized, "the token is not an operator's (admin.operators) or was revoked")
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), userKey{}, user)))
	})
}

func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
		return "", false
	}
	return strings.TrimSpace(tok), true
}

func isLoopback(remote string) bool {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// loopbackHost reports whether a Host header names this machine by a
// loopback address or localhost.
func loopbackHost(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	if ip := net.ParseIP(host); ip != nil {
		return ip.IsLoopback()
	}
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	return host == "localhost" || strings.HasSuffix(host, ".localhost")
}
