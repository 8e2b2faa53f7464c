// Package interop holds black-box tests: the built plumb binary against
// real third-party clients and servers (Python's standard library, curl,
// and Debian's packaged servers). A missing peer skips its test, unless
// PLUMB_INTEROP=require is set, as .ci/run sets it: then it fails. A
// peer that is installed but built without what the test needs (curl
// has no NNTP: TestNNTPCurl) skips with the reason even then, since
// installing it again would not change that.
package interop
