package xmlrpc

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"maps"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// rawValue is an encoded <value>…</value>, written as it is: the server
// encodes each result once, multicall's too.
type rawValue []byte

var (
	timeType  = reflect.TypeFor[time.Time]()
	rawType   = reflect.TypeFor[rawValue]()
	bytesType = reflect.TypeFor[[]byte]()
)

// encoder writes values as XML-RPC, refusing what has no XML-RPC form
// and nesting deeper than maxDepth (a cycle of pointers ends there).
type encoder struct {
	buf      *bytes.Buffer
	maxDepth int
}

func encodeCall(buf *bytes.Buffer, method string, args []any, maxDepth int) error {
	buf.WriteString("<?xml version=\"1.0\"?>\n<methodCall><methodName>")
	xml.EscapeText(buf, []byte(method))
	buf.WriteString("</methodName><params>")
	e := encoder{buf, maxDepth}
	for i, a := range args {
		buf.WriteString("<param>")
		if err := e.any(a, 0); err != nil {
			return fmt.Errorf("argument %d: %w", i+1, err)
		}
		buf.WriteString("</param>")
	}
	buf.WriteString("</params></methodCall>\n")
	return nil
}

// encodeValue returns v as a <value> element.
func encodeValue(v any, maxDepth int) (rawValue, error) {
	var buf bytes.Buffer
	e := encoder{&buf, maxDepth}
	if err := e.any(v, 0); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// A response is responseHead, the value, responseTail.
const (
	responseHead = "<?xml version=\"1.0\"?>\n<methodResponse><params><param>"
	responseTail = "</param></params></methodResponse>\n"
)

func writeResponse(buf *bytes.Buffer, v rawValue) {
	buf.WriteString(responseHead)
	buf.Write(v)
	buf.WriteString(responseTail)
}

func writeFault(buf *bytes.Buffer, f *Fault) {
	buf.WriteString("<?xml version=\"1.0\"?>\n<methodResponse><fault>")
	v, _ := encodeValue(f.value(), 2) // an int and a string always encode
	buf.Write(v)
	buf.WriteString("</fault></methodResponse>\n")
}

func typeErrorf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrType}, args...)...)
}

// any writes v, the common types by a type switch and any other by
// reflection (value).
func (e *encoder) any(v any, depth int) error {
	if depth > e.maxDepth {
		return fmt.Errorf("%w: nested deeper than %d", ErrTooLarge, e.maxDepth)
	}
	switch v := v.(type) {
	case nil:
		e.buf.WriteString("<value><nil/></value>")
	case int:
		e.int(int64(v))
	case int64:
		e.int(v)
	case int32:
		e.int(int64(v))
	case bool:
		if v {
			e.buf.WriteString("<value><boolean>1</boolean></value>")
		} else {
			e.buf.WriteString("<value><boolean>0</boolean></value>")
		}
	case string:
		return e.string(v)
	case float64:
		return e.double(v)
	case rawValue:
		e.buf.Write(v)
	case []any:
		e.buf.WriteString("<value><array><data>")
		for _, x := range v {
			if err := e.any(x, depth+1); err != nil {
				return err
			}
		}
		e.buf.WriteString("</data></array></value>")
	case map[string]any:
		e.buf.WriteString("<value><struct>")
		for _, k := range slices.Sorted(maps.Keys(v)) {
			if err := e.memberName(k); err != nil {
				return err
			}
			if err := e.any(v[k], depth+1); err != nil {
				return fmt.Errorf("member %q: %w", k, err)
			}
			e.buf.WriteString("</member>")
		}
		e.buf.WriteString("</struct></value>")
	default:
		return e.value(reflect.ValueOf(v), depth)
	}
	return nil
}

