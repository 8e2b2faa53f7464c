// Package sasl is SASL (RFC 4422) for plumb's line protocols: the
// server and client sides of PLAIN (RFC 4616) and LOGIN
// (draft-murchison-sasl-login). SMTP AUTH (RFC 4954) and POP3 AUTH
// (RFC 5034) drive the same mechanisms from their own framing, as a
// future IMAP AUTHENTICATE or NNTP AUTHINFO SASL can. The package is
// public so that a backend outside plumb can offer SMTP AUTH
// (smtp.AuthSession returns a [Server]).
//
// A server mechanism is a [Server]: raw response bytes in, raw challenge
// bytes out, until done or an error. The framing is the protocol's: it
// decodes an initial response from its command line with
// [DecodeInitialResponse] (where "=" means an empty response), then
// either steps the mechanism itself or lets [Run] do it, giving Run a
// function that writes one challenge after the protocol's continuation
// marker ("334 ", "+ ", "383 ") and one that reads the client's next
// line. Run enforces the limits ([MaxResponseLen], [MaxSteps]), maps a
// client's "*" to [ErrCanceled] and malformed input to [ErrMalformed];
// an error from the authenticate callback is returned unchanged, so the
// protocol maps its own backend errors as it always does.
//
// The PLAIN server refuses an authorization identity that differs from
// the authentication identity (no proxy authorization), so the callback
// sees identity "" or equal to the user.
//
// A client mechanism is a [Client] (the interface of
// github.com/emersion/go-sasl, so either package's clients fit). A
// client must not send PLAIN or LOGIN over a connection that is neither
// TLS nor loopback; [PlaintextAllowed] tells, and servers use it too to
// refuse plaintext AUTH without TLS off loopback.
//
// Not implemented: security layers (neither mechanism has one),
// CRAM-MD5, SCRAM, EXTERNAL, OAUTHBEARER.
package sasl
