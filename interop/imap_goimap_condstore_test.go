package interop

import (
	"slices"
	"testing"

	goimap "github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// TestIMAPGoIMAPCondStore: go-imap v2's client against plumb serve for
// CONDSTORE (RFC 7162): SELECT (CONDSTORE), FETCH MODSEQ and
// CHANGEDSINCE, STORE UNCHANGEDSINCE, SEARCH MODSEQ, STATUS
// HIGHESTMODSEQ.
func TestIMAPGoIMAPCondStore(t *testing.T) {
	s := startIMAP(t)
	c, err := imapclient.DialInsecure(s.Addr(t, "imap"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login("alice", "alice-password").Wait(); err != nil {
		t.Fatalf("Login = %v", err)
	}
	if !c.Caps().Has(goimap.CapCondStore) {
		t.Fatal("capabilities lack CONDSTORE")
	}
	sel, err := c.Select("INBOX", &goimap.SelectOptions{CondStore: true}).Wait()
	if err != nil || sel.HighestModSeq == 0 {
		t.Fatalf("SELECT (CONDSTORE) = %+v, %v", sel, err)
	}
	before := sel.HighestModSeq
	all, err := c.Fetch(goimap.SeqSetNum(1, 2, 3), &goimap.FetchOptions{UID: true, ModSeq: true}).Collect()
	if err != nil || len(all) != 3 {
		t.Fatalf("FETCH 1:3 (UID MODSEQ) = %+v, %v", all, err)
	}
	for _, m := range all {
		if m.ModSeq == 0 || m.ModSeq > before {
			t.Errorf("message %d: MODSEQ %d, want 1..%d", m.SeqNum, m.ModSeq, before)
		}
	}
	// A STORE the message has not changed since goes through, with its new MODSEQ.
	st, err := c.Store(goimap.UIDSetNum(all[0].UID), &goimap.StoreFlags{Op: goimap.StoreFlagsAdd, Flags: []goimap.Flag{goimap.FlagFlagged}},
		&goimap.StoreOptions{UnchangedSince: all[0].ModSeq}).Collect()
	if err != nil || len(st) != 1 || st[0].ModSeq <= before || !slices.Contains(st[0].Flags, goimap.FlagFlagged) {
		t.Fatalf("UID STORE (UNCHANGEDSINCE) +FLAGS \\Flagged = %+v, %v", st, err)
	}
	after := st[0].ModSeq
	// One whose message changed since is refused for it ([MODIFIED]).
	if _, err := c.Store(goimap.UIDSetNum(all[0].UID), &goimap.StoreFlags{Op: goimap.StoreFlagsAdd, Flags: []goimap.Flag{goimap.FlagDeleted}},
		&goimap.StoreOptions{UnchangedSince: all[0].ModSeq}).Collect(); err != nil {
		t.Errorf("UID STORE (UNCHANGEDSINCE older) = %v, want OK [MODIFIED]", err)
	}
	changed, err := c.Fetch(goimap.SeqSetNum(1, 2, 3), &goimap.FetchOptions{Flags: true, ModSeq: true, ChangedSince: before}).Collect()
	if err != nil || len(changed) != 1 || changed[0].SeqNum != 1 || changed[0].ModSeq != after || slices.Contains(changed[0].Flags, goimap.FlagDeleted) {
		t.Errorf("FETCH 1:3 (FLAGS) (CHANGEDSINCE %d) = %+v, %v, want message 1 alone, MODSEQ %d, without \\Deleted", before, changed, err, after)
	}
	sd, err := c.UIDSearch(&goimap.SearchCriteria{ModSeq: &goimap.SearchCriteriaModSeq{ModSeq: after}}, nil).Wait()
	if err != nil || !slices.Equal(sd.AllUIDs(), []goimap.UID{all[0].UID}) || sd.ModSeq != after {
		t.Errorf("UID SEARCH MODSEQ %d = %+v, %v", after, sd, err)
	}
	if err := c.Unselect().Wait(); err != nil {
		t.Fatal(err)
	}
	status, err := c.Status("INBOX", &goimap.StatusOptions{HighestModSeq: true}).Wait()
	if err != nil || status.HighestModSeq != after {
		t.Errorf("STATUS INBOX (HIGHESTMODSEQ) = %+v, %v, want %d", status, err, after)
	}
	if err := c.Logout().Wait(); err != nil {
		t.Errorf("LOGOUT = %v", err)
	}
}
