// Package pop3 is a POP3 server and client: the Post Office Protocol,
// version 3 (RFC 1939), with its extension mechanism CAPA (RFC 2449),
// STLS (RFC 2595), AUTH with SASL PLAIN and LOGIN (RFC 5034), and the
// extended response codes of RFC 2449 and RFC 3206 (the server sends
// the codes IN-USE, AUTH and SYS/TEMP; a backend may choose any code).
//
// The [Server] is shaped like net/http's: it serves listeners it is
// given, and a [Backend] supplies authentication and maildrops; a
// backend refuses with an [*Error] to choose the reply. The server
// sends every message with CRLF line ends and byte-stuffing, no matter
// how it is stored: a stored bare LF goes out as CRLF. Deletions take
// effect only in the UPDATE state after QUIT; a session that ends any
// other way deletes nothing. A command line must arrive whole within
// [Server.LineTimeout] (slowloris). Passwords (USER/PASS and AUTH) are
// refused without TLS except from loopback, unless [Server.InsecureAuth]
// is set; a session is TLS only after STLS or when the listener hands
// the server a *tls.Conn (implicit TLS, POP3S). APOP, which sends no
// password, is offered when the backend implements [APOPBackend].
// [MemoryBackend] keeps maildrops in memory for tests and examples.
//
// The [Client] speaks every command above, upgrades with STLS or dials
// implicit TLS (POP3S, port 995), and returns server refusals as
// [*Error]. Connect with [Dial], [DialTLS], a [Dialer] (timeout, TLS
// config) or [NewClient] on a connection of one's own. Its methods take
// no context: each wait for the server is bounded by [Client.Timeout]
// instead, and every line it reads by a limit, so that a hostile server
// cannot make it wait or buffer without bound ([ErrProtocol],
// [ErrTooLarge]). Arguments holding CR, LF or NUL are refused
// ([ErrBadArgument]), and so is a password over a connection that is
// neither TLS nor loopback ([ErrPlaintext]) unless [Client.InsecureAuth].
//
// Not implemented: the LOGIN-DELAY and EXPIRE policies of RFC 2449 (the
// server never expires mail), SASL mechanisms other than PLAIN and
// LOGIN, and the UTF8 and LANG extensions of RFC 6856.
package pop3
