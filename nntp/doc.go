// Package nntp is an NNTP server and client: the Network News Transfer
// Protocol (RFC 3977) for readers and for transit, with STARTTLS
// (RFC 4642), AUTHINFO USER/PASS and SASL PLAIN and LOGIN (RFC 4643),
// streaming feeds with MODE STREAM, CHECK and TAKETHIS (RFC 4644) and
// COMPRESS DEFLATE (RFC 8054); the XOVER, XHDR and XPAT forms older
// readers send are answered too.
//
// The [Server] is shaped like net/http's: it serves listeners it is
// given, and a [Backend] holds the groups and articles. The server
// checks what is posted before the backend sees it (POST: From,
// Subject and Newsgroups required, Message-ID, Date and Path added;
// IHAVE and TAKETHIS: every header RFC 5536 requires, the announced
// Message-ID, no loop through this server in the Path), bounds it by
// [Server.MaxArticleSize], and reads it with a strict end-of-article
// reader that takes only CRLF.CRLF for the end. Posting needs
// authentication unless [Server.AnonymousPost]; reading does not
// unless [Server.ReadAuth]; feeds come from [Server.FeedFrom] or an
// authenticated peer. A forged Approved header (a moderated group, a
// user who is not among its [Group.Moderators]) is refused with 441,
// and [Server.PostsPerMinute] bounds the POSTs of one IP address.
// [MemoryBackend] keeps news in memory for tests and examples.
//
// The [Client] speaks every command above, streams multi-line
// responses, upgrades with STARTTLS or dials implicit TLS (NNTPS, port
// 563), and returns refusals as [*Error]. Every method takes a context
// whose deadline and cancellation bound the exchange.
//
// Not implemented: the AUTHINFO GENERIC and SASL mechanisms other than
// PLAIN and LOGIN, LIST MOTD, LIST SUBSCRIPTIONS and LIST COUNTS (INN
// extensions), and wildmat character classes.
package nntp
