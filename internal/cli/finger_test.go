package cli

import (
	"reflect"
	"testing"

	"github.com/plumbnet/plumb/finger"
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
