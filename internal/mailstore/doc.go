// Package mailstore holds every account's mail as Maildirs (with
// Maildir++ subfolders) under one directory: the store behind SMTP
// delivery and POP3, with the folders, flags and UIDs that IMAP will
// need.
//
// Layout: dir/<user>/ is the user's Maildir (cur/, new/, tmp/) and its
// inbox; a folder "Sent" is dir/<user>/.Sent/, and "Archive/2024" is
// dir/<user>/.Archive.2024/ (Maildir++: "/" in a folder name is "." on
// disk, so a folder name may not contain "."). Files other tools read
// (mutt, Dovecot) are what is written; message bytes are stored as they
// were delivered (the protocol that reads them converts line ends).
//
// Delivery is the Maildir way: the message is written to tmp/, fsynced,
// moved into new/ under a name that carries its size (",S=") and its
// wire size (",W=": CRLF line ends, ending with CRLF), and the new/
// directory is fsynced before Deliver returns. Flags live in the file
// name per the Maildir convention (":2,DFPRST", letters sorted).
//
// A delivery to several users is all or nothing, so that a sender
// retrying after a temporary failure never duplicates the message: the
// one written file is first hard-linked into every recipient's tmp/,
// and only when every link exists are they renamed into new/; if
// anything fails on the way (a link, a rename, an fsync, a UID), every
// copy made so far is removed again. Only a quota refuses one recipient
// without failing the others (see [Store.DeliverMany]).
//
// Files a crash leaves in tmp/ are removed when they are older than 36
// hours (the Maildir rule), the first time a [Store] uses the folder.
//
// Each folder keeps a UID list, the file plumb-uidlist, with the
// folder's UIDVALIDITY and next UID, as IMAP (RFC 3501 §2.3.1.1) and
// POP3 UIDL (RFC 1939 §7) need. Files added behind plumb's back get new
// UIDs when the folder is next listed, and files that vanished are
// dropped from the list. A new entry is appended to the list and the
// list fsynced before its UID is returned or listed, so a UID once shown
// to a client names the same message after a crash; any rewrite of the
// list is atomic (temporary file, fsync, rename, fsync of the folder). The list is guarded by flock
// on plumb-uidlist.lock, so several processes may share a store.
//
// A folder's last settled listing is also kept in the file
// plumb-listing beside the UID list, with the stamps of new/, cur/ and
// the UID list it was taken at: a restarted process's first exact
// listing of the folder reads that one file instead of the directories
// while all three stamps are unchanged. It is a cache (temporary file
// and rename, no fsync, a checksum): a missing, stale or damaged one
// costs only the normal listing, and is written again in the
// background once the directories have settled, or by [Store.Close].
//
// Listings are shared: every handle on a folder gets the same snapshot
// ([Mailbox.Snapshot]; [Mailbox.Messages] returns a copy of it), which
// the store's own changes patch (a delivery appends, a flag change or a
// deletion is read again from where the file now is) rather than the
// directories being read again. An exact listing reads them again when
// new/, cur/ or the UID list changed, or changed too shortly before the
// last listing for its stamps to be trusted. Watched folders ([Store.Watch])
// are looked at every second for changes made behind the store (two
// stats a folder), which are signaled like the store's own; a folder
// whose stamps moved is read without holding it, so no delivery waits
// for that, and one that only the store's own changes moved is read
// once they are a second old, not every second while they go on (every
// ten seconds). Flag changes are renames that [Mailbox.SyncFlags] makes
// durable, once for many.
//
// Beside the UID list, plumb-index caches what readers computed of each
// message (sizes, internal dates, IMAP structures) and numbers its flag
// changes (IMAP's mod-sequences), one JSON line a message.
//
// Store.Lock takes a folder exclusively (POP3's maildrop lock, RFC 1939
// §8), with flock on plumb-pop3.lock, which the kernel releases when a
// process dies.
//
// Quotas: Store.Quota gives each user's limit in bytes over all folders.
// A delivery that would exceed it fails with a *QuotaError that matches
// ErrQuotaExceeded; QuotaError.Permanent reports whether the message
// alone is larger than the quota (SMTP: 552 5.2.2) rather than the
// mailbox being full (SMTP: 452 4.2.2, try later).
package mailstore
