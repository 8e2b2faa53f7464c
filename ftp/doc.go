// Package ftp is an FTP client and server: the control connection of
// RFC 959 with its data connections, secured with TLS (FTPS).
//
// The server implements:
//
//   - RFC 959: USER PASS ACCT CWD CDUP QUIT PORT PASV TYPE (A N, I, L 8,
//     with CRLF conversion in ASCII) STRU F MODE S RETR STOR STOU APPE
//     REST RNFR RNTO ABOR DELE RMD MKD PWD LIST NLST SITE (CHMOD, UTIME, HELP)
//     SYST STAT (with and without a path, and during a transfer) HELP
//     NOOP, and the X-variants XCWD XCUP XMKD XRMD XPWD of RFC 1123;
//   - RFC 2389: FEAT, OPTS;
//   - RFC 2428: EPRT, EPSV (and EPSV ALL), IPv6;
//   - RFC 3659: SIZE, MDTM, MLST, MLSD, REST STREAM, TVFS;
//   - draft-somers-ftp-mfxx: MFMT, and SITE UTIME in its two forms, to
//     set a file's modification time (an FS that is a ModTimeSetter);
//   - RFC 2640: UTF-8 path names (OPTS UTF8 ON); names are bytes and are
//     sent as stored;
//   - RFC 2228 and 4217: AUTH TLS, PBSZ, PROT C/P (CCC is refused), and
//     implicit FTPS (Server.ServeTLS, the port 990 convention: a
//     connection is TLS exactly when the listener hands over a *tls.Conn);
//   - RFC 7151: HOST.
//
// The verbs are dispatched from a table that says which need a login
// and which run while a transfer goes on (ABOR, STAT, NOOP); the others
// wait for the transfer to end. Security measures: passive ports come at
// random from a configured range and accept one connection, only from
// the control connection's IP; PORT and EPRT to another host or to a
// privileged port are refused (RFC 2577, the bounce attack); under PROT
// P a data connection must resume the control connection's TLS session
// (checked with a mark of the control connection's channel binding in
// its session tickets); logins in the clear are refused except on
// loopback unless configured; a session is closed after a few failed
// logins (slowing repeated failures across sessions is the Backend's
// job); over-long command lines are refused without ending the session,
// and a line must arrive whole within LineTimeout (slowloris); an
// internal error's text never reaches the client. Server.AdmitDataConn
// lets the program put data connections under its own connection limits.
// The accept loop and Shutdown are internal/lifecycle's, the command
// reader internal/wire's, as in every protocol package of plumb.
//
// RETR of a file on a plain data connection uses sendfile(2); uploads
// go to the Backend's Upload, committed only when the transfer
// completed. A Backend adapts any storage; MemoryBackend and MemoryFS keep
// everything in memory for tests and examples.
//
// The [Client] connects with [Dial], [DialTLS] (implicit FTPS), a
// [Dialer] (timeout, TLS config, active mode, EPSV) or [NewClient], and
// upgrades with [Client.AuthTLS]. Its methods take no context: each
// wait (a reply, a pause of a transfer) is bounded by the Dialer's
// Timeout, and Close aborts whatever is in progress. Every argument is
// checked for CR, LF and NUL ([ErrBadArgument]), replies are read with a
// bound on every line, and Login sends no password in the clear off
// loopback ([ErrPlaintext]) unless [Client.InsecureAuth].
//
// Not implemented: MODE B and C, STRU R and P, TYPE E and L other than
// 8, ACCT accounting, REIN, the RFC 2228 security mechanisms other than
// TLS, and MFF/MFCT.
package ftp
