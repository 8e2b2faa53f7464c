package httpfs

import (
	"context"
	"net"
	"net/http"
)

// UserConn is a connection that shows who logged in on it, as a
// daemon's list of open sessions does. After each request whose Basic
// credentials the Backend accepted, the Server calls SetUser, with the
// user name the client sent, on the request's connection, or on the
// first connection under it that is a UserConn, looking through
// wrappers that expose what they wrap with NetConn (as crypto/tls's
// Conn does). A request that fails to log in calls nothing, and one
// that does not try leaves the name as it was: a kept-alive
// connection's user is that of its last request that logged in.
type UserConn interface {
	SetUser(name string)
}

// userConnKey is the context key of a connection's UserConn.
type userConnKey struct{}

// connContext is the http.Server's ConnContext: it finds c's UserConn
// once, when the connection is accepted.
func connContext(ctx context.Context, c net.Conn) context.Context {
	for range 8 {
		switch w := c.(type) {
		case UserConn:
			return context.WithValue(ctx, userConnKey{}, w)
		case interface{ NetConn() net.Conn }:
			c = w.NetConn()
		default:
			return ctx
		}
	}
	return ctx
}

// LoggedIn tells the UserConn of r's connection, if it has one, that
// user logged in with r. The Server calls it for its own logins; a
// handler of Handlers that checks credentials itself (an API, a
// console) calls it after accepting them, so that its connections
// show their user too.
func LoggedIn(r *http.Request, user string) {
	if uc, ok := r.Context().Value(userConnKey{}).(UserConn); ok {
		uc.SetUser(user)
	}
}
