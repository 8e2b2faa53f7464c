package webadmin

import (
	"embed"
	"encoding/json"
	"io/fs"
	"log/slog"
	"maps"
	"slices"
)

// openapiFragments are the pieces of the API's OpenAPI 3 document, one
// file per part of the API (mail, files, ops, chaos, ...), each
// {"paths": {...}, "components": {"schemas": {...}}}.
//
//go:embed openapi/*.json
var openapiFragments embed.FS

// openAPIDocument merges the fragments, in file name order, into one
// document. A fragment that does not parse, or that names a path or a
// schema another one has, is logged and that part left out.
func openAPIDocument(log *slog.Logger) []byte {
	paths := map[string]json.RawMessage{}
	schemas := map[string]json.RawMessage{}
	names, _ := fs.Glob(openapiFragments, "openapi/*.json")
	slices.Sort(names)
	for _, name := range names {
		b, _ := openapiFragments.ReadFile(name)
		var frag struct {
			Paths      map[string]json.RawMessage `json:"paths"`
			Components struct {
				Schemas map[string]json.RawMessage `json:"schemas"`
			} `json:"components"`
		}
		if err := json.Unmarshal(b, &frag); err != nil {
			log.Error("webadmin: OpenAPI fragment left out", "file", name, "err", err)
			continue
		}
		for _, part := range []struct {
			into, from map[string]json.RawMessage
			what       string
		}{{paths, frag.Paths, "path"}, {schemas, frag.Components.Schemas, "schema"}} {
			for _, k := range slices.Sorted(maps.Keys(part.from)) {
				if _, dup := part.into[k]; dup {
					log.Error("webadmin: OpenAPI fragment repeats a "+part.what, "file", name, part.what, k)
					continue
				}
				part.into[k] = part.from[k]
			}
		}
	}
	doc := map[string]any{
		"openapi": "3.0.3",
		"info": map[string]string{
			"title":       "plumb serve",
			"version":     "1",
			"description": "The REST API of plumb serve's admin listener: mail, files, news, the daemon's services, sessions, metrics and log, events and webhooks. Errors are {\"error\": \"...\", \"code\": N}. Loopback clients need no token; others send Authorization: Bearer <token> over HTTPS.",
		},
		"servers":    []map[string]string{{"url": "/"}},
		"paths":      paths,
		"components": map[string]any{"schemas": schemas, "securitySchemes": map[string]any{"bearer": map[string]string{"type": "http", "scheme": "bearer"}}},
		"security":   []map[string][]string{{}, {"bearer": {}}},
	}
	b, _ := json.MarshalIndent(doc, "", " ")
	return b
}
