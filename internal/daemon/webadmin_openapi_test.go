package daemon

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/plumbnet/plumb/nntp"
)

// schemaCheck validates v (decoded JSON) against an OpenAPI schema, for
// the subset the API's document uses: $ref, type, properties,
// required, items, enum, nullable, additionalProperties, format
// date-time. A property the schema does not name is an error: the
// document must describe every field the API sends.
func schemaCheck(doc map[string]any, schema map[string]any, v any, at string) error {
	if ref, ok := schema["$ref"].(string); ok {
		name := strings.TrimPrefix(ref, "#/components/schemas/")
		s, ok := doc["components"].(map[string]any)["schemas"].(map[string]any)[name].(map[string]any)
		if !ok {
			return fmt.Errorf("%s: unknown $ref %s", at, ref)
		}
		return schemaCheck(doc, s, v, at)
	}
	if v == nil {
		if schema["nullable"] == true {
			return nil
		}
		return fmt.Errorf("%s: null, and the schema is not nullable", at)
	}
	if enum, ok := schema["enum"].([]any); ok && !slices.Contains(enum, v) {
		return fmt.Errorf("%s: %v is not one of %v", at, v, enum)
	}
	switch schema["type"] {
	case "object":
		obj, ok := v.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: %T, want an object", at, v)
		}
		props, _ := schema["properties"].(map[string]any)
		req, _ := schema["required"].([]any)
		for _, r := range req {
			if _, ok := obj[r.(string)]; !ok {
				return fmt.Errorf("%s: required property %q missing", at, r)
			}
		}
		for k, pv := range obj {
			ps, ok := props[k].(map[string]any)
			if !ok {
				ps, ok = schema["additionalProperties"].(map[string]any)
			}
			if !ok {
				if props == nil && schema["additionalProperties"] == nil {
					continue // a free-form object
				}
				return fmt.Errorf("%s: property %q is not in the schema", at, k)
			}
			if err := schemaCheck(doc, ps, pv, at+"."+k); err != nil {
				return err
			}
		}
	case "array":
		arr, ok := v.([]any)
		if !ok {
			return fmt.Errorf("%s: %T, want an array", at, v)
		}
		items, _ := schema["items"].(map[string]any)
		for i, it := range arr {
			if err := schemaCheck(doc, items, it, fmt.Sprintf("%s[%d]", at, i)); err != nil {
				return err
			}
		}
	case "string":
		s, ok := v.(string)
		if !ok {
			return fmt.Errorf("%s: %T, want a string", at, v)
		}
		if schema["format"] == "date-time" {
			if _, err := time.Parse(time.RFC3339Nano, s); err != nil {
				return fmt.Errorf("%s: %q is not a date-time", at, s)
			}
		}
	case "integer":
		f, ok := v.(float64)
		if !ok || f != math.Trunc(f) {
			return fmt.Errorf("%s: %v, want an integer", at, v)
		}
	case "number":
		if _, ok := v.(float64); !ok {
			return fmt.Errorf("%s: %T, want a number", at, v)
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			return fmt.Errorf("%s: %T, want a boolean", at, v)
		}
	}
	return nil
}

func TestSchemaCheckCatches(t *testing.T) {
	doc := map[string]any{"components": map[string]any{"schemas": map[string]any{
		"A": map[string]any{"type": "object", "required": []any{"n"}, "properties": map[string]any{
			"n": map[string]any{"type": "integer"}, "e": map[string]any{"type": "string", "enum": []any{"x"}},
			"l": map[string]any{"type": "array", "items": map[string]any{"type": "string", "format": "date-time"}}}}}}}
	a := map[string]any{"$ref": "#/components/schemas/A"}
	for _, bad := range []string{`{}`, `{"n":1.5}`, `{"n":1,"e":"y"}`, `{"n":1,"extra":1}`, `{"n":1,"l":["yesterday"]}`, `{"n":null}`, `[]`} {
		var v any
		json.Unmarshal([]byte(bad), &v)
		if schemaCheck(doc, a, v, "$") == nil {
			t.Errorf("%s passed the schema", bad)
		}
	}
	var v any
	json.Unmarshal([]byte(`{"n":1,"e":"x","l":["2026-01-02T03:04:05Z"]}`), &v)
	if err := schemaCheck(doc, a, v, "$"); err != nil {
		t.Error(err)
	}
}

