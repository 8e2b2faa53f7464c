package xmlrpc

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func decodeOne(t *testing.T, value string) (any, error) {
	t.Helper()
	doc := "<?xml version=\"1.0\"?><methodCall><methodName>m</methodName><params><param>" + value + "</param></params></methodCall>"
	_, params, err := parseCall(strings.NewReader(doc), newLimits(0, 0))
	if err != nil {
		return nil, err
	}
	return params[0], nil
}

func TestDecodeValues(t *testing.T) {
	when := time.Date(1998, 7, 17, 14, 8, 55, 0, time.UTC)
	tests := []struct {
		in   string
		want any
	}{
		{"<value><i4>-12</i4></value>", -12},
		{"<value><int> 42 </int></value>", 42},
		{"<value><i8>4294967296</i8></value>", 4294967296},
		{"<value><boolean>1</boolean></value>", true},
		{"<value><boolean>0</boolean></value>", false},
		{"<value><string> a &amp; b </string></value>", " a & b "},
		{"<value>untyped &lt;text&gt;</value>", "untyped <text>"},
		{"<value></value>", ""},
		{"<value/>", ""},
		{"<value><string/></value>", ""},
		{"<value>\n  <double>-12.214</double>\n</value>", -12.214},
		{"<value><dateTime.iso8601>19980717T14:08:55</dateTime.iso8601></value>", when},
		{"<value><dateTime.iso8601>1998-07-17T16:08:55+02:00</dateTime.iso8601></value>", when},
		{"<value><base64>eW91IGNh\nbid0IHJlYWQgdGhpcyE=</base64></value>", []byte("you can't read this!")},
		{"<value><nil/></value>", nil},
		{"<value><ex:nil xmlns:ex=\"http://ws.apache.org/xmlrpc/namespaces/extensions\"/></value>", nil},
		{"<value><struct><member><name>lowerBound</name><value><i4>18</i4></value></member>" +
			"<member><name>upperBound</name><value><i4>139</i4></value></member></struct></value>",
			map[string]any{"lowerBound": 18, "upperBound": 139}},
		{"<value><struct></struct></value>", map[string]any{}},
		{"<value><array><data><value><i4>12</i4></value><value><string>Egypt</string></value>" +
			"<value><boolean>0</boolean></value><value><i4>-31</i4></value></data></array></value>",
			[]any{12, "Egypt", false, -31}},
		{"<value><array><data/></array></value>", []any{}},
		{"<value>\r\n<string>a\r\nb&#xD;</string></value>", "a\nb\r"},
	}
	for _, tt := range tests {
		got, err := decodeOne(t, tt.in)
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("decode %s = %#v, %v; want %#v", tt.in, got, err, tt.want)
		}
	}
}

