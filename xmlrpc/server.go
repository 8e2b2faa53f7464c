package xmlrpc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"reflect"
	"runtime/debug"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
)

// A Server answers XML-RPC calls over HTTP POST; it is an
// [net/http.Handler], so it mounts on any mux (plumb's HTTP service
// has it at /RPC2). The zero value is ready to use: methods are added
// with [Server.Register], and the system.* methods are always there.
type Server struct {
	// MaxRequestBytes caps a request body; 0 means DefaultMaxBytes.
	MaxRequestBytes int64
	// MaxDepth caps the nesting of arrays and structs, in requests and
	// in results; 0 means DefaultMaxDepth.
	MaxDepth int
	// MaxValues caps the values in one request; 0 means DefaultMaxValues.
	MaxValues int
	// Logger logs faults the caller did not cause (panics, errors that
	// are not a *Fault); nil means slog.Default().
	Logger *slog.Logger

	mu      sync.Mutex // held by Register
	methods atomic.Pointer[map[string]*method]
}

// method is a registered Go function.
type method struct {
	name, help string
	fn         reflect.Value
	withCtx    bool           // the first parameter is a context.Context
	in         []reflect.Type // the XML-RPC parameters
	variadic   bool           // the last of in takes the remaining arguments
	withErr    bool           // the second result is an error
	signature  []string       // result type, then each parameter's
}

var (
	contextType = reflect.TypeFor[context.Context]()
	errorType   = reflect.TypeFor[error]()
)

// builtins are the system.* methods every Server has.
var builtins = map[string]struct{ help, sig string }{
	"system.listMethods":     {"Lists the methods of this server.", "array"},
	"system.methodHelp":      {"Returns a method's help text.", "string string"},
	"system.methodSignature": {"Returns a method's signatures: arrays of its result type and its parameters' types.", "array string"},
	"system.multicall":       {"Calls several methods in one request: an array of structs {methodName, params}; returns an array of one-element arrays (the result) or fault structs.", "array array"},
}

// Register adds a method. fn is a Go function whose parameters are the
// method's, optionally after a first context.Context (the request's),
// and whose results are one value, or a value and an error:
//
//	srv.Register("math.add", func(ctx context.Context, a, b int) (int, error) { … }, "Adds two integers.")
//
// Arguments are converted to the parameter types as [Client.Call]
// converts results (an int into a float64, a struct into a Go struct or
// a map, nil into a pointer); a call with the wrong count or types gets
// a CodeInvalidParams fault. A variadic function takes any count from
// its last parameter on. An error that is a *Fault (errors.As) is the
// caller's fault response; any other error is logged and answered with
// CodeServerError and no detail, and so is a panic (CodeInternalError).
// The method's signature for system.methodSignature comes from fn's
// types. Register refuses a name taken, a system.* name, a name of
// characters other than the spec's (letters, digits, _ . : /), and a
// function of another shape.
func (s *Server) Register(name string, fn any, help string) error {
	if err := checkName(name); err != nil {
		return err
	}
	if _, ok := builtins[name]; ok {
		return fmt.Errorf("xmlrpc: %s is built in", name)
	}
	m, err := newMethod(name, fn, help)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.table()
	if _, ok := old[name]; ok {
		return fmt.Errorf("xmlrpc: method %s registered twice", name)
	}
	// A new table each time, so that a call looks a method up with no
	// lock: registering is rare, calling is not.
	t := make(map[string]*method, len(old)+1)
	maps.Copy(t, old)
	t[name] = m
	s.methods.Store(&t)
	return nil
}

// table returns the methods registered so far; nil before the first.
func (s *Server) table() map[string]*method {
	if t := s.methods.Load(); t != nil {
		return *t
	}
	return nil
}

func checkName(name string) error {
	if name == "" {
		return fmt.Errorf("%w: empty method name", ErrBadArgument)
	}
	for _, c := range []byte(name) {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9',
			c == '_', c == '.', c == ':', c == '/':
		default:
			return fmt.Errorf("%w: method name %q: only letters, digits, _ . : and / are allowed", ErrBadArgument, name)
		}
	}
	return nil
}

func newMethod(name string, fn any, help string) (*method, error) {
	v := reflect.ValueOf(fn)
	if fn == nil || v.Kind() != reflect.Func || v.IsNil() {
		return nil, fmt.Errorf("xmlrpc: method %s: %T is not a function", name, fn)
	}
	t := v.Type()
	m := &method{name: name, help: help, fn: v, variadic: t.IsVariadic()}
	for i := range t.NumIn() {
		in := t.In(i)
		if i == 0 && in == contextType {
			m.withCtx = true
			continue
		}
		m.in = append(m.in, in)
	}
	switch {
	case t.NumOut() == 1 && t.Out(0) != errorType:
	case t.NumOut() == 2 && t.Out(1) == errorType:
		m.withErr = true
	default:
		return nil, fmt.Errorf("xmlrpc: method %s: results must be (T) or (T, error), not %s", name, t)
	}
	m.signature = []string{wireType(t.Out(0))}
	for _, in := range m.in {
		m.signature = append(m.signature, wireType(in))
	}
	return m, nil
}

