// Package finger is a finger server and client (RFC 1288, the Finger
// User Information Protocol, port 79).
//
// A query is one line, [Query]: "/W" asks for the long form, a user
// name asks about that user, nothing asks who is logged in, and
// "@host" parts ask the server to forward the query. [ParseQuery] and
// [Query.String] read and write it; they round-trip.
//
// The [Server] is shaped like net/http's. It reads one query line,
// bounded in length ([Server.MaxLineLength]) and in time (the line must
// start within [Server.IdleTimeout] and end within [Server.LineTimeout]),
// answers it, and closes. A [Backend] describes a user as an [Entry];
// the server formats it, leaving out what the backend left out, so a
// backend chooses what each field exposes. An unknown user and one the
// backend hides ([ErrNoSuchUser]) get the same answer. Safe defaults:
// the empty query is refused unless [Server.ListUsers] is set (and the
// backend is a [Lister]), and forwarding is refused unless
// [Server.Forward] is set, and then limited to one hop within
// [Server.ForwardTimeout]. Everything the server sends, relayed answers
// included, passes through [Harmless]: no control character a user put
// in a .plan reaches the client's terminal. [MemoryBackend] keeps
// entries in memory for tests and examples.
//
// The [Client] (or [Finger], or a [Dialer]) sends a query and reads the
// answer to the end of the stream, bounded in size ([ErrTooLarge]) and
// in time; it refuses queries with control characters
// ([ErrBadArgument]). It returns the bytes the server sent: a caller
// showing them on a terminal passes them through [Harmless].
//
// Not implemented: RFC 1288's vending-machine interface, any query with
// more than one user name (BSD fingerd's "finger a b"), and TLS (finger
// has none).
package finger