// TestOpenAPIDocumentsTheAPI: every route the API's mux serves is in
// /api/openapi.json, every documented operation is called against a
// daemon with mail, files and news in it and answers 2xx, and every
// JSON answer validates against the documented schema.
func TestOpenAPIDocumentsTheAPI(t *testing.T) {
	d, nntpAddr := startNNTPDaemon(t)
	admin := "http://" + addrOf(t, d, "admin")
	ctx := context.Background()
	ms, _ := d.MailStore()
	ms.CreateFolder("alice", "Archive")

	c := dialSMTP(t, addrOf(t, d, "smtp"))
	mime := "From: Shop <shop@far.test>\r\nTo: alice@localhost\r\nSubject: =?utf-8?q?r=C3=A9set?=\r\nDate: Mon, 02 Jan 2026 15:04:05 +0000\r\n" +
		"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nyour code is 42\r\n" +
		"--b\r\nContent-Type: text/html\r\n\r\n<p>code <b>42</b><script>alert(1)</script></p>\r\n" +
		"--b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"a.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0=\r\n--b--\r\n"
	for range 2 {
		if err := c.SendMail("shop@far.test", []string{"alice@localhost"}, strings.NewReader(mime), nil); err != nil {
			t.Fatal(err)
		}
	}
	nc, err := nntp.Dial(ctx, nntpAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if err := nc.Auth(ctx, "bob", "bob-pw"); err != nil {
		t.Fatal(err)
	}
	if err := nc.Post(ctx, strings.NewReader("From: bob@example.org\r\nNewsgroups: local.test\r\nSubject: hello\r\n\r\nbody\r\n")); err != nil {
		t.Fatal(err)
	}
	call(t, "PUT", admin+"/api/files/anonymous/dir/hello.txt", "application/octet-stream", "hello\n", 201)
	call(t, "PUT", admin+"/api/files/anonymous/gone.txt", "application/octet-stream", "x", 201)
	var hook struct{ ID string }
	json.Unmarshal(call(t, "POST", admin+"/api/webhooks", "application/json", `{"url":"http://127.0.0.1:9/hook","events":["delivery"]}`, 201), &hook)
	idle, err := net.Dial("tcp", nntpAddr) // a session to end
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	bufio.NewReader(idle).ReadString('\n')
	var sessions struct{ Sessions []struct{ ID uint64 } }
	json.Unmarshal(call(t, "GET", admin+"/api/sessions", "", "", 200), &sessions)
	var msgs struct{ Messages []struct{ UID uint32 } }
	json.Unmarshal(call(t, "GET", admin+"/api/messages?user=alice", "", "", 200), &msgs)
	if len(msgs.Messages) != 2 || len(sessions.Sessions) < 2 {
		t.Fatalf("seeded %d messages and %d sessions, want 2 and 2 or more", len(msgs.Messages), len(sessions.Sessions))
	}

	var doc map[string]any
	if err := json.Unmarshal(call(t, "GET", admin+"/api/openapi.json", "", "", 200), &doc); err != nil {
		t.Fatal(err)
	}
	paths := doc["paths"].(map[string]any)
	routes := d.admin.web.Routes()
	documented := map[string]bool{}
	for p, ops := range paths {
		for m := range ops.(map[string]any) {
			if !httpMethods[m] {
				continue // "parameters", "summary": the path's own fields
			}
			documented[strings.ToUpper(m)+" "+p] = true
		}
	}
	for _, r := range routes {
		key := strings.ReplaceAll(r, "...}", "}")
		if !documented[key] {
			t.Errorf("route %s is not in the OpenAPI document", r)
		}
		delete(documented, key)
	}
	for k := range documented { // not in Routes: an error for this test's own operations
		method, p, _ := strings.Cut(k, " ")
		op := paths[p].(map[string]any)[strings.ToLower(method)].(map[string]any)
		if tags, _ := op["tags"].([]any); len(tags) > 0 && slices.Contains(ownTags, tags[0]) {
			t.Errorf("the OpenAPI document has %s, which the API does not serve", k)
		}
	}

	keep, moved := msgs.Messages[1].UID, msgs.Messages[0].UID
	values := map[string]string{"user": "alice", "folder": "INBOX", "uid": fmt.Sprint(keep), "index": "0",
		"path": "anonymous/dir/hello.txt", "group": "local.test", "number": "1",
		"id": fmt.Sprint(sessions.Sessions[len(sessions.Sessions)-1].ID)}
	bodies := map[string]string{
		"POST /api/messages/{user}/{folder}/{uid}/move":    `{"folder":"Archive"}`,
		"POST /api/messages/{user}/{folder}/{uid}/flags":   `{"add":["\\Seen"],"remove":["\\Flagged"]}`,
		"POST /api/messages/{user}/{folder}/{uid}/release": `{"to":["bob@localhost"]}`,
		"POST /api/webhooks":                               `{"url":"http://127.0.0.1:9/other","events":[],"secret":"s"}`,
	}
	queries := map[string]string{
		"GET /api/messages": "?q=code&from=shop&subject=set&header=Content-Type:multipart&unseen=1&offset=0&limit=5",
		"GET /api/wait":     "?to=alice&since=2000-01-01T00:00:00Z&timeout=5s",
		"GET /api/log":      "?n=5&level=info",
		"GET /api/events":   "?kind=delivery,post",
	}
	var keys []string
	for p, ops := range paths {
		for m := range ops.(map[string]any) {
			if !httpMethods[m] {
				continue // "parameters", "summary": the path's own fields
			}
			keys = append(keys, strings.ToUpper(m)+" "+p)
		}
	}
	// Deletions last; the move before the deletion of its message.
	slices.SortFunc(keys, func(a, b string) int {
		rank := func(k string) int {
			switch {
			case strings.HasPrefix(k, "DELETE"):
				return 2
			case strings.HasSuffix(k, "/move"):
				return 1
			}
			return 0
		}
		if ra, rb := rank(a), rank(b); ra != rb {
			return ra - rb
		}
		return strings.Compare(a, b)
	})
	for _, key := range keys {
		method, p, _ := strings.Cut(key, " ")
		op := paths[p].(map[string]any)[strings.ToLower(method)].(map[string]any)
		if tags, _ := op["tags"].([]any); len(tags) == 0 || !slices.Contains(ownTags, tags[0]) {
			checkServed(t, admin, key) // another part's (chaos): its own tests call it
			continue
		}
		url := p
		for name, v := range values {
			if name == "uid" && strings.HasSuffix(p, "/move") {
				v = fmt.Sprint(moved)
			}
			if name == "id" && strings.HasPrefix(p, "/api/webhooks") {
				v = hook.ID
			}
			if name == "path" && method == "DELETE" {
				v = "anonymous/gone.txt"
			}
			url = strings.ReplaceAll(url, "{"+name+"}", v)
		}
		if strings.Contains(url, "{") {
			t.Errorf("%s: no value for a path parameter", key)
			continue
		}
		url = admin + url + queries[key]
		ct := ""
		if bodies[key] != "" {
			ct = "application/json"
		}
		checkAnswer(t, doc, key, op, method, url, ct, bodies[key])
	}
}

// httpMethods are the keys of a path item that are operations.
var httpMethods = map[string]bool{"get": true, "put": true, "post": true, "delete": true, "patch": true, "head": true, "options": true}

// ownTags are the tags of the operations this test calls.
var ownTags = []any{"mail", "events", "files", "news", "ops", "webhooks"}

// checkServed reports a documented operation that the mux does not
// serve (the API's catch-all 404, or 405 for the method).
func checkServed(t *testing.T, admin, key string) {
	t.Helper()
	method, p, _ := strings.Cut(key, " ")
	for strings.Contains(p, "{") {
		i, j := strings.Index(p, "{"), strings.Index(p, "}")
		p = p[:i] + "x" + p[j+1:]
	}
	req, _ := http.NewRequest(method, admin+p, strings.NewReader("{}"))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Errorf("%s: %v", key, err)
		return
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode == http.StatusMethodNotAllowed || strings.Contains(string(b), "no such API route") {
		t.Errorf("%s is documented but not served: %s %s", key, resp.Status, b)
	}
}

// checkAnswer calls url and checks the answer against op's responses.
func checkAnswer(t *testing.T, doc map[string]any, key string, op map[string]any, method, url, ct, body string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, method, url, strings.NewReader(body))
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Errorf("%s: %v", key, err)
		return
	}
	defer resp.Body.Close()
	gotCT, _, _ := strings.Cut(resp.Header.Get("Content-Type"), ";")
	if gotCT == "text/event-stream" {
		line, _ := bufio.NewReader(resp.Body).ReadString('\n')
		if resp.StatusCode != 200 || !strings.HasPrefix(line, ":") {
			t.Errorf("%s: %d, first line %q", key, resp.StatusCode, line)
		}
		return
	}
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		t.Errorf("%s: %s: %s", key, resp.Status, b)
		return
	}
	responses := op["responses"].(map[string]any)
	r, ok := responses[fmt.Sprint(resp.StatusCode)].(map[string]any)
	if !ok {
		t.Errorf("%s: status %d is not documented", key, resp.StatusCode)
		return
	}
	content, _ := r["content"].(map[string]any)
	if content == nil {
		if len(b) != 0 {
			t.Errorf("%s: %d with a body, documented without", key, resp.StatusCode)
		}
		return
	}
	media, ok := content[gotCT].(map[string]any)
	if !ok {
		if _, bin := content["application/octet-stream"]; !bin {
			t.Errorf("%s: Content-Type %q is not documented", key, gotCT)
			return
		}
	}
	if gotCT != "application/json" {
		return
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Errorf("%s: not JSON: %v", key, err)
		return
	}
	if err := schemaCheck(doc, media["schema"].(map[string]any), v, "$"); err != nil {
		t.Errorf("%s: %v\n%s", key, err, b)
	}
}

// call makes a request and checks its status.
func call(t *testing.T, method, url, ct, body string, want int) []byte {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("%s %s = %s: %s, want %d", method, url, resp.Status, b, want)
	}
	return b
}