func (s *Server) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}

func (s *Server) maxDepth() int { return newLimits(s.MaxDepth, s.MaxValues).depth }

// ServeHTTP answers one call. Anything but POST gets 405; everything
// else, a parse error or a request over a limit included, gets a
// response or a fault with status 200, as the spec has it.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "XML-RPC takes POST", http.StatusMethodNotAllowed)
		return
	}
	maxBytes := s.MaxRequestBytes
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBytes
	}
	in, out := getBuffer(), getBuffer()
	defer putBuffer(in)
	defer putBuffer(out)
	defer func() {
		// invoke recovers a method's panics; this is for the server's
		// own, in the reflection around a method, so that even then the
		// caller gets a fault, not a reset connection.
		if p := recover(); p != nil {
			s.logger().Error("xmlrpc: panic serving a call", "panic", p, "stack", string(debug.Stack()))
			out.Reset()
			writeFault(out, Errorf(CodeInternalError, "internal error"))
			w.Header().Set("Content-Type", "text/xml; charset=utf-8")
			w.Header().Set("Content-Length", strconv.Itoa(out.Len()))
			w.Write(out.Bytes())
		}
	}()
	// The body is read whole (it is bounded) so that the parser reads
	// from memory, with no buffered reader of its own per request. A
	// body of a declared length within the limit is bounded by
	// net/http already; any other goes through a MaxBytesReader.
	body := r.Body
	if r.ContentLength < 0 || r.ContentLength > maxBytes {
		body = http.MaxBytesReader(w, r.Body, maxBytes)
	} else {
		in.Grow(int(r.ContentLength) + bytes.MinRead)
	}
	_, err := in.ReadFrom(body)
	var name string
	var params []any
	if err == nil {
		name, params, err = parseCallBytes(in.Bytes(), newLimits(s.MaxDepth, s.MaxValues))
	}
	var f *Fault
	switch {
	case err == nil:
		out.WriteString(responseHead)
		if f = s.call(r.Context(), out, name, params, true); f == nil {
			out.WriteString(responseTail)
		}
	case overLimit(err):
		f = Errorf(CodeParseError, "request over %d bytes", maxBytes)
	case errors.Is(err, ErrTooLarge):
		f = Errorf(CodeParseError, "%v", err)
	case errors.Is(err, ErrSyntax):
		f = Errorf(CodeParseError, "%v", err)
	default:
		return // the connection broke: nobody to answer
	}
	if f != nil {
		out.Reset()
		writeFault(out, f)
	}
	h := w.Header()
	h["Content-Type"] = xmlType // canonical keys, set as they are
	if out.Len() > smallResponse {
		h["Content-Length"] = []string{strconv.Itoa(out.Len())}
	}
	w.Write(out.Bytes()) // one write: net/http sends header and body together
}

func overLimit(err error) bool {
	var mbe *http.MaxBytesError
	return errors.As(err, &mbe)
}

var xmlType = []string{"text/xml; charset=utf-8"}

// smallResponse is the most net/http buffers from a handler before it
// sends the header (2048 bytes, its bufferBeforeChunkingSize): a
// response that fits is sent whole when ServeHTTP returns, with a
// Content-Length net/http adds itself ("if the total size of all
// written data is under a few KB", http.ResponseWriter), at no cost of
// ours. A larger one gets its length set here, so that it is not sent
// chunked; TestServerFraming checks both.
const smallResponse = 2048

var buffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func getBuffer() *bytes.Buffer { return buffers.Get().(*bytes.Buffer) }

// putBuffer returns b to the pool, unless a large message made it large.
func putBuffer(b *bytes.Buffer) {
	if b.Cap() <= 64<<10 {
		b.Reset()
		buffers.Put(b)
	}
}

// call runs one method and appends its encoded result to buf, or
// returns its fault, buf then as it was.
func (s *Server) call(ctx context.Context, buf *bytes.Buffer, name string, params []any, top bool) *Fault {
	var result any
	var f *Fault
	switch name {
	case "system.listMethods":
		result, f = s.listMethods(), arity(name, params, 0)
	case "system.methodHelp", "system.methodSignature":
		if f = arity(name, params, 1); f != nil {
			break
		}
		result, f = s.introspect(name, params[0])
	case "system.multicall":
		if !top {
			return Errorf(CodeInvalidRequest, "system.multicall cannot be nested")
		}
		if f = arity(name, params, 1); f == nil {
			return s.multicall(ctx, buf, params[0])
		}
	default:
		m := s.table()[name]
		if m == nil {
			return Errorf(CodeMethodNotFound, "method %q not found", name)
		}
		result, f = s.invoke(ctx, m, params)
	}
	if f != nil {
		return f
	}
	mark := buf.Len()
	e := encoder{buf, s.maxDepth()}
	if err := e.any(result, 0); err != nil {
		buf.Truncate(mark)
		s.logger().Error("xmlrpc: a result cannot be encoded", "method", name, "err", err)
		return Errorf(CodeInternalError, "the result of %s cannot be encoded", name)
	}
	return nil
}

