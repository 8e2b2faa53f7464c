// Package smtp is an SMTP server and client: RFC 5321 with the ESMTP
// extensions mail software expects.
//
// The server ([Server]) hands each transaction to a [Backend] one step
// at a time ([Session]: Mail, Rcpt, Data, Reset, Logout), with a
// context on every call; a backend refuses a step by returning an
// [*Error] carrying the reply. Optional capabilities are interfaces
// found by type assertion: [AuthSession] for AUTH, [VerifySession] for
// VRFY. A panic while serving one connection answers 421 and closes
// that connection only; an internal error's text never reaches the
// client (it sees 451 4.3.0).
//
// Implemented:
//
//   - RFC 5321: EHLO, HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT, VRFY
//     (answered 252 unless [Server.EnableVRFY]), HELP; EXPN is refused.
//   - RFC 1870 SIZE, RFC 2920 PIPELINING, RFC 6152 8BITMIME, RFC 6531
//     SMTPUTF8, RFC 2034/3463 ENHANCEDSTATUSCODES, RFC 3207 STARTTLS,
//     RFC 4954 AUTH (PLAIN, LOGIN via plumb's sasl package), RFC 3030
//     CHUNKING (BDAT), RFC 3461 DSN parameters (RET, ENVID, NOTIFY,
//     ORCPT) accepted and passed to the backend.
//   - A Received: header (RFC 5321 section 4.4) in front of every message.
//
// Commands are dispatched from a verb table (commands.go) that also says
// what each needs first (EHLO, STARTTLS, AUTH) and whether the server
// offers it; HELP (RFC 5321 section 4.1.1.8) is generated from it.
// Lines and messages are read with plumb's wire kit.
//
// Security choices:
//
//   - The DATA reader ends a message only at CRLF.CRLF. A bare CR or LF
//     in a message fails it with 550 5.5.2, so "\n.\n", "\r.\r" and
//     "\n.\r\n" can never end a message early (SMTP smuggling).
//   - Implicit TLS (submissions, RFC 8314) means one thing: the listener
//     yields *tls.Conn (tls.NewListener), the server finishes the
//     handshake within [Server.WriteTimeout], and that connection, and
//     no other, is TLS. A plaintext connection is never taken for TLS,
//     whatever the listener or a wrapper claims.
//   - After STARTTLS the buffered reader is rebuilt, so commands sent in
//     clear behind STARTTLS are dropped, and the session starts over.
//   - AUTH is neither offered nor accepted off loopback without TLS
//     unless [Server.AllowInsecureAuth]; [Server.TLSRequired] refuses
//     MAIL and AUTH off loopback before STARTTLS, [Server.AuthRequired]
//     refuses MAIL before AUTH (submission, RFC 6409).
//   - Limits with safe defaults: line length, message size, recipients
//     per message, failed commands per connection, idle and data time,
//     and the time a whole command line may take to arrive
//     ([Server.LineTimeout], against clients trickling bytes). A zero
//     duration is the default, a negative one no limit. HTTP request
//     lines are answered 521 and cut off.
//
// The client ([Client]) says EHLO (HELO if refused), upgrades with
// STARTTLS, authenticates with any SASL client of plumb's sasl package
// (refusing to send a password over a connection that is neither TLS
// nor loopback), pipelines MAIL/RCPT/DATA when offered, asks for
// SMTPUTF8 when an address needs it, can send with BDAT, and returns
// replies as [*Error] and refused recipients as [*RcptErrors]. Every
// argument is checked for CR, LF and NUL ([ErrBadArgument]); every reply
// is read with a bound on its lines and size ([ErrProtocol]). Connect
// with [Dial], a [Dialer] (TLS config, timeout, local name), or
// [NewClient] on a connection of one's own. Each command's round trip is
// bounded by [Client.Timeout], set on the connection before the command
// is written.
//
// Not implemented: BINARYMIME, ETRN, ATRN, LMTP, DSN generation (the
// daemon's queue writes bounces), and SASL mechanisms other than PLAIN
// and LOGIN. [MemoryBackend] keeps messages in memory for tests and
// examples.
package smtp
