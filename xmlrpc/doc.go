// Package xmlrpc is an XML-RPC server and client, after the XML-RPC
// specification (xmlrpc.com, "XML-RPC Specification", 1999, with its
// 2003 clarifications), with the nil extension (<nil/>, as Python's
// allow_none and Apache XML-RPC write it), the <i8> integers Python and
// Apache read, and the introspection and multicall methods of the
// system.* namespace (system.listMethods, system.methodHelp,
// system.methodSignature, system.multicall).
//
// Values map to Go as follows, both ways:
//
//	<i4>, <int>, <i8>     int (any integer kind when encoding; <i8> only outside 32 bits)
//	<boolean>             bool
//	<string>, bare text   string
//	<double>              float64 (finite only: the spec has no NaN or infinity)
//	<dateTime.iso8601>    time.Time, written 20060102T15:04:05 as its own clock reads
//	<base64>              []byte
//	<struct>              map[string]any, a map with string keys, or a Go struct
//	                      (fields named by an `xmlrpc:"name,omitempty"` tag, else their name)
//	<array>               []any or any slice or array
//	<nil/>                nil (a nil pointer, interface, or what decodes into one)
//
// A nil slice or map is written as an empty array or struct, so that
// only an explicit nil needs a peer that knows the extension.
//
// A [Server] is an [net/http.Handler]: Go functions register with typed
// arguments and results ([Server.Register]), and a call that does not
// fit, a panic, or an error that is not a [*Fault] becomes a fault
// response, never an HTTP 500. Parsers are bounded: request and
// response size, nesting depth and the count of values
// ([Server.MaxRequestBytes], [Client.MaxResponseBytes], MaxDepth,
// MaxValues). The XML is read by a small tokenizer of the plain XML
// peers write (elements without attributes, text without references),
// and anything else by encoding/xml's streaming decoder; neither
// resolves an entity, and a document type declaration (<!DOCTYPE …>)
// or any other directive is refused outright. Time
// limits (a request that arrives slowly, a connection left idle) are the
// http.Server's that serves the handler.
//
// A [Client] calls a server's methods and decodes the result into a Go
// value ([Client.Call]); a fault is returned as a [*Fault]. Basic
// authentication comes from the URL's user information and is refused
// over plain HTTP to a host that is not loopback, unless
// [Client.InsecureAuth]; TLS is whatever [Client.HTTPClient] does.
//
// Not implemented: the extension types some servers send beyond nil and
// i8 (<ex:i1>, <ex:dom>, <ex:serializable>), character sets other than
// UTF-8, US-ASCII and ISO-8859-1, and fractions of a second in dates.
package xmlrpc
