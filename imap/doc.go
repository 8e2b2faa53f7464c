// Package imap is an IMAP server: IMAP4rev1 (RFC 3501) and IMAP4rev2
// (RFC 9051, honoured after ENABLE IMAP4rev2), on a small Backend that
// plumb's daemon adapts to its Maildir store.
//
// Commands: CAPABILITY, NOOP, LOGOUT, STARTTLS, AUTHENTICATE (PLAIN,
// LOGIN, with SASL-IR, RFC 4959), LOGIN, SELECT, EXAMINE, CREATE,
// DELETE, RENAME, SUBSCRIBE, UNSUBSCRIBE, LIST (LIST-EXTENDED, RFC
// 5258, selection SUBSCRIBED, SPECIAL-USE, RECURSIVEMATCH; return
// SUBSCRIBED, CHILDREN, SPECIAL-USE, STATUS), LSUB, STATUS, APPEND,
// CHECK, CLOSE, UNSELECT (RFC 3691), EXPUNGE, SEARCH, FETCH, STORE,
// COPY, MOVE (RFC 6851), the UID forms (UID EXPUNGE, RFC 4315), IDLE
// (RFC 2177), ENABLE (RFC 5161), ID (RFC 2971), NAMESPACE (RFC 2342),
// GETQUOTA and GETQUOTAROOT (RFC 9208).
//
// Extensions advertised: LITERAL+ (RFC 7888), SASL-IR, UIDPLUS
// (APPENDUID, COPYUID), MOVE, CHILDREN (RFC 3348), SPECIAL-USE (RFC
// 6154), LIST-STATUS (RFC 5819), ESEARCH (RFC 4731: SEARCH RETURN),
// SEARCHRES (RFC 5182: SAVE and $), APPENDLIMIT (RFC 7889), STATUS=SIZE,
// UTF8=ACCEPT, CONDSTORE and QRESYNC (RFC 7162), QUOTA when the backend has one. LOGINDISABLED is
// advertised, and LOGIN and AUTHENTICATE refused, without TLS off
// loopback.
//
// The session keeps its own view of the selected mailbox (message
// sequence number n is the n-th message it told the client of); it
// asks the backend what changed at the points RFC 9051 section 7.5.1
// allows and sends EXPUNGE, EXISTS and FETCH FLAGS then, never EXPUNGE
// during FETCH, STORE or SEARCH, so sequence numbers never go out of
// step. A Mailbox signals changes on its Updates channel; IDLE wakes on
// it at once. The view is the backend's listing itself, which sessions
// on one mailbox may share (SnapshotLister), until the session must
// keep one of its own (a message gone that it may not yet report); it
// keeps \Recent apart, as runs of UIDs. A session in IDLE lends its
// read and write buffers back and holds small ones.
//
// Limits: a command line is bounded (Server.MaxLineLength), as are a
// string literal (MaxStringLiteral), all of one command's literals held
// in memory (MaxCommandMemory), an APPEND (MaxLiteralSize), nesting of
// parentheses (MaxNesting) and a sequence set (MaxSeqRanges). Commands
// run one at a time per session: a pipelined command waits unread in
// the socket buffer, so the commands in flight are one.
//
// Not implemented: MULTIAPPEND, the
// COMPRESS, NOTIFY, METADATA, SORT and THREAD extensions; searches on
// charsets other than UTF-8 and US-ASCII answer [BADCHARSET].
package imap
