// Package webadmin is plumb serve's web console and REST API, served on
// the admin listener (127.0.0.1:10000 by default) beside /metrics.
//
// The console is server-rendered HTML with a little JavaScript, embedded
// in the binary; the API is JSON under /api/, described by the OpenAPI 3
// document at /api/openapi.json. Both read and change the daemon's stores
// through the interfaces in backend.go, which the daemon implements: this
// package knows no store and no protocol.
package webadmin
