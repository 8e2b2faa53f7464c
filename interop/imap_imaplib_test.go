package interop

import (
	"context"
	"encoding/json"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/plumbnet/plumb/internal/mailstore"
)

// imapConfig runs IMAP, IMAPS and SMTP (for deliveries) on free ports.
const imapConfig = `
[smtp]
addr = "127.0.0.1:0"
[smtp.submission]
enabled = false
[smtp.submissions]
enabled = false
[pop3]
enabled = false
[pop3.pop3s]
enabled = false
[imap]
addr = "127.0.0.1:0"
[imap.imaps]
addr = "127.0.0.1:0"
`

var imapMessages = []string{
	"From: Alice <alice@example.org>\nTo: bob@example.org\nSubject: plan\nDate: Mon, 06 May 2024 07:08:09 +0000\nMIME-Version: 1.0\n" +
		"Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nthe quarterly numbers\n--b\n" +
		"Content-Type: application/pdf; name=r.pdf\nContent-Transfer-Encoding: base64\n\nJVBERi0=\n--b--\n",
	"From: bob@example.org\nSubject: lunch\n\nsandwiches\n",
	"From: carol@example.org\nSubject: other\n\n" + strings.Repeat("filler line\n", 20),
}

// startIMAP starts plumb serve with IMAP and the user alice
// ("alice-password") holding imapMessages in her inbox.
func startIMAP(t *testing.T) *Serve {
	t.Helper()
	s := startServe(t, imapConfig)
	if _, errs, code := plumbUser(t, s.Data, "alice-password\n", "add", "alice"); code != 0 {
		t.Fatalf("plumb user add alice: exit %d: %s", code, errs)
	}
	st, err := mailstore.Open(filepath.Join(s.Data, "mail"))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range imapMessages {
		if _, err := st.Deliver(context.Background(), "alice", "", strings.NewReader(m)); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

type imaplibResult struct {
	Capabilities    []string            `json:"capabilities"`
	CapabilitiesTLS []string            `json:"capabilities_tls"`
	StartTLS        string              `json:"starttls"`
	Login           string              `json:"login"`
	Select          []any               `json:"select"`
	Search          map[string][]string `json:"search"`
	FetchStructure  any                 `json:"fetch_structure"`
	FetchPartial    string              `json:"fetch_partial"`
	FetchHeader     string              `json:"fetch_header"`
	Store           []string            `json:"store"`
	Copy            string              `json:"copy"`
	Move            []any               `json:"move"`
	AfterMove       []string            `json:"after_move"`
	BigSize         int                 `json:"big_size"`
	Append          []any               `json:"append"`
	BigFetchedSize  string              `json:"big_fetched_size"`
	IdleCont        string              `json:"idle_cont"`
	IdleUpdate      string              `json:"idle_update"`
	IdleWakeMS      float64             `json:"idle_wake_ms"`
	IdleDone        string              `json:"idle_done"`
	Logout          string              `json:"logout"`
}

func TestIMAPImaplib(t *testing.T) {
	py := needPyModule(t, "imaplib")
	for _, tc := range []struct{ mode, service string }{
		{"plain", "imap"}, {"starttls", "imap"}, {"ssl", "imaps"},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			s := startIMAP(t)
			host, port, _ := strings.Cut(s.Addr(t, tc.service), ":")
			shost, sport, _ := strings.Cut(s.Addr(t, "smtp"), ":")
			out := run(t, 60*time.Second, py, "-W", "ignore", "testdata/imap_imaplib.py", tc.mode, host, port, "alice", "alice-password", shost, sport)
			var r imaplibResult
			if err := json.Unmarshal([]byte(out), &r); err != nil {
				t.Fatalf("imaplib printed %q: %v", out, err)
			}
			if tc.mode == "starttls" && (r.StartTLS != "OK" || slices.Contains(r.CapabilitiesTLS, "STARTTLS")) {
				t.Errorf("STARTTLS = %q, capabilities after it %q", r.StartTLS, r.CapabilitiesTLS)
			}
			if r.Login != "OK" {
				t.Fatalf("login = %q", r.Login)
			}
			for q, want := range map[string][]string{
				"ALL": {"1", "2", "3"}, `(FROM "alice")`: {"1"}, `(SUBJECT "plan" UNSEEN)`: {"1"},
				"(OR FROM bob SUBJECT plan)": {"1", "2"}, `(BODY "quarterly")`: {"1"},
				"(LARGER 100 NOT DELETED)": {"1", "3"}, `(SINCE 1-Jan-2000 TEXT "numbers")`: {"1"},
			} {
				if got := r.Search[q]; !slices.Equal(got, want) {
					t.Errorf("SEARCH %s = %q, want %q", q, got, want)
				}
			}
			fs, _ := json.Marshal(r.FetchStructure)
			for _, w := range []string{`ENVELOPE (\"Mon, 06 May 2024 07:08:09 +0000\" \"plan\" ((\"Alice\" NIL \"alice\" \"example.org\"))`,
				`BODYSTRUCTURE ((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 21 0 NIL NIL NIL NIL)(\"application\" \"pdf\" (\"name\" \"r.pdf\") NIL NIL \"base64\" 8 NIL NIL NIL NIL) \"mixed\"`} {
				if !strings.Contains(string(fs), w) {
					t.Errorf("FETCH ENVELOPE BODYSTRUCTURE = %s, missing %s", fs, w)
				}
			}
			if r.FetchPartial != "the quarte" {
				t.Errorf("FETCH BODY[1]<0.10> = %q", r.FetchPartial)
			}
			if r.FetchHeader != "Subject: plan\r\n\r\n" {
				t.Errorf("UID FETCH BODY[HEADER.FIELDS (SUBJECT)] = %q", r.FetchHeader)
			}
			if len(r.Store) != 1 || !strings.Contains(r.Store[0], `\Flagged`) || !strings.Contains(r.Store[0], `\Seen`) {
				t.Errorf("STORE = %q", r.Store)
			}
			if r.Copy != "OK" || len(r.AfterMove) == 0 || r.AfterMove[0] != "2" {
				t.Errorf("COPY = %q, MOVE = %v, EXPUNGE after it %q", r.Copy, r.Move, r.AfterMove)
			}
			if r.Append[0] != "OK" || !strings.Contains(r.BigFetchedSize, "RFC822.SIZE "+strconv.Itoa(r.BigSize)) {
				t.Errorf("APPEND of %d bytes = %v, FETCH RFC822.SIZE = %q", r.BigSize, r.Append, r.BigFetchedSize)
			}
			if !strings.HasPrefix(r.IdleCont, "+") || !strings.HasSuffix(r.IdleUpdate, "EXISTS") || !strings.Contains(r.IdleDone, "OK") {
				t.Errorf("IDLE: %q, then %q, then %q", r.IdleCont, r.IdleUpdate, r.IdleDone)
			}
			if r.IdleWakeMS > 100 {
				t.Errorf("IDLE woke %.1f ms after the SMTP delivery, want at most 100", r.IdleWakeMS)
			}
			if r.Logout != "BYE" {
				t.Errorf("LOGOUT = %q", r.Logout)
			}
		})
	}
}
