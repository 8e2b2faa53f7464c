// Package plumbtest starts plumb's servers inside a Go test, in the
// style of net/http/httptest: real SMTP, POP3, IMAP, FTP, HTTP, NNTP
// (and every other service of plumb serve) on free loopback ports, over
// one temporary data directory and one set of accounts, stopped when
// the test ends.
//
//	func TestPasswordReset(t *testing.T) {
//		srv := plumbtest.NewServer(t) // smtp, pop3, imap, ftp, http; user alice
//		app := myapp.New(myapp.Config{SMTP: srv.Addr("smtp")})
//		app.SendPasswordReset("alice@localhost")
//
//		msg, err := srv.Mail("alice").WaitFor(ctx, plumbtest.Match{Subject: "Reset"})
//		...
//	}
//
// It is the daemon itself (the same config, stores and services as
// plumb serve), not a mock: what a test sees is what a user of plumb
// serve would. Every service listens on 127.0.0.1 at a port the kernel
// picks, so servers in parallel tests, or two in one test, never
// collide; [Server.Addr] tells where each one listens.
//
// # What runs
//
// [With] names the services, by their config section: "smtp" (with its
// "submission" and "submissions" listeners), "pop3" ("pop3s"), "imap"
// ("imaps"), "ftp" ("ftps"), "http" ("https", with XML-RPC and WebDAV),
// "nntp" ("nntps"), "gopher", "finger", "telnet", the small services
// "echo", "discard", "daytime", "qotd", "chargen", "time", and "admin",
// the daemon's admin listener. Without With, a server runs
// [DefaultServices]: smtp, pop3, imap, ftp and http.
//
// # Accounts
//
// [User] adds an account; without one, a server has [DefaultUser] with
// [DefaultPassword]. [Server.AddUser] adds one to a running server. Mail for user@localhost, user@example.com,
// user@example.org and user@example.net (the domains RFC 2606 keeps for
// examples) is delivered to that user; [CatchAll] sends every
// recipient, of any domain, to one account instead. Mail to other
// domains is queued for a smarthost that does not exist, so nothing a
// test sends leaves the machine. The "smtp" listener offers no
// STARTTLS, since net/smtp.SendMail, offered it, insists on verifying
// the certificate; "submission" offers it, and "submissions" is TLS.
// [Config] sets anything else in plumb serve's config format.
//
// # TLS
//
// The TLS listeners and STARTTLS use a throwaway self-signed
// certificate made in the data directory; [Server.TLSConfig],
// [Server.CertPool] and [Server.Client] give clients that trust it.
//
// # Looking inside
//
// [Server.Mail] is an account's mail as the store holds it:
// [Mailbox.Messages], [Mailbox.Deliver] (straight into the store, as if
// SMTP had delivered it) and [Mailbox.WaitFor], which is woken by the
// store's own change notification, so a test never polls or sleeps.
// [Server.Files] and [Server.Home] are the shared file tree that FTP,
// HTTP and gopher serve. [Server.News] posts to and reads the "nntp"
// service's groups ([Group] makes them; without one there is
// [DefaultGroup]).
//
// The daemon's log is kept and written to the test's log when the test
// fails.
package plumbtest
