package xmlrpc

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
)

// TestEncodeFastPath: the type switch of encoder.any writes what the
// reflection of encoder.value writes, errors included.
func TestEncodeFastPath(t *testing.T) {
	deep := any(1)
	for range 5 {
		deep = []any{map[string]any{"d": deep}}
	}
	values := []any{
		nil, 0, -1, math.MaxInt32 + 1, int64(math.MinInt64), int32(7), true, false,
		"", "plain", "a<b>&\"c' \t\r\n", "caf\u00e9", "bad \x00", "bad \xff",
		1.5, -0.0, 1e300, math.NaN(), math.Inf(1),
		rawValue("<value><int>1</int></value>"),
		[]any{}, []any{1, "x", nil, []any{true}}, map[string]any{},
		map[string]any{"b": 1, "a": []any{"x"}, "c": map[string]any{"d": nil}},
		map[string]any{"bad\x01": 1}, []any{math.NaN()}, deep,
	}
	for _, v := range values {
		var fast, slow bytes.Buffer
		errFast := (&encoder{&fast, 8}).any(v, 0)
		errSlow := (&encoder{&slow, 8}).value(reflect.ValueOf(v), 0)
		if fast.String() != slow.String() && errFast == nil || fmt.Sprint(errFast) != fmt.Sprint(errSlow) {
			t.Errorf("%#v:\nany   %s %v\nvalue %s %v", v, fast.String(), errFast, slow.String(), errSlow)
		}
	}
}

// FuzzEscapeText: escapeText writes what xml.EscapeText writes, for
// every string XML can carry.
func FuzzEscapeText(f *testing.F) {
	for _, s := range []string{"", "a<b>&\"c' \t\r\n", "caf\u00e9", "]]>", "\U0001F600"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if xmlText(s) != nil {
			return
		}
		var got, want bytes.Buffer
		escapeText(&got, s)
		xml.EscapeText(&want, []byte(s))
		if got.String() != want.String() {
			t.Fatalf("escapeText(%q) = %q, xml.EscapeText %q", s, got.String(), want.String())
		}
		if strings.ContainsAny(got.String(), "<>") {
			t.Fatalf("escapeText(%q) = %q", s, got.String())
		}
	})
}
