// Package wire is the one kit for line protocols in plumb: SMTP, POP3
// and FTP's control connection read and write their lines and
// dot-terminated blocks through it, server and client alike, and the
// protocols to come (NNTP, IMAP) are to do the same.
//
//   - [Reader] reads bounded lines from a *bufio.Reader. A line longer
//     than [Reader.MaxLine] is refused with [ErrLineTooLong] after at
//     most MaxLine bytes were read; [Reader.DiscardLine] then throws
//     away the rest, itself bounded, so a server can answer an error and
//     go on. Strict mode wants every line to end in CRLF (RFC 5321
//     section 2.3.8) and reports a bare CR or LF as [ErrBareNewline];
//     [Reader.Lenient] ends a line at LF and drops a CR before it, for
//     protocols whose clients send bare LF. With [Reader.Conn] set, the
//     wait for the first byte of a line is bounded by IdleTimeout, and
//     the whole line must then arrive within LineTimeout, so a client
//     trickling a byte at a time (slowloris) cannot hold a connection.
//     [Reader.ReadDotLine] reads the lines of a multi-line block.
//   - [NewDotWriter] writes a dot-terminated block: lines starting with
//     "." get another (RFC 5321 section 4.5.2 transparency, RFC 3977
//     section 3.1.1, RFC 1939 section 3), every line end goes out as
//     CRLF, and Close adds the final ".".
//   - [DotReader] reads such a block strictly: it ends only at
//     CRLF "." CRLF. A bare LF or CR fails the block ([ErrBareNewline])
//     and never ends it, so "\n.\n" or "\r.\r" cannot end a message early
//     (SMTP smuggling). Line and size limits are reported as
//     [ErrLineTooLong] and [ErrTooLarge], and [DotReader.Finish] reads on
//     to the real end so the session can reply (552) and go on.
//     Never use textproto.DotReader on the server side: it takes a bare
//     LF for a line end.
//   - [Decoder] parses a line with the grammar's own words, ExpectSP,
//     ExpectAtom, ExpectNumber, Quoted, End, and a sticky error, so a
//     handler reads like the ABNF (RFC 9051 section 9, RFC 3977
//     section 9), with a bound on every token.
//
// Durations follow the house rule: zero means the package default,
// negative means no limit.
package wire
