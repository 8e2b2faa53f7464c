package interop

import (
	"bytes"
	"net"
	"strings"
	"testing"
	"time"

	goimap "github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// TestIMAPGoIMAPClient: emersion/go-imap v2's client against plumb
// serve, for the extensions imaplib lacks: ESEARCH, SEARCHRES,
// LIST-STATUS, SPECIAL-USE, MOVE, UIDPLUS, IMAP4rev2, IDLE.
func TestIMAPGoIMAPClient(t *testing.T) {
	s := startIMAP(t)
	exists := make(chan uint32, 8)
	fetched := make(chan *imapclient.FetchMessageBuffer, 8)
	conn, err := net.Dial("tcp", s.Addr(t, "imap"))
	if err != nil {
		t.Fatal(err)
	}
	c := imapclient.New(saveConn{conn}, &imapclient.Options{
		UnilateralDataHandler: &imapclient.UnilateralDataHandler{
			// This client matches a FETCH response to a UID FETCH by
			// its UID set, which for $ is empty: FETCH $'s answers
			// come here.
			Fetch: func(m *imapclient.FetchMessageData) {
				if b, err := m.Collect(); err == nil {
					fetched <- b
				}
			},
			Mailbox: func(d *imapclient.UnilateralDataMailbox) {
				if d.NumMessages != nil {
					exists <- *d.NumMessages
				}
			},
		},
	})
	defer c.Close()
	if err := c.Login("alice", "alice-password").Wait(); err != nil {
		t.Fatalf("Login = %v", err)
	}
	caps := c.Caps()
	for _, cp := range []goimap.Cap{goimap.CapIMAP4rev2, goimap.CapESearch, goimap.CapListStatus, goimap.CapMove, goimap.CapUIDPlus, goimap.CapSpecialUse, goimap.CapIdle} {
		if !caps.Has(cp) {
			t.Errorf("capabilities lack %s", cp)
		}
	}
	if _, err := c.Enable(goimap.CapIMAP4rev2).Wait(); err != nil {
		t.Fatalf("ENABLE IMAP4rev2 = %v", err)
	}
	list, err := c.List("", "*", &goimap.ListOptions{ReturnStatus: &goimap.StatusOptions{NumMessages: true, NumUnseen: true, UIDNext: true}, ReturnSpecialUse: true}).Collect()
	if err != nil {
		t.Fatalf("LIST RETURN (STATUS) = %v", err)
	}
	found := map[string]*goimap.ListData{}
	for _, l := range list {
		found[l.Mailbox] = l
	}
	if in := found["INBOX"]; in == nil || in.Status == nil || in.Status.NumMessages == nil || *in.Status.NumMessages != uint32(len(imapMessages)) {
		t.Errorf("LIST-STATUS INBOX = %+v", in)
	}
	if sent := found["Sent"]; sent == nil || len(sent.Attrs) == 0 || !strings.Contains(string(sent.Attrs[0]), "Sent") {
		t.Errorf("LIST Sent = %+v, want \\Sent", sent)
	}
	sel, err := c.Select("INBOX", nil).Wait()
	if err != nil || sel.NumMessages != uint32(len(imapMessages)) {
		t.Fatalf("SELECT = %+v, %v", sel, err)
	}
	sd, err := c.UIDSearch(&goimap.SearchCriteria{Header: []goimap.SearchCriteriaHeaderField{{Key: "Subject", Value: "l"}}},
		&goimap.SearchOptions{ReturnMin: true, ReturnMax: true, ReturnCount: true, ReturnAll: true}).Wait()
	if err != nil || sd.Count != 2 || sd.Min != 1 || sd.Max != 2 {
		t.Errorf("UID SEARCH RETURN (MIN MAX COUNT ALL) SUBJECT l = %+v, %v", sd, err)
	}
	// saveConn puts back the SAVE this client leaves out of RETURN.
	if sd, err := c.Search(&goimap.SearchCriteria{Body: []string{"sandwiches"}}, &goimap.SearchOptions{ReturnAll: true, ReturnSave: true}).Wait(); err != nil || sd.AllSeqNums() == nil || len(sd.AllSeqNums()) != 1 || sd.AllSeqNums()[0] != 2 {
		t.Fatalf("SEARCH RETURN (SAVE ALL) BODY sandwiches = %+v, %v", sd, err)
	}
	msgs, err := c.Fetch(goimap.SearchRes(), &goimap.FetchOptions{UID: true, Envelope: true, BodyStructure: &goimap.FetchItemBodyStructure{Extended: true}}).Collect()
	if err == nil && len(msgs) == 0 {
		select {
		case m := <-fetched:
			msgs = append(msgs, m)
		case <-time.After(5 * time.Second):
		}
	}
	if len(fetched) > 0 {
		t.Errorf("FETCH $ answered more than one message")
	}
	if err != nil || len(msgs) != 1 || msgs[0].UID != 2 || msgs[0].Envelope.Subject != "lunch" {
		t.Fatalf("FETCH $ = %+v, %v", msgs, err)
	}
	msgs, err = c.Fetch(goimap.SeqSetNum(1), &goimap.FetchOptions{BodyStructure: &goimap.FetchItemBodyStructure{Extended: true},
		BodySection: []*goimap.FetchItemBodySection{{Part: []int{1}, Partial: &goimap.SectionPartial{Offset: 4, Size: 9}}}}).Collect()
	if err != nil || len(msgs) != 1 {
		t.Fatalf("FETCH 1 BODYSTRUCTURE = %v", err)
	}
	mp, ok := msgs[0].BodyStructure.(*goimap.BodyStructureMultiPart)
	if !ok || len(mp.Children) != 2 || mp.Subtype != "mixed" || mp.Children[1].MediaType() != "application/pdf" {
		t.Errorf("BODYSTRUCTURE = %#v", msgs[0].BodyStructure)
	}
	if len(msgs[0].BodySection) != 1 || string(msgs[0].BodySection[0].Bytes) != "quarterly" {
		t.Errorf("BODY[1]<4.9> = %+v", msgs[0].BodySection)
	}
	md, err := c.Move(goimap.UIDSetNum(3), "Archive").Wait()
	if err != nil || md.UIDValidity == 0 || md.DestUIDs.String() != "1" {
		t.Errorf("UID MOVE = %+v, %v", md, err)
	}
	ap := c.Append("INBOX", 23, &goimap.AppendOptions{Flags: []goimap.Flag{goimap.FlagSeen}, Time: time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)})
	ap.Write([]byte("Subject: a\r\n\r\nappended"))
	ap.Close()
	if ad, err := ap.Wait(); err != nil || ad.UID != 4 {
		t.Errorf("APPEND = %+v, %v", ad, err)
	}
	// The APPEND's EXISTS may come with the APPEND or at the NOOP.
	if err := c.Noop().Wait(); err != nil {
		t.Fatal(err)
	}
	for len(exists) > 0 {
		<-exists
	}
	idle, err := c.Idle()
	if err != nil {
		t.Fatalf("IDLE = %v", err)
	}
	shost := s.Addr(t, "smtp")
	smtplib(t, shost, smtplibJob{From: "carol@example.org", To: []string{"alice@localhost"}}, []byte("Subject: idle\r\n\r\nx\r\n"))
	select {
	case n := <-exists:
		if n != 4 {
			t.Errorf("EXISTS in IDLE = %d, want 4", n)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no EXISTS in IDLE within 5s of an SMTP delivery")
	}
	if err := idle.Close(); err != nil {
		t.Fatal(err)
	}
	if err := idle.Wait(); err != nil {
		t.Errorf("IDLE ended with %v", err)
	}
	st, err := c.Status("Archive", &goimap.StatusOptions{NumMessages: true, Size: true, AppendLimit: true}).Wait()
	if err != nil || st.NumMessages == nil || *st.NumMessages != 1 || st.Size == nil || *st.Size == 0 {
		t.Errorf("STATUS Archive = %+v, %v", st, err)
	}
	if err := c.Logout().Wait(); err != nil {
		t.Errorf("LOGOUT = %v", err)
	}
}

// saveConn adds the SAVE result option to a SEARCH RETURN (ALL): go-imap
// v2.0.0-beta.8's client accepts SearchOptions.ReturnSave but never
// sends it (its returnSearchOptions has no "SAVE"), so without this the
// test could not reach SEARCHRES through this client at all.
type saveConn struct{ net.Conn }

func (c saveConn) Write(b []byte) (int, error) {
	if i := bytes.Index(b, []byte(" SEARCH RETURN (ALL) ")); i >= 0 {
		fixed := append(append(append([]byte{}, b[:i]...), " SEARCH RETURN (SAVE ALL) "...), b[i+len(" SEARCH RETURN (ALL) "):]...)
		if _, err := c.Conn.Write(fixed); err != nil {
			return 0, err
		}
		return len(b), nil
	}
	return c.Conn.Write(b)
}
