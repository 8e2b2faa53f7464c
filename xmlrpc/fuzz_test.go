package xmlrpc

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
)

var fuzzSeeds = []string{
	"<value><i4>-12</i4></value>",
	"<value><i8>-4294967296</i8></value>",
	"<value>untyped &amp; text</value>",
	"<value><double>1e-7</double></value>",
	"<value><dateTime.iso8601>1998-07-17T16:08:55+02:00</dateTime.iso8601></value>",
	"<value><base64>eW91IGNhbid0IHJlYWQgdGhpcyE=</base64></value>",
	"<value><nil/></value>",
	"<value><struct><member><name>a</name><value><boolean>1</boolean></value></member><member><name>a</name><value/></member></struct></value>",
	"<value><array><data><value><array><data/></array></value><value><string>x\r\ny</string></value></data></array></value>",
}

// FuzzParseCall: what the request parser accepts, encoded again and
// parsed again, is the same call.
func FuzzParseCall(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add("<?xml version=\"1.0\"?><methodCall><methodName>a.b</methodName><params><param>" + s + "</param></params></methodCall>")
	}
	f.Add("<methodCall><methodName> m </methodName></methodCall>")
	f.Fuzz(func(t *testing.T, doc string) {
		lim := newLimits(0, 0)
		method, params, err := parseCall(strings.NewReader(doc), lim)
		if err != nil {
			return
		}
		var buf bytes.Buffer
		if err := encodeCall(&buf, method, params, lim.depth); err != nil {
			t.Fatalf("encoding the parsed call %q %#v: %v", method, params, err)
		}
		method2, params2, err := parseCall(&buf, lim)
		if err != nil {
			t.Fatalf("parsing the encoded call: %v\n%s", err, buf.String())
		}
		if method2 != method || !reflect.DeepEqual(params2, params) {
			t.Fatalf("round trip: %q %#v, want %q %#v", method2, params2, method, params)
		}
	})
}

// FuzzParseResponse: what the response parser accepts, encoded again
// and parsed again, is the same value or fault.
func FuzzParseResponse(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add("<methodResponse><params><param>" + s + "</param></params></methodResponse>")
	}
	f.Add("<methodResponse><fault><value><struct><member><name>faultCode</name><value><int>4</int></value></member><member><name>faultString</name><value>Too many</value></member></struct></value></fault></methodResponse>")
	f.Fuzz(func(t *testing.T, doc string) {
		lim := newLimits(0, 0)
		v, fault, err := parseResponse(strings.NewReader(doc), lim)
		if err != nil {
			return
		}
		var buf bytes.Buffer
		if fault != nil {
			writeFault(&buf, fault)
		} else {
			raw, err := encodeValue(v, lim.depth)
			if err != nil {
				t.Fatalf("encoding the parsed value %#v: %v", v, err)
			}
			writeResponse(&buf, raw)
		}
		v2, fault2, err := parseResponse(&buf, lim)
		if err != nil {
			t.Fatalf("parsing the encoded response: %v\n%s", err, buf.String())
		}
		if !reflect.DeepEqual(v2, v) || !reflect.DeepEqual(fault2, fault) {
			t.Fatalf("round trip: %#v %v, want %#v %v", v2, fault2, v, fault)
		}
	})
}