func TestDecodeRefuses(t *testing.T) {
	tests := []struct {
		in   string
		want error
	}{
		{"<value><i4>2147483648</i4></value>", ErrSyntax},
		{"<value><int>1.5</int></value>", ErrSyntax},
		{"<value><boolean>true</boolean></value>", ErrSyntax},
		{"<value><double>NaN</double></value>", ErrSyntax},
		{"<value><double>1e400</double></value>", ErrSyntax},
		{"<value><dateTime.iso8601>yesterday</dateTime.iso8601></value>", ErrSyntax},
		{"<value><base64>!!!</base64></value>", ErrSyntax},
		{"<value>text<i4>1</i4></value>", ErrSyntax},
		{"<value><i4>1</i4><i4>2</i4></value>", ErrSyntax},
		{"<value><i4><b>1</b></i4></value>", ErrSyntax},
		{"<value><float>1</float></value>", ErrSyntax},
		{"<value><struct><member><value><i4>1</i4></value></member></struct></value>", ErrSyntax},
		{"<value><array><value><i4>1</i4></value></array></value>", ErrSyntax},
		{"<value><i4>1</i5></value>", ErrSyntax},
		{"<value>&bogus;</value>", ErrSyntax},
	}
	for _, tt := range tests {
		if got, err := decodeOne(t, tt.in); !errors.Is(err, tt.want) {
			t.Errorf("decode %s = %#v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

// TestDoctypeRefused: a document type declaration, the door to entity
// expansion ("billion laughs") and external entities, is refused
// before any entity is defined, let alone expanded.
func TestDoctypeRefused(t *testing.T) {
	for _, doc := range []string{
		`<?xml version="1.0"?><!DOCTYPE methodCall [<!ENTITY x SYSTEM "file:///etc/passwd">]><methodCall><methodName>m</methodName><params><param><value>&x;</value></param></params></methodCall>`,
		`<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><methodCall><methodName>&lol2;</methodName></methodCall>`,
		`<methodCall><methodName>m</methodName></methodCall><!DOCTYPE x>`,
	} {
		_, _, err := parseCall(strings.NewReader(doc), newLimits(0, 0))
		if !errors.Is(err, ErrSyntax) || !strings.Contains(err.Error(), "directive") {
			t.Errorf("parseCall(%.40q…) = %v, want a refused directive", doc, err)
		}
		_, _, err = parseResponse(strings.NewReader(strings.ReplaceAll(doc, "methodCall", "methodResponse")), newLimits(0, 0))
		if !errors.Is(err, ErrSyntax) {
			t.Errorf("parseResponse(%.40q…) = %v, want ErrSyntax", doc, err)
		}
	}
}

func TestDecodeLimits(t *testing.T) {
	deep := strings.Repeat("<value><array><data>", 5) + strings.Repeat("</data></array></value>", 5)
	doc := "<methodCall><methodName>m</methodName><params><param>" + deep + "</param></params></methodCall>"
	if _, _, err := parseCall(strings.NewReader(doc), newLimits(4, 0)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("5 nested arrays with MaxDepth 4: %v, want ErrTooLarge", err)
	}
	if _, _, err := parseCall(strings.NewReader(doc), newLimits(5, 0)); err != nil {
		t.Errorf("5 nested arrays with MaxDepth 5: %v, want nil", err)
	}
	many := "<value><array><data>" + strings.Repeat("<value/>", 10) + "</data></array></value>"
	doc = "<methodCall><methodName>m</methodName><params><param>" + many + "</param></params></methodCall>"
	if _, _, err := parseCall(strings.NewReader(doc), newLimits(0, 10)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("11 values with MaxValues 10: %v, want ErrTooLarge", err)
	}
}

func TestDecodeDocument(t *testing.T) {
	good := []string{
		"<methodCall><methodName>m</methodName></methodCall>",
		"<methodCall><methodName>m</methodName><params/></methodCall>",
		"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><!-- c --><methodCall>\n <methodName>m</methodName>\n</methodCall>\n",
	}
	for _, doc := range good {
		m, p, err := parseCall(strings.NewReader(doc), newLimits(0, 0))
		if m != "m" || len(p) != 0 || err != nil {
			t.Errorf("parseCall(%q) = %q, %v, %v; want m, [], nil", doc, m, p, err)
		}
	}
	latin1 := "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><methodCall><methodName>m</methodName><params><param><value>caf\xe9</value></param></params></methodCall>"
	if _, p, err := parseCall(strings.NewReader(latin1), newLimits(0, 0)); err != nil || p[0] != "café" {
		t.Errorf("ISO-8859-1 call = %v, %v; want café", p, err)
	}
	bad := []string{
		"",
		"<methodCall></methodCall>",
		"<methodCall><methodName> </methodName></methodCall>",
		"<methodCall><methodName>m</methodName></methodCall><methodCall/>",
		"<methodCall><methodName>m</methodName></methodCall>trailing",
		"<methodResponse/>",
		"<methodCall><methodName>m</methodName><params><param></param></params></methodCall>",
	}
	for _, doc := range bad {
		if _, _, err := parseCall(strings.NewReader(doc), newLimits(0, 0)); !errors.Is(err, ErrSyntax) {
			t.Errorf("parseCall(%q) = %v, want ErrSyntax", doc, err)
		}
	}
}

func TestResponseForms(t *testing.T) {
	v, f, err := parseResponse(strings.NewReader(`<methodResponse><params><param><value><string>South Dakota</string></value></param></params></methodResponse>`), newLimits(0, 0))
	if v != "South Dakota" || f != nil || err != nil {
		t.Errorf("response = %v, %v, %v", v, f, err)
	}
	v, f, err = parseResponse(strings.NewReader(`<methodResponse><fault><value><struct><member><name>faultCode</name><value><int>4</int></value></member><member><name>faultString</name><value><string>Too many parameters.</string></value></member></struct></value></fault></methodResponse>`), newLimits(0, 0))
	if v != nil || err != nil || f == nil || *f != (Fault{4, "Too many parameters."}) {
		t.Errorf("fault response = %v, %v, %v", v, f, err)
	}
	for _, doc := range []string{
		`<methodResponse><params></params></methodResponse>`,
		`<methodResponse><params><param><value/></param><param><value/></param></params></methodResponse>`,
		`<methodResponse><fault><value><string>x</string></value></fault></methodResponse>`,
	} {
		if _, _, err := parseResponse(strings.NewReader(doc), newLimits(0, 0)); !errors.Is(err, ErrSyntax) {
			t.Errorf("parseResponse(%q) = %v, want ErrSyntax", doc, err)
		}
	}
}

type point struct {
	X, Y    int
	Label   string `xmlrpc:"label,omitempty"`
	Skipped string `xmlrpc:"-"`
}

// TestEncodeThenAssign: Go values written and read back into their own types.
func TestEncodeThenAssign(t *testing.T) {
	when := time.Date(2026, 12, 1, 10, 30, 0, 0, time.UTC)
	tests := []any{
		5, int64(-1 << 40), uint16(7), true, "x<&>\"'\t\n\r", "\x7f é \uFFFD \U0001F600", 2.5, float32(0.5), when, []byte{0, 1, 255},
		[]int{1, 2}, [2]string{"a", "b"}, map[string]int{"a": 1}, point{X: 1, Y: 2, Label: "p"},
		[]any{nil, 1, "a", []any{}}, map[string]any{}, &point{X: 3},
	}
	for _, in := range tests {
		var buf bytes.Buffer
		if err := encodeCall(&buf, "m", []any{in}, DefaultMaxDepth); err != nil {
			t.Errorf("encode %#v: %v", in, err)
			continue
		}
		_, params, err := parseCall(&buf, newLimits(0, 0))
		if err != nil {
			t.Errorf("decode of %#v: %v\n%s", in, err, buf.String())
			continue
		}
		out := reflect.New(reflect.TypeOf(in))
		if err := assign(out.Elem(), params[0]); err != nil {
			t.Errorf("assign %#v into %T: %v", params[0], in, err)
			continue
		}
		if !reflect.DeepEqual(out.Elem().Interface(), in) {
			t.Errorf("round trip of %#v = %#v", in, out.Elem().Interface())
		}
	}
	var buf bytes.Buffer
	for _, bad := range []any{make(chan int), 1 + 2i, map[int]int{1: 1}, func() {},
		"a\x01b", "\x00", "bad \xff UTF-8", "\uFFFE", map[string]int{"k\x1b": 1}, []any{"ok", "\x7f is fine but \x08 is not"}} {
		if err := encodeCall(&buf, "m", []any{bad}, DefaultMaxDepth); !errors.Is(err, ErrType) {
			t.Errorf("encode %#v = %v, want ErrType", bad, err)
		}
	}
	type loop struct{ Next *loop }
	l := &loop{}
	l.Next = l
	if err := encodeCall(&buf, "m", []any{l}, 8); !errors.Is(err, ErrTooLarge) {
		t.Errorf("encode a pointer cycle = %v, want ErrTooLarge", err)
	}
}

func TestAssignRefuses(t *testing.T) {
	var i8 int8
	var u uint
	var s string
	var arr [2]int
	var n int
	tests := []struct {
		dst any
		src any
	}{
		{&i8, 300}, {&u, -1}, {&s, 5}, {&arr, []any{1}}, {&n, nil}, {&n, "5"},
	}
	for _, tt := range tests {
		if err := assign(reflect.ValueOf(tt.dst).Elem(), tt.src); !errors.Is(err, ErrType) {
			t.Errorf("assign %#v into %T = %v, want ErrType", tt.src, tt.dst, err)
		}
	}
}