func (e *encoder) value(v reflect.Value, depth int) error {
	if depth > e.maxDepth {
		return fmt.Errorf("%w: nested deeper than %d", ErrTooLarge, e.maxDepth)
	}
	b := e.buf
	if !v.IsValid() {
		b.WriteString("<value><nil/></value>")
		return nil
	}
	switch v.Type() {
	case rawType:
		b.Write(v.Bytes())
		return nil
	case timeType:
		b.WriteString("<value><dateTime.iso8601>")
		b.WriteString(v.Interface().(time.Time).Format("20060102T15:04:05"))
		b.WriteString("</dateTime.iso8601></value>")
		return nil
	}
	switch v.Kind() {
	case reflect.Interface, reflect.Pointer:
		if v.IsNil() {
			b.WriteString("<value><nil/></value>")
			return nil
		}
		return e.value(v.Elem(), depth)
	case reflect.Bool:
		if v.Bool() {
			b.WriteString("<value><boolean>1</boolean></value>")
		} else {
			b.WriteString("<value><boolean>0</boolean></value>")
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		e.int(v.Int())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		u := v.Uint()
		if u > math.MaxInt64 {
			return typeErrorf("%d does not fit in 64 bits signed", u)
		}
		e.int(int64(u))
	case reflect.Float32, reflect.Float64:
		return e.double(v.Float())
	case reflect.String:
		return e.string(v.String())
	case reflect.Slice, reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			b.WriteString("<value><base64>")
			b.WriteString(base64.StdEncoding.EncodeToString(bytesOf(v)))
			b.WriteString("</base64></value>")
			return nil
		}
		b.WriteString("<value><array><data>")
		for i := range v.Len() {
			if err := e.value(v.Index(i), depth+1); err != nil {
				return err
			}
		}
		b.WriteString("</data></array></value>")
	case reflect.Map:
		if v.Type().Key().Kind() != reflect.String {
			return typeErrorf("a map with %s keys: a struct needs string keys", v.Type().Key())
		}
		keys := v.MapKeys()
		slices.SortFunc(keys, func(a, b reflect.Value) int { return strings.Compare(a.String(), b.String()) })
		b.WriteString("<value><struct>")
		for _, k := range keys {
			if err := e.member(k.String(), v.MapIndex(k), depth); err != nil {
				return err
			}
		}
		b.WriteString("</struct></value>")
	case reflect.Struct:
		b.WriteString("<value><struct>")
		for _, f := range fieldsOf(v.Type()) {
			fv, err := v.FieldByIndexErr(f.index)
			if err != nil {
				continue // promoted through a nil embedded pointer: not there
			}
			if f.omitEmpty && fv.IsZero() {
				continue
			}
			if err := e.member(f.name, fv, depth); err != nil {
				return err
			}
		}
		b.WriteString("</struct></value>")
	default:
		return typeErrorf("a %s has no XML-RPC form", v.Type())
	}
	return nil
}

func (e *encoder) double(f float64) error {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return typeErrorf("%v: XML-RPC has no infinity or NaN", f)
	}
	e.buf.WriteString("<value><double>")
	e.buf.Write(strconv.AppendFloat(e.buf.AvailableBuffer(), f, 'f', -1, 64))
	e.buf.WriteString("</double></value>")
	return nil
}

func (e *encoder) string(s string) error {
	if err := xmlText(s); err != nil {
		return err
	}
	e.buf.WriteString("<value><string>")
	escapeText(e.buf, s)
	e.buf.WriteString("</string></value>")
	return nil
}

// escapeText writes s, which xmlText has checked, escaped as
// xml.EscapeText escapes it, without a copy of s.
func escapeText(buf *bytes.Buffer, s string) {
	last := 0
	for i := 0; i < len(s); i++ {
		var esc string
		switch s[i] {
		case '"':
			esc = "&#34;"
		case '\'':
			esc = "&#39;"
		case '&':
			esc = "&amp;"
		case '<':
			esc = "&lt;"
		case '>':
			esc = "&gt;"
		case '\t':
			esc = "&#x9;"
		case '\n':
			esc = "&#xA;"
		case '\r':
			esc = "&#xD;"
		default:
			continue
		}
		buf.WriteString(s[last:i])
		buf.WriteString(esc)
		last = i + 1
	}
	buf.WriteString(s[last:])
}

