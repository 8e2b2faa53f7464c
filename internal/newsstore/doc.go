// Package newsstore is the news spool behind plumb's NNTP service:
// newsgroups with their own article numbers, articles stored once
// however many groups they are posted to, a message-ID history that
// refuses an article again for [Store.HistoryKeep] after it expired,
// the overview data OVER and HDR answer from, and retention by age and
// by count per group.
//
// Layout under the store's directory:
//
//	articles/XX/<sha256 of the Message-ID>   one file per article, as received;
//	                                         Open puts the Xref header naming its numbers first
//	journal                                  one JSON record a line: groups, arrivals, expiries
//
// Durability: [Store.Add] writes the article's file atomically (temp,
// fsync, rename, directory fsync; concurrent arrivals do this in
// parallel), then numbers it and appends its journal record; arrivals
// at once share one journal fsync (group commit), after which they are
// applied and visible, and only then does Add return; a caller replies 240, 235
// or 239 after that, so an acknowledged article survives a crash. A
// journal line cut short by a crash was never acknowledged and is
// ignored when the store opens; an article file without a journal
// record is removed then. Open replays the journal into memory and
// rewrites it compacted.
package newsstore
