package interop

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// TestXMLRPCOperatorsViaServe: Python's xmlrpc.client calls plumb
// serve's operator methods at /RPC2 on the HTTP service, as an operator
// (answered), as another account (403) and with a wrong password (401).
// The HTTP service mounts the daemon's XML-RPC handler there.
func TestXMLRPCOperatorsViaServe(t *testing.T) {
	py := needPyModule(t, "xmlrpc.client")
	s := startServe(t, "[http]\nenabled = true\naddr = \"127.0.0.1:0\"\n[xmlrpc]\noperators = [\"root\"]\n")
	for _, u := range []string{"root", "bob"} {
		if _, stderr, code := plumbUser(t, s.Data, u+"-password-1\n", "add", u); code != 0 {
			t.Fatalf("plumb user add %s: %s", u, stderr)
		}
	}
	addr := s.Addr(t, "http")
	call := func(user, pass string) map[string]any {
		out := run(t, 60*time.Second, py, "-W", "ignore", filepath.Join("testdata", "xmlrpc_operator.py"),
			"http://"+user+":"+pass+"@"+addr+"/RPC2")
		var m map[string]any
		if err := json.Unmarshal([]byte(out), &m); err != nil {
			t.Fatalf("xmlrpc_operator.py printed %q: %v", out, err)
		}
		return m
	}
	got := call("root", "root-password-1")
	users, _ := got["users"].([]any)
	var userNames []string
	for _, u := range users {
		userNames = append(userNames, u.(map[string]any)["name"].(string))
	}
	if !slices.Contains(userNames, "bob") || !slices.Contains(userNames, "root") {
		t.Errorf("plumb.users = %v, want bob and root among them", got["users"])
	}
	status, _ := got["status"].(map[string]any)
	services, _ := status["services"].([]any)
	var names []string
	for _, sv := range services {
		names = append(names, sv.(map[string]any)["name"].(string))
	}
	if !slices.Contains(names, "http") {
		t.Errorf("plumb.status services = %v, want http among them", names)
	}
	if conns, _ := got["connections"].(map[string]any); conns["total"] == nil {
		t.Errorf("plumb.connections = %v, want a total", got["connections"])
	}
	if got := call("bob", "bob-password-1"); got["http_error"] != 403.0 {
		t.Errorf("plumb.status as bob = %v, want HTTP 403", got)
	}
	if got := call("root", "wrong-password"); got["http_error"] != 401.0 {
		t.Errorf("plumb.status with a wrong password = %v, want HTTP 401", got)
	}
}
