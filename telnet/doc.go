// Package telnet is a telnet client and server (RFC 854, 855), with
// option negotiation by the Q method of RFC 1143 ([Negotiator], a
// table of transitions that cannot loop) and these options:
//
//   - ECHO (RFC 857) and SUPPRESS-GO-AHEAD (RFC 858): the server echoes
//     and runs character at a time, as every modern host does;
//   - TERMINAL-TYPE (RFC 1091): the client's type becomes the program's
//     TERM;
//   - NAWS (RFC 1073): the client's window size becomes the
//     pseudo-terminal's, and changes reach the program as SIGWINCH;
//   - NEW-ENVIRON (RFC 1572): variables the server allows (LANG, LC_*,
//     TZ by default) reach the program's environment.
//
// Everything else is refused, LINEMODE (RFC 1184) and BINARY (RFC 856)
// included: the server's pseudo-terminal does the line editing, and the
// stream stays NVT, where CR is sent as CR NUL or CR LF.
//
// The [Server] asks for a login, checks it with its [Backend], and runs
// the [Program] the backend chooses on a new pseudo-terminal: the
// program sits on the slave side ([Terminal.TTY]), so the kernel's line
// discipline (echo, erase, ^C, CR to NL) applies as it does for
// telnetd and login(1). [Command] runs an executable there. Logins from
// off loopback are refused without TLS unless the server is told
// otherwise; implicit TLS (telnets, port 992) is a listener whose
// connections are *tls.Conn.
//
// The [Client] answers negotiation as it reads ([Client.Read]), sends
// its terminal type, window size ([Client.SetWindowSize]) and
// environment when the server asks, and can send BRK, IP and AYT.
//
// Limits: a subnegotiation's parameters ([Parser.MaxSubnegotiation]),
// the login's line length, the time to log in, and the idle time.
// Left out: the AUTHENTICATION and ENCRYPT options (TLS does their
// job), TIMING-MARK, STATUS, the old ENVIRON option, and urgent data
// (the Synch signal's DM is read as a no-op).
package telnet
