package xmlrpc

import (
	"bytes"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

var plainSeeds = []string{
	"<?xml version=\"1.0\"?>\n<methodCall><methodName>add</methodName><params><param><value><int>41</int></value></param><param><value><int>1</int></value></param></params></methodCall>\n",
	"<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n<value><string>hi</string></value>\n</param>\n</params>\n</methodResponse>\n",
	"<methodCall><methodName>m</methodName><params><param><value><struct><member><name>a</name><value><nil/></value></member></struct></value></param></params></methodCall>",
	"<methodResponse><params><param><value><array><data><value>x</value><value><boolean>1</boolean></value></data></array></value></param></params></methodResponse>",
	"<methodResponse><fault><value><struct><member><name>faultCode</name><value><int>4</int></value></member><member><name>faultString</name><value>no</value></member></struct></value></fault></methodResponse>",
}

// FuzzPlainTokens: a message plainTokens parses, encoding/xml parses
// to the same call or response; so using them changes no answer.
func FuzzPlainTokens(f *testing.F) {
	for _, s := range plainSeeds {
		f.Add(s)
	}
	for _, s := range fuzzSeeds {
		f.Add("<?xml version=\"1.0\"?><methodCall><methodName>a.b</methodName><params><param>" + s + "</param></params></methodCall>")
		f.Add("<methodResponse><params><param>" + s + "</param></params></methodResponse>")
	}
	f.Fuzz(func(t *testing.T, doc string) {
		lim := newLimits(0, 0)
		if m, p, err := newPlainDecoder([]byte(doc), lim).call(); err == nil {
			m2, p2, err := parseCall(strings.NewReader(doc), lim)
			if err != nil || m2 != m || !reflect.DeepEqual(p2, p) {
				t.Fatalf("plain call %q %#v; encoding/xml %q %#v, %v", m, p, m2, p2, err)
			}
		}
		if v, fault, err := newPlainDecoder([]byte(doc), lim).response(); err == nil {
			v2, fault2, err := parseResponse(strings.NewReader(doc), lim)
			if err != nil || !reflect.DeepEqual(v2, v) || !reflect.DeepEqual(fault2, fault) {
				t.Fatalf("plain response %#v %v; encoding/xml %#v %v, %v", v, fault, v2, fault2, err)
			}
		}
	})
}

// TestPlainOrNot: the messages in memory are parsed as from a reader
// whether plainTokens take them or leave them to encoding/xml, errors
// included; and plainTokens do take the common plain ones.
func TestPlainOrNot(t *testing.T) {
	call := func(params string) string {
		return "<methodCall><methodName>m</methodName><params><param>" + params + "</param></params></methodCall>"
	}
	docs := append([]string{}, plainSeeds...)
	docs = append(docs,
		call("<value>a &amp; b</value>"),              // a reference
		call("<value><![CDATA[<x>]]></value>"),        // CDATA
		call("<value><!-- c --><int>1</int></value>"), // a comment
		call("<value>caf\u00e9</value>"),              // beyond ASCII
		call("<value>a\r\nb</value>"),                 // \r\n is \n in XML
		call("<value a=\"1\"><int>1</int></value>"),   // an attribute
		call("<value><ex:nil/></value>"),              // a namespace prefix
		call("<value>1 > 0</value>"),                  // '>' in text
		call("<value><int>1</int></value >"),          // space in a tag
		"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>"+call("<value>caf\xe9</value>"),
		"<!DOCTYPE x [<!ENTITY a \"b\">]>"+call("<value>&a;</value>"),
		call("<value><int>1</value></int>"),                            // crossed ends
		call("<value><int>x</int></value>"),                            // a bad integer
		call("<value><int>1</int></value>")+"<",                        // trailing garbage
		"<methodCall><methodName>m</methodName><params><param><value>", // cut short
		"",
		"<1methodCall/>",
	)
	for _, doc := range docs {
		lim := newLimits(0, 0)
		m, p, err := parseCallBytes([]byte(doc), lim)
		m2, p2, err2 := parseCall(strings.NewReader(doc), lim)
		if m != m2 || !reflect.DeepEqual(p, p2) || fmt.Sprint(err) != fmt.Sprint(err2) {
			t.Errorf("%q:\nfrom memory %q %#v %v\nfrom a reader %q %#v %v", doc, m, p, err, m2, p2, err2)
		}
		v, f, err := parseResponseBytes([]byte(doc), lim)
		v2, f2, err2 := parseResponse(strings.NewReader(doc), lim)
		if !reflect.DeepEqual(v, v2) || !reflect.DeepEqual(f, f2) || fmt.Sprint(err) != fmt.Sprint(err2) {
			t.Errorf("%q as a response:\nfrom memory %#v %v %v\nfrom a reader %#v %v %v", doc, v, f, err, v2, f2, err2)
		}
	}
	// What this package and Python write is plain.
	var buf bytes.Buffer
	encodeCall(&buf, "add", []any{41, "x", true, 1.5, nil, []any{1}, map[string]any{"k": "v"}}, DefaultMaxDepth)
	for _, doc := range append([]string{buf.String()}, plainSeeds...) {
		d := newPlainDecoder([]byte(doc), newLimits(0, 0))
		_, _, err := d.call()
		if err != nil {
			_, _, err = newPlainDecoder([]byte(doc), newLimits(0, 0)).response()
		}
		if err != nil {
			t.Errorf("not taken by plainTokens: %v\n%s", err, doc)
		}
	}
}
