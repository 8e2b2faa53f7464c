// Package interop holds black-box tests: the built plumb binary against
// real third-party clients and servers (Python's standard library, curl,
// and Debian's packaged servers). A missing peer skips its test, unless
// PLUMB_INTEROP=require is set, as .ci/run sets it: then it fails.
package interop
