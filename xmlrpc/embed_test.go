package xmlrpc

import (
	"reflect"
	"testing"
)

type Inner struct{ A int }
type outer struct {
	*Inner
	B string
}

// TestEmbeddedPointer: a nil embedded pointer's fields are left out when
// writing and allocated when reading.
func TestEmbeddedPointer(t *testing.T) {
	raw, err := encodeValue(outer{B: "b"}, 4)
	if err != nil || string(raw) != "<value><struct><member><name>B</name><value><string>b</string></value></member></struct></value>" {
		t.Errorf("encode with a nil embedded pointer = %s, %v", raw, err)
	}
	var o outer
	if err := assign(reflect.ValueOf(&o).Elem(), map[string]any{"A": 1, "B": "b"}); err != nil || o.Inner == nil || o.A != 1 || o.B != "b" {
		t.Errorf("assign into a nil embedded pointer = %+v, %v", o, err)
	}
}
