// Package gopher is a gopher server and client: the Internet Gopher
// Protocol (RFC 1436), gopher:// URLs (RFC 4266), and gopher over TLS
// as it is deployed today (gophers://, ALPN "gopher").
//
// The [Server] is shaped like net/http's: it serves listeners it is
// given, and a [Backend] supplies read-only file trees ([FS]): one
// under "/" and, optionally, one per user under "/~user/". A directory
// is a menu generated with item types by file extension (0 text, 1
// menu, 9 binary, g GIF, I image, h HTML, s sound) and a type-7 item
// that searches file names below the tree's top; a "gophermap" file in
// a directory replaces its menu, in the format gophernicus documents
// (info lines, links to other hosts, "-name" hidden entries, ":ext=T"
// types, "=file" includes, "~" users, "*" for the generated listing,
// "!" titles, "#" comments). Selectors are paths jailed to their tree:
// "..", ".", empty and hidden elements, backslashes, control characters
// and over-long lines are refused with a type-3 error item. h items
// whose selector is "URL:address" get a page sending a browser on.
// Menus end with a "." line; files, text included, go out raw, as
// stored, to the end of the connection: RFC 1436 section 3.8 would end
// text with "." and dot-stuff it, but curl, lynx and gophernicus treat
// text as bytes to the end (lynx shows a "." and doubled dots). Menus name the host and port the client
// connected to unless [Server.Hostname] and [Server.Port] say others.
//
// TLS: a listener whose connections are *tls.Conn is implicit TLS (use
// [Server.ListenerTLSConfig] for ALPN). On a plain listener with
// [Server.TLSConfig] set, a connection whose first byte is a TLS
// handshake record (0x16) is served over TLS and any other in plain
// text, so gophers:// and gopher:// clients share one port. A request
// must start within [Server.IdleTimeout] and arrive whole within
// [Server.LineTimeout] of its first byte (slowloris).
//
// The [Client] fetches menus ([Client.Menu], searches too), text
// ([Client.Text]: to the end, with a final "." line left out for
// servers that end text so) and binary items ([Client.Binary]); a type-3 answer is an
// [*Error]. As gopher has one request per connection, a Client holds
// no connection: each call dials. Selectors and searches holding CR,
// LF, NUL (or TAB, in a selector) are refused with [ErrBadArgument].
//
// Not implemented: Gopher+ (its attributes and views; a Gopher+ "+"
// after the selector is ignored), CGI and executable gophermaps (an
// "=" line only includes a file), virtual hosts ("%" is ignored), and
// item types the server would need to run something for (2 CSO, 8
// telnet: a gophermap may still link to them).
package gopher
