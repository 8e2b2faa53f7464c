package interop

import (
	"os/exec"
	"strings"
	"testing"
)

// curlProtocols returns curl's version line and the protocols it was
// built with (the "Protocols:" line of curl -V).
func curlProtocols(t *testing.T, curl string) (string, []string) {
	t.Helper()
	out, err := exec.Command(curl, "-V").Output()
	if err != nil {
		t.Fatalf("curl -V: %v", err)
	}
	lines := strings.Split(string(out), "\n")
	for _, l := range lines {
		if p, ok := strings.CutPrefix(l, "Protocols:"); ok {
			return lines[0], strings.Fields(p)
		}
	}
	t.Fatalf("curl -V printed no Protocols line:\n%s", out)
	return "", nil
}

// TestNNTPCurl: issue 9 asks for curl's news:// and nntp:// where
// they apply. curl implements no NNTP (no build of it lists news or
// nntp among its protocols), so this skips with that reason, also
// under PLUMB_INTEROP=require: the peer is installed and lacks the
// feature, which installing it again cannot change. A curl that one
// day lists NNTP fails the test, so that someone writes its exchange.
func TestNNTPCurl(t *testing.T) {
	curl := need(t, "curl")
	version, protos := curlProtocols(t, curl)
	for _, p := range protos {
		if p == "nntp" || p == "news" || p == "nntps" {
			t.Fatalf("%s lists %q among its protocols: drive plumb's NNTP server with it here", version, p)
		}
	}
	t.Skipf("%s has no NNTP (its protocols: %s): curl does not implement news:// or nntp://", version, strings.Join(protos, " "))
}
