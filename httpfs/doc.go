// Package httpfs serves a file tree over HTTP (RFC 9110, 9111, 9112 and
// HTTP/2 through net/http) and WebDAV (RFC 4918 class 1 and 2, through
// golang.org/x/net/webdav).
//
// net/http is the engine: a [Server] is an http.Server with a handler
// that maps request paths onto the trees of a [Backend]:
//
//	/            the anonymous area, readable by anyone
//	/~user/      user's home tree, for user alone (HTTP Basic)
//	/dav/        the logged-in user's home as a WebDAV collection
//	/cgi-bin/    CGI scripts from [Server.CGIDir], when it is set
//
// GET and HEAD go through http.ServeContent, so Range (with multiple
// ranges), If-Modified-Since, If-None-Match, If-Match and If-Range with
// strong ETags are net/http's; a regular file is an *os.File and goes
// out with sendfile(2). A directory is listed as HTML (sortable by name,
// size or date with ?sort=&order=, no script) or, with
// "Accept: application/json", as JSON ([Listing]); [ParseListing] reads
// plumb's listings and nginx's and Apache's autoindex pages back.
//
// Writes (PUT, DELETE, WebDAV) need HTTP Basic credentials, accepted
// only over TLS or from loopback. PUT is atomic: the body goes to a
// temporary file that is fsynced and renamed into place before the 201
// or 204 (the [Upload] contract), and a quota or size limit answers 507
// or 413.
//
// Every response carries the security headers a static file server
// should send (nosniff, a CSP sandbox for served files, no framing, no
// referrer; HSTS over TLS). Text is gzip-compressed when the client
// accepts it. Limits: header size, body size, requests per second per
// client address, and header, body and idle timeouts against slowloris.
// Each request can be logged in the Combined Log Format. A connection
// that is a [UserConn] (a daemon's, for its session list) is told the
// user of each request on it that logged in.
//
// A file's sha-256 is sent as Repr-Digest (RFC 9530) to a request with
// Want-Repr-Digest.
//
// Left out: WebDAV's dead properties are kept in memory only (they are
// lost when the server restarts); digest authentication; shared WebDAV
// locks; serving a directory's index.html in place of its listing.
package httpfs
