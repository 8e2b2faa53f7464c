package interop

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// TestXMLRPCCommandAgainstPython: plumb xmlrpc types its arguments from
// the command line as Python's SimpleXMLRPCServer sees them, prints
// results as JSON, and reports faults with a non-zero exit.
func TestXMLRPCCommandAgainstPython(t *testing.T) {
	url := startPythonXMLRPC(t)
	args := []string{"5", "int:5", "string:5", "-2.5", "true", "nil", "hello", `[1,"a",null]`, `{"k":{"n":2}}`,
		"base64:AAEC", "date:2026-12-01T10:30:00", "boolean:0", "double:3"}
	out, stderr, code := plumbRun(t, "", append([]string{"xmlrpc", url, "kinds"}, args...)...)
	if code != 0 {
		t.Fatalf("plumb xmlrpc kinds: exit %d: %s", code, stderr)
	}
	var kinds []string
	if err := json.Unmarshal([]byte(out), &kinds); err != nil {
		t.Fatalf("plumb xmlrpc kinds printed %q: %v", out, err)
	}
	want := []string{"int", "int", "str", "float", "bool", "NoneType", "str", "list", "dict", "bytes", "datetime", "bool", "float"}
	if !reflect.DeepEqual(kinds, want) {
		t.Errorf("Python saw the arguments as %v, want %v", kinds, want)
	}
	out, stderr, code = plumbRun(t, "", append([]string{"xmlrpc", "--compact", url, "echo"}, args...)...)
	wantJSON := `[5,5,"5",-2.5,true,null,"hello",[1,"a",null],{"k":{"n":2}},"AAEC","2026-12-01T10:30:00Z",false,3]` + "\n"
	if code != 0 || out != wantJSON {
		t.Errorf("plumb xmlrpc echo = %q (exit %d, %s), want %q", out, code, stderr, wantJSON)
	}
	_, stderr, code = plumbRun(t, "", "xmlrpc", url, "fault", "42", "custom trouble")
	if code != 1 || !strings.Contains(stderr, "fault: fault 42: custom trouble") {
		t.Errorf("plumb xmlrpc fault 42 = exit %d, stderr %q; want exit 1 and the fault", code, stderr)
	}
	_, stderr, code = plumbRun(t, "", "xmlrpc", url, "echo", "[1,")
	if code != 2 || !strings.Contains(stderr, "string:[1,") {
		t.Errorf("plumb xmlrpc with bad JSON = exit %d, stderr %q; want exit 2 and a hint", code, stderr)
	}
}

// TestXMLRPCCommandAgainstPlumb: plumb xmlrpc against the package's
// server, introspection and the nil extension included.
func TestXMLRPCCommandAgainstPlumb(t *testing.T) {
	url, _, _ := startXMLRPCServer(t)
	out, stderr, code := plumbRun(t, "", "xmlrpc", "--compact", url, "system.methodSignature", "add")
	if code != 0 || out != `[["int","int","int"]]`+"\n" {
		t.Errorf("plumb xmlrpc system.methodSignature add = %q (exit %d, %s)", out, code, stderr)
	}
	out, stderr, code = plumbRun(t, "", "xmlrpc", url, "nothing")
	if code != 0 || out != "null\n" {
		t.Errorf("plumb xmlrpc nothing = %q (exit %d, %s), want null", out, code, stderr)
	}
	_, stderr, code = plumbRun(t, "", "xmlrpc", url, "add", "1", "x")
	if code != 1 || !strings.Contains(stderr, "fault -32602") {
		t.Errorf("plumb xmlrpc add 1 x = exit %d, %q; want exit 1 and fault -32602", code, stderr)
	}
}
