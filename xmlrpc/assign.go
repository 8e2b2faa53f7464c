package xmlrpc

import (
	"fmt"
	"math"
	"reflect"
	"strings"
	"time"
)

// assign stores a decoded value (one of the package doc's Go types) in
// dst, converting where no information is lost: an int into any
// integer kind that holds it or into a float, a struct into a map or a
// Go struct (members without a field are ignored), an array into a
// slice or an array of its length, nil into a pointer, slice, map or
// interface (their zero). Anything else is an ErrType error naming the
// types.
func assign(dst reflect.Value, src any) error {
	if src == nil {
		switch dst.Kind() {
		case reflect.Pointer, reflect.Interface, reflect.Slice, reflect.Map:
			dst.SetZero()
			return nil
		}
		return typeErrorf("nil for a %s", dst.Type())
	}
	if dst.Kind() == reflect.Pointer {
		if dst.IsNil() {
			dst.Set(reflect.New(dst.Type().Elem()))
		}
		return assign(dst.Elem(), src)
	}
	if dst.Kind() == reflect.Interface {
		if reflect.TypeOf(src).AssignableTo(dst.Type()) {
			dst.Set(reflect.ValueOf(src))
			return nil
		}
		return mismatch(dst, src)
	}
	switch s := src.(type) {
	case int:
		switch dst.Kind() {
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			if dst.OverflowInt(int64(s)) {
				return typeErrorf("%d does not fit in a %s", s, dst.Type())
			}
			dst.SetInt(int64(s))
			return nil
		case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
			if s < 0 || dst.OverflowUint(uint64(s)) {
				return typeErrorf("%d does not fit in a %s", s, dst.Type())
			}
			dst.SetUint(uint64(s))
			return nil
		case reflect.Float32, reflect.Float64:
			dst.SetFloat(float64(s))
			return nil
		}
	case float64:
		switch dst.Kind() {
		case reflect.Float64:
			dst.SetFloat(s)
			return nil
		case reflect.Float32:
			if math.Abs(s) > math.MaxFloat32 {
				return typeErrorf("%v does not fit in a float32", s)
			}
			dst.SetFloat(s)
			return nil
		}
	case bool:
		if dst.Kind() == reflect.Bool {
			dst.SetBool(s)
			return nil
		}
	case string:
		if dst.Kind() == reflect.String {
			dst.SetString(s)
			return nil
		}
	case time.Time:
		if dst.Type() == timeType {
			dst.Set(reflect.ValueOf(s))
			return nil
		}
	case []byte:
		if dst.Kind() == reflect.Slice && dst.Type().Elem().Kind() == reflect.Uint8 {
			dst.SetBytes(append([]byte(nil), s...))
			return nil
		}
	case []any:
		return assignArray(dst, s)
	case map[string]any:
		return assignStruct(dst, s)
	}
	return mismatch(dst, src)
}

func mismatch(dst reflect.Value, src any) error {
	return typeErrorf("%s for a %s", wireType(reflect.TypeOf(src)), dst.Type())
}

func assignArray(dst reflect.Value, a []any) error {
	switch dst.Kind() {
	case reflect.Slice:
		s := reflect.MakeSlice(dst.Type(), len(a), len(a))
		for i, v := range a {
			if err := assign(s.Index(i), v); err != nil {
				return fmt.Errorf("element %d: %w", i, err)
			}
		}
		dst.Set(s)
		return nil
	case reflect.Array:
		if dst.Len() != len(a) {
			return typeErrorf("an array of %d for a %s", len(a), dst.Type())
		}
		for i, v := range a {
			if err := assign(dst.Index(i), v); err != nil {
				return fmt.Errorf("element %d: %w", i, err)
			}
		}
		return nil
	}
	return mismatch(dst, a)
}

func assignStruct(dst reflect.Value, m map[string]any) error {
	switch dst.Kind() {
	case reflect.Map:
		if dst.Type().Key().Kind() != reflect.String {
			break
		}
		out := reflect.MakeMapWithSize(dst.Type(), len(m))
		for k, v := range m {
			e := reflect.New(dst.Type().Elem()).Elem()
			if err := assign(e, v); err != nil {
				return fmt.Errorf("member %q: %w", k, err)
			}
			out.SetMapIndex(reflect.ValueOf(k).Convert(dst.Type().Key()), e)
		}
		dst.Set(out)
		return nil
	case reflect.Struct:
		if dst.Type() == timeType {
			break
		}
		fields := fieldsOf(dst.Type())
		for k, v := range m {
			f, ok := fieldNamed(fields, k)
			if !ok {
				continue
			}
			if err := assign(fieldAlloc(dst, f.index), v); err != nil {
				return fmt.Errorf("member %q: %w", k, err)
			}
		}
		return nil
	}
	return mismatch(dst, m)
}

// fieldAlloc is dst.FieldByIndex(index), allocating the nil embedded
// pointers on the way.
func fieldAlloc(dst reflect.Value, index []int) reflect.Value {
	for i, x := range index {
		if i > 0 && dst.Kind() == reflect.Pointer {
			if dst.IsNil() {
				dst.Set(reflect.New(dst.Type().Elem()))
			}
			dst = dst.Elem()
		}
		dst = dst.Field(x)
	}
	return dst
}

// fieldNamed finds a member's field: its exact name, else one that
// differs only in case.
func fieldNamed(fields []field, name string) (field, bool) {
	for _, f := range fields {
		if f.name == name {
			return f, true
		}
	}
	for _, f := range fields {
		if strings.EqualFold(f.name, name) {
			return f, true
		}
	}
	return field{}, false
}

// wireType names the XML-RPC type a Go type is written as, for errors
// and system.methodSignature.
func wireType(t reflect.Type) string {
	if t == nil {
		return "nil"
	}
	switch t {
	case timeType:
		return "dateTime.iso8601"
	case bytesType:
		return "base64"
	}
	switch t.Kind() {
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "int"
	case reflect.Float32, reflect.Float64:
		return "double"
	case reflect.String:
		return "string"
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return "base64"
		}
		return "array"
	case reflect.Map, reflect.Struct:
		return "struct"
	case reflect.Pointer:
		return wireType(t.Elem())
	}
	return "any"
}
