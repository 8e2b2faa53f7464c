package imap

import "slices"

// The session's \Recent (IMAP4rev1) is what the backend said of a
// message when the session first saw it, kept by the session itself,
// since the listing it holds may be the backend's, shared with other
// sessions, in which the message stops being recent as soon as any
// reader has seen it. recentRun is a run of the view, by UID from lo to
// hi, every message of which was recent when first seen: a run per
// stretch of new mail, a few bytes however large the mailbox.
type recentRun struct{ lo, hi uint32 }

// noteRecent records the recent messages of msgs, which the session
// sees for the first time, all above every UID it saw before.
func (s *selected) noteRecent(msgs []MessageInfo) {
	open := false // the last run ends at the message before
	for _, m := range msgs {
		switch {
		case !m.Recent:
			open = false
		case open:
			s.recent[len(s.recent)-1].hi = m.UID
		default:
			s.recent = append(s.recent, recentRun{m.UID, m.UID})
			open = true
		}
	}
}

// isRecent reports whether message uid was recent when the session first saw it.
func (s *selected) isRecent(uid uint32) bool {
	_, found := slices.BinarySearchFunc(s.recent, uid, func(r recentRun, u uint32) int {
		switch {
		case r.hi < u:
			return -1
		case r.lo > u:
			return 1
		}
		return 0
	})
	return found
}

// countRecent is the number of recent messages in the view.
func (s *selected) countRecent() int {
	n := 0
	for _, r := range s.recent {
		lo, _ := slices.BinarySearchFunc(s.msgs, r.lo, byUID)
		hi, found := slices.BinarySearchFunc(s.msgs, r.hi, byUID)
		if found {
			hi++
		}
		n += hi - lo
	}
	return n
}
