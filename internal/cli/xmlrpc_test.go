package cli

import (
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseXMLRPCArg(t *testing.T) {
	tests := []struct {
		in   string
		want any
	}{
		{"42", 42}, {"-7", -7}, {"3.25", 3.25}, {"1e-3", 0.001}, {"true", true}, {"false", false}, {"nil", nil},
		{"hello", "hello"}, {"", ""}, {"Inf", "Inf"}, {"NaN", "NaN"}, {"http://x/y", "http://x/y"},
		{"int:5", 5}, {"i8:5000000000", 5000000000}, {"double:5", 5.0}, {"boolean:1", true}, {"bool:false", false},
		{"string:42", "42"}, {"string:nil", "nil"}, {"str:a:b", "a:b"}, {"base64:AAEC", []byte{0, 1, 2}},
		{"date:2026-12-01T10:30:00", time.Date(2026, 12, 1, 10, 30, 0, 0, time.UTC)},
		{"date:20261201T10:30:00", time.Date(2026, 12, 1, 10, 30, 0, 0, time.UTC)},
		{`[1,"a",null,2.5,{"k":[]}]`, []any{1, "a", nil, 2.5, map[string]any{"k": []any{}}}},
		{`{"n":1e2}`, map[string]any{"n": 100.0}},
		{`json:"quoted"`, "quoted"},
	}
	for _, tt := range tests {
		got, err := parseXMLRPCArg(tt.in)
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("parseXMLRPCArg(%q) = %#v, %v; want %#v", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"int:x", "double:inf", "boolean:yes", "base64:!!", "date:tomorrow", "[1,", "{} {}", "json:"} {
		if got, err := parseXMLRPCArg(bad); err == nil {
			t.Errorf("parseXMLRPCArg(%q) = %#v, nil; want an error", bad, got)
		}
	}
}

// TestXMLRPCFaultHarmless: a fault's text from the server reaches the
// terminal with its control characters (C1's CSI, a bare CR) escaped.
func TestXMLRPCFaultHarmless(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("<methodResponse><fault><value><struct>" +
			"<member><name>faultCode</name><value><int>4</int></value></member>" +
			"<member><name>faultString</name><value><string>bad\u009b2J&#xD;X</string></value></member>" +
			"</struct></value></fault></methodResponse>"))
	}))
	defer ts.Close()
	_, _, err := runPlumb(t, "", "xmlrpc", ts.URL+"/RPC2", "m")
	if err == nil || !strings.Contains(err.Error(), `m: fault 4: bad\xC2\x9B2J^MX`) {
		t.Fatalf("fault = %v, want its text with the controls escaped", err)
	}
}