func arity(name string, params []any, n int) *Fault {
	if len(params) != n {
		return Errorf(CodeInvalidParams, "%s takes %d argument(s), not %d", name, n, len(params))
	}
	return nil
}

// invoke converts the arguments and calls m, turning a panic into a fault.
func (s *Server) invoke(ctx context.Context, m *method, params []any) (result any, f *Fault) {
	fixed := len(m.in)
	if m.variadic {
		fixed--
	}
	if len(params) < fixed || !m.variadic && len(params) > fixed {
		want := strconv.Itoa(fixed)
		if m.variadic {
			want = "at least " + want
		}
		return nil, Errorf(CodeInvalidParams, "%s takes %s argument(s), not %d", m.name, want, len(params))
	}
	var argv [6]reflect.Value
	args := argv[:0]
	if m.withCtx {
		args = append(args, reflect.ValueOf(ctx))
	}
	for i, p := range params {
		t := m.in[min(i, len(m.in)-1)]
		if m.variadic && i >= fixed {
			t = t.Elem()
		}
		if p != nil && reflect.TypeOf(p) == t {
			// The decoded value is of the parameter's type (an int for
			// an int, a string for a string): it is the argument as it
			// is, with no conversion. It is the call's own, so the
			// method may keep it.
			args = append(args, reflect.ValueOf(p))
			continue
		}
		a := reflect.New(t).Elem()
		if err := assign(a, p); err != nil {
			return nil, Errorf(CodeInvalidParams, "%s: argument %d: %v", m.name, i+1, err)
		}
		args = append(args, a)
	}
	defer func() {
		if p := recover(); p != nil {
			s.logger().Error("xmlrpc: method panicked", "method", m.name, "panic", p, "stack", string(debug.Stack()))
			result, f = nil, Errorf(CodeInternalError, "internal error in %s", m.name)
		}
	}()
	out := m.fn.Call(args)
	if m.withErr && !out[1].IsNil() {
		err := out[1].Interface().(error)
		if errors.As(err, &f) {
			return nil, f
		}
		s.logger().Error("xmlrpc: method failed", "method", m.name, "err", err)
		return nil, Errorf(CodeServerError, "%s failed", m.name)
	}
	return out[0].Interface(), nil
}

func (s *Server) listMethods() []string {
	t := s.table()
	names := make([]string, 0, len(t)+len(builtins))
	for n := range t {
		names = append(names, n)
	}
	for n := range builtins {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// introspect answers system.methodHelp and system.methodSignature.
func (s *Server) introspect(which string, arg any) (any, *Fault) {
	name, ok := arg.(string)
	if !ok {
		return nil, Errorf(CodeInvalidParams, "%s takes a method name", which)
	}
	var help string
	var sig []string
	if b, ok := builtins[name]; ok {
		help, sig = b.help, splitFields(b.sig)
	} else {
		m := s.table()[name]
		if m == nil {
			return nil, Errorf(CodeMethodNotFound, "method %q not found", name)
		}
		help, sig = m.help, m.signature
	}
	if which == "system.methodHelp" {
		return help, nil
	}
	return [][]string{sig}, nil
}

func splitFields(s string) []string {
	var out []string
	for len(s) > 0 {
		i := 0
		for i < len(s) && s[i] != ' ' {
			i++
		}
		out = append(out, s[:i])
		if i < len(s) {
			i++
		}
		s = s[i:]
	}
	return out
}

// multicall answers system.multicall: each call's result as a
// one-element array, or its fault struct, in order.
func (s *Server) multicall(ctx context.Context, buf *bytes.Buffer, arg any) *Fault {
	calls, ok := arg.([]any)
	if !ok {
		return Errorf(CodeInvalidParams, "system.multicall takes an array of {methodName, params} structs")
	}
	buf.WriteString("<value><array><data>")
	for _, c := range calls {
		buf.WriteString("<value><array><data>")
		if f := s.multicallOne(ctx, buf, c); f != nil {
			buf.Truncate(buf.Len() - len("<value><array><data>"))
			fv, _ := encodeValue(f.value(), 2)
			buf.Write(fv)
			continue
		}
		buf.WriteString("</data></array></value>")
	}
	buf.WriteString("</data></array></value>")
	return nil
}

func (s *Server) multicallOne(ctx context.Context, buf *bytes.Buffer, c any) *Fault {
	m, ok := c.(map[string]any)
	name, _ := m["methodName"].(string)
	if !ok || name == "" {
		return Errorf(CodeInvalidRequest, "a multicall entry needs a methodName")
	}
	params, ok := m["params"].([]any)
	if !ok && m["params"] != nil {
		return Errorf(CodeInvalidRequest, "the params of a multicall entry must be an array")
	}
	return s.call(ctx, buf, name, params, false)
}