func (e *encoder) int(n int64) {
	if n >= math.MinInt32 && n <= math.MaxInt32 {
		e.buf.WriteString("<value><int>")
		e.buf.Write(strconv.AppendInt(e.buf.AvailableBuffer(), n, 10))
		e.buf.WriteString("</int></value>")
		return
	}
	e.buf.WriteString("<value><i8>")
	e.buf.Write(strconv.AppendInt(e.buf.AvailableBuffer(), n, 10))
	e.buf.WriteString("</i8></value>")
}

func (e *encoder) member(name string, v reflect.Value, depth int) error {
	if err := e.memberName(name); err != nil {
		return err
	}
	if err := e.value(v, depth+1); err != nil {
		return fmt.Errorf("member %q: %w", name, err)
	}
	e.buf.WriteString("</member>")
	return nil
}

// memberName writes a member's start and its name.
func (e *encoder) memberName(name string) error {
	if err := xmlText(name); err != nil {
		return fmt.Errorf("member name: %w", err)
	}
	e.buf.WriteString("<member><name>")
	escapeText(e.buf, name)
	e.buf.WriteString("</name>")
	return nil
}

// xmlText refuses a string XML 1.0 cannot carry: invalid UTF-8, or a
// character outside its Char production (control characters but tab,
// LF and CR; surrogates; U+FFFE, U+FFFF), which xml.EscapeText would
// silently turn into U+FFFD. Such bytes belong in a []byte (base64).
func xmlText(s string) error {
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			return typeErrorf("a string that is not valid UTF-8 at byte %d (send bytes as []byte, base64)", i)
		}
		if !xmlChar(r) {
			return typeErrorf("a string holding %U, which XML cannot carry (send bytes as []byte, base64)", r)
		}
		i += n
	}
	return nil
}

// xmlChar reports whether XML 1.0 (its Char production) allows r.
func xmlChar(r rune) bool {
	return r == '\t' || r == '\n' || r == '\r' || 0x20 <= r && r <= 0xD7FF ||
		0xE000 <= r && r <= 0xFFFD || 0x10000 <= r && r <= 0x10FFFF
}

// xmlSafe replaces what XML cannot carry with U+FFFD, for fault texts,
// which are for people and must always go out.
func xmlSafe(s string) string {
	if xmlText(s) == nil {
		return s
	}
	return strings.Map(func(r rune) rune {
		if !xmlChar(r) {
			return utf8.RuneError
		}
		return r
	}, strings.ToValidUTF8(s, "\uFFFD"))
}

func bytesOf(v reflect.Value) []byte {
	if v.Kind() == reflect.Slice {
		return v.Bytes()
	}
	b := make([]byte, v.Len())
	reflect.Copy(reflect.ValueOf(b), v)
	return b
}

// field is a Go struct field as a struct member.
type field struct {
	name      string
	index     []int
	omitEmpty bool
}

var fieldCache sync.Map // reflect.Type -> []field

// fieldsOf lists the members of a struct type: exported fields, named
// by their `xmlrpc:"name,omitempty"` tag or else by their Go name, with
// the fields of embedded structs in line; "-" leaves a field out.
func fieldsOf(t reflect.Type) []field {
	if f, ok := fieldCache.Load(t); ok {
		return f.([]field)
	}
	var out []field
	for _, sf := range reflect.VisibleFields(t) {
		et := sf.Type
		if et.Kind() == reflect.Pointer {
			et = et.Elem()
		}
		if !sf.IsExported() || sf.Anonymous && et.Kind() == reflect.Struct && sf.Tag.Get("xmlrpc") == "" {
			continue // an embedded struct's fields are listed in its place
		}
		name, opts, _ := strings.Cut(sf.Tag.Get("xmlrpc"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = sf.Name
		}
		out = append(out, field{name: name, index: sf.Index, omitEmpty: opts == "omitempty"})
	}
	fieldCache.Store(t, out)
	return out
}
