// Package accounts is the one user database every plumb service
// authenticates against: FTP, SMTP submission and POP3 all call
// [DB.Authenticate] (POP3 APOP [DB.VerifyAPOP]), and so will every
// protocol added later.
//
// # The file
//
// Accounts live in one TOML file in the data directory; plumb serve
// opens <data>/accounts.toml ([FileName]). It is a list of [[user]]
// tables:
//
//	[[user]]
//	name = "alice"
//	hash = "$2a$10$..."          # bcrypt (golang.org/x/crypto/bcrypt)
//	apop_secret = "..."          # optional, see below
//	full_name = "Alice Liddell"  # optional, shown by finger
//	created = 2025-01-02T03:04:05Z
//
// Every change is written atomically (a temporary file in the same
// directory, fsync, rename, fsync of the directory) with mode 0600,
// under an advisory lock on accounts.toml.lock beside it, so that two
// processes changing accounts (two `plumb user` commands, or one and the
// daemon's first-start account) do not lose each other's writes. A running [DB] notices a change made
// by another process (another plumb, or an editor) the next time it is
// asked anything: it compares the file's modification time, size and
// identity with what it last read, one stat per call, and rereads the
// file only when they differ. A file that fails to parse is reported
// and the previous accounts stay in force.
//
// # Names and homes
//
// A user name is 1 to 64 characters of lowercase ASCII letters, digits,
// '.', '_' and '-', starting with a letter or a digit, with no "..":
// it is safe as a single path element, a Maildir name and the local
// part of a mail address (no '+', which SMTP uses for sub-addressing).
// Names are matched without regard to ASCII case. A user's home, used by
// the file tree and the mail store, is the user name.
//
// Passwords are 1 to 72 bytes (bcrypt's limit; longer ones are refused,
// not silently truncated) and contain no control characters, so that
// they can be typed in every line protocol and SASL PLAIN.
//
// # Verification and throttling
//
// [DB.Authenticate] runs one bcrypt comparison whether or not the user
// exists (an unknown or malformed name is compared against a dummy hash
// of the same cost), so its timing does not reveal which names exist.
//
// Attempts are throttled per client address (an IPv4 address, or the
// /64 of an IPv6 address). Attempts from one address are serialised:
// one check is in flight at a time, the others wait their turn, so
// opening many connections at once does not multiply the rate, not
// even before the first failures are counted. After [Throttle.Failures]
// failures (5 by default) every further attempt from that address,
// right or wrong, also waits [Throttle.Delay] (1s) when its turn comes,
// doubling with each further failure up to [Throttle.MaxDelay] (30s);
// n guesses sent at once are therefore checked one after another, at
// least the sum of their delays apart, and a right password among them
// is answered only in its turn. The count is forgotten
// [Throttle.Window] (15m) after the last failure; a success does not
// reset it, so a valid account cannot be used to launder guesses at
// another. The waits honour the caller's context.
//
// # First start
//
// [DB.EnsureFirstUser] makes zero-config start possible: when the file
// holds no account at all, it creates one with a random password of
// four groups of four letters and digits ("kx7m-q2vd-9fhp-tr4w", about
// 79 bits, no look-alike characters). The caller prints that password
// once; it is stored only as a hash and cannot be shown again (change
// it with `plumb user passwd`).
//
// # APOP
//
// POP3 APOP (RFC 1939 section 7) proves knowledge of a shared secret
// with an MD5 digest, so the server needs the secret in plain text,
// which a bcrypt hash cannot give. plumb therefore refuses APOP for a
// user unless a separate per-user APOP secret has been set (`plumb user
// passwd NAME --apop`). That secret is stored as given, readable by
// anyone who can read the account file (which is why the file is 0600):
// it should differ from the login password, and it grants nothing but
// APOP. [DB.VerifyAPOP] checks a digest in constant time under the same
// throttle as passwords; [DB.APOPSecret] hands out the secret for
// servers that compute the digest themselves.
package accounts
