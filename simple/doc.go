// Package simple implements the small services of the early Internet,
// server and client, over TCP and UDP:
//
//   - echo (RFC 862): every byte received is sent back;
//   - discard (RFC 863): every byte received is thrown away;
//   - chargen (RFC 864): the rotating 72-character lines of the 95
//     printable ASCII characters, forever over TCP, and a reply of 1 to
//     512 characters to each datagram over UDP;
//   - qotd (RFC 865): a short quotation, under 512 characters;
//   - daytime (RFC 867): the date and time as a human-readable line;
//   - time (RFC 868): the time as 32-bit big-endian seconds since
//     1900-01-01 00:00 UTC.
//
// A [Server] speaks one of them; it has net/http's shape
// ([Server.Serve], [Server.Shutdown], [Server.Close]) for TCP and
// [Server.ServePacket] for UDP. A [Client] asks them over TCP or UDP
// ([Client.Echo], [Client.Daytime], [Client.Time], [Client.QOTD],
// [Client.Chargen], [Client.Discard]); an [EchoClient] makes repeated
// echo round trips on one connection without allocating. Every Client
// call takes a context and is one exchange on a connection of its own,
// so the package has no Dial or NewClient; for echo's repeated
// exchanges, [Client.DialEcho] dials an [EchoClient] and [NewEchoClient]
// takes an open connection. Replies are
// read with a bound ([ReplyError] past 64 KiB), and an address holding
// CR, LF or NUL is refused with [ErrBadArgument].
//
// Quotation files for qotd are parsed by [ParseQuotes]: quotations are
// separated by blank lines or by lines holding only "%" (the fortune(6)
// format).
//
// Deliberate choices beyond the RFCs:
//
//   - Backpressure instead of buffering: a connection to a peer that does
//     not read blocks in its write, holding one fixed buffer, until the
//     idle timeout closes it.
//   - Echo and discard start each connection with a small buffer and
//     grow it only when the peer sends more than it holds, so idle
//     connections are cheap.
//   - UDP amplification is bounded: no UDP reply is longer than 512
//     bytes except echo's, which is the request itself; datagrams from
//     source port 0 or from the ports of these services (7, 9, 13, 17,
//     19, 37 and the same plus 10000) are ignored, so two servers cannot
//     be made to answer each other forever.
//   - The time protocol's 32-bit counter wraps in February 2036;
//     [DecodeTime] reads values below 2^31 as the era after the wrap,
//     so it covers 1968 to 2104.
package simple
