package cli

import (
	"reflect"
	"strings"
	"testing"

	"github.com/plumbnet/plumb/finger"
	"github.com/plumbnet/plumb/internal/testkit"
)

func TestFingerTarget(t *testing.T) {
	for _, tc := range []struct {
		arg  string
		q    finger.Query
		addr string
	}{
		{"alice@localhost", finger.Query{User: "alice"}, "localhost:79"},
		{"alice@127.0.0.1:10079", finger.Query{User: "alice"}, "127.0.0.1:10079"},
		{"/W alice@[::1]:10079", finger.Query{Verbose: true, User: "alice"}, "[::1]:10079"},
		{"@::1", finger.Query{}, "[::1]:79"},
		{"bob@far@near:7979", finger.Query{User: "bob", Hosts: []string{"far"}}, "near:7979"},
	} {
		q, addr, err := fingerTarget(tc.arg)
		if err != nil || addr != tc.addr || !reflect.DeepEqual(q, tc.q) {
			t.Errorf("fingerTarget(%q) = %+v, %q, %v; want %+v, %q", tc.arg, q, addr, err, tc.q, tc.addr)
		}
	}
	for _, bad := range []string{"alice", "alice@", "alice@host:0", "alice@host:x", "a b@host"} {
		if _, _, err := fingerTarget(bad); err == nil {
			t.Errorf("fingerTarget(%q) = nil error, want one", bad)
		}
	}
}

// TestFingerCommandSlashW: "plumb finger /W alice@host", two arguments
// as Use shows, asks for the long form.
func TestFingerCommandSlashW(t *testing.T) {
	be := &finger.MemoryBackend{}
	be.Set(finger.Entry{Login: "alice", Name: "Alice", Plan: ptr("a plan"), Project: ptr("the project")})
	addr := testkit.Serve(t, &finger.Server{Backend: be}, nil)
	out, errs, err := runSocketCmd(t, nil, "finger", "/W", "alice@"+addr)
	if err != nil || !strings.Contains(out, "the project") {
		t.Errorf("plumb finger /W alice@%s = %q, %v (%s); want the long form", addr, out, err, errs)
	}
	if out, _, err := runSocketCmd(t, nil, "finger", "alice@"+addr); err != nil || strings.Contains(out, "the project") {
		t.Errorf("plumb finger alice@%s = %q, %v; want the short form", addr, out, err)
	}
	if _, _, err := runSocketCmd(t, nil, "finger", "bob", "alice@"+addr); socketExitCode(err) != 2 {
		t.Errorf("plumb finger bob alice@host = %v, want a usage error", err)
	}
}

func ptr[T any](v T) *T { return &v }
