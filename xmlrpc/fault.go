package xmlrpc

import (
	"errors"
	"fmt"
)

// A Fault is an XML-RPC fault response: a method returns one to choose
// the code and text the caller sees, and [Client.Call] returns the
// server's as one.
type Fault struct {
	Code   int
	String string
}

func (f *Fault) Error() string { return fmt.Sprintf("xmlrpc: fault %d: %s", f.Code, f.String) }

// Errorf returns a fault with code and a formatted text.
func Errorf(code int, format string, args ...any) *Fault {
	return &Fault{Code: code, String: fmt.Sprintf(format, args...)}
}

// Fault codes the server itself sends, from the "specification for
// fault code interoperability" most XML-RPC implementations follow.
const (
	CodeParseError     = -32700 // the request is not well-formed XML, or is over a limit
	CodeInvalidRequest = -32600 // well-formed, but not an XML-RPC method call
	CodeMethodNotFound = -32601
	CodeInvalidParams  = -32602 // wrong count or types of arguments
	CodeInternalError  = -32603 // a panic, or a result that cannot be encoded
	CodeServerError    = -32500 // the method returned an error that is not a *Fault
)

// Errors of the parsers and the client, matched with errors.Is.
var (
	// ErrTooLarge: a message over the size, depth or value-count limit.
	ErrTooLarge = errors.New("xmlrpc: message over a limit")
	// ErrSyntax: XML that is not a well-formed XML-RPC message.
	ErrSyntax = errors.New("xmlrpc: malformed message")
	// ErrType: a value that cannot be encoded, or decoded into the Go value given.
	ErrType = errors.New("xmlrpc: type mismatch")
	// ErrBadArgument: a method name of characters the spec does not allow
	// (letters, digits, _ . : /), or empty.
	ErrBadArgument = errors.New("xmlrpc: bad argument")
	// ErrPlaintext: a password the client would send over plain HTTP to a host not on loopback.
	ErrPlaintext = errors.New("xmlrpc: refusing to send a password over plain HTTP to a host not on loopback")
)

// value is a fault as the struct the wire carries; what XML cannot
// carry in its text becomes U+FFFD.
func (f *Fault) value() map[string]any {
	return map[string]any{"faultCode": f.Code, "faultString": xmlSafe(f.String)}
}

// faultFrom reads a fault struct, as lenient as peers are in what they send.
func faultFrom(v any) (*Fault, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%w: a fault that is not a struct", ErrSyntax)
	}
	f := &Fault{}
	switch c := m["faultCode"].(type) {
	case int:
		f.Code = c
	case nil:
	default:
		return nil, fmt.Errorf("%w: faultCode %v is not an int", ErrSyntax, c)
	}
	if s, ok := m["faultString"].(string); ok {
		f.String = s
	}
	return f, nil
}
