package webadmin

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

const sampleMIME = "From: =?utf-8?q?Ren=C3=A9?= <rene@example.org>\r\n" +
	"Subject: =?iso-8859-1?q?caf=E9?=\r\n" +
	"X-Long: one\r\n two\r\n" +
	"MIME-Version: 1.0\r\n" +
	"Content-Type: multipart/mixed; boundary=outer\r\n\r\n" +
	"--outer\r\nContent-Type: multipart/alternative; boundary=inner\r\n\r\n" +
	"--inner\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nna=C3=AFve =\r\ntext\r\n" +
	"--inner\r\nContent-Type: text/html; charset=iso-8859-1\r\n\r\n<p>caf\xe9</p>\r\n" +
	"--inner--\r\n" +
	"--outer\r\nContent-Type: image/png; name=\"dot.png\"\r\nContent-Transfer-Encoding: base64\r\nContent-ID: <dot@x>\r\n\r\niVBORw0K\r\nGgo=\r\n" +
	"--outer\r\nContent-Type: text/plain\r\nContent-Disposition: attachment; filename=\"notes.txt\"\r\n\r\nnot the body\r\n" +
	"--outer--\r\n"

func TestParseView(t *testing.T) {
	v, err := ParseView(strings.NewReader(sampleMIME))
	if err != nil {
		t.Fatal(err)
	}
	wantHeaders := []Header{{"From", "René <rene@example.org>"}, {"Subject", "café"}, {"X-Long", "one two"},
		{"MIME-Version", "1.0"}, {"Content-Type", "multipart/mixed; boundary=outer"}}
	if len(v.Headers) != len(wantHeaders) {
		t.Fatalf("headers = %q", v.Headers)
	}
	for i, h := range wantHeaders {
		if v.Headers[i] != h {
			t.Errorf("header %d = %q, want %q", i, v.Headers[i], h)
		}
	}
	if v.Text != "naïve text" {
		t.Errorf("text = %q", v.Text)
	}
	if v.HTML != "<p>café</p>" {
		t.Errorf("html = %q", v.HTML)
	}
	if len(v.Attachments) != 2 {
		t.Fatalf("attachments = %+v", v.Attachments)
	}
	png, ok := v.Data(0)
	if a := v.Attachments[0]; !ok || a.Filename != "dot.png" || a.ContentType != "image/png" || a.ContentID != "dot@x" || !bytes.Equal(png, []byte("\x89PNG\r\n\x1a\n")) || a.Size != 8 {
		t.Errorf("attachment 0 = %+v, %q", a, png)
	}
	if a := v.Attachments[1]; a.Filename != "notes.txt" || a.Index != 1 {
		t.Errorf("attachment 1 = %+v: an attached text/plain is no body", a)
	}
	if _, ok := v.Data(2); ok {
		t.Error("Data(2) of 2 attachments")
	}
}

func TestParseViewLimits(t *testing.T) {
	if _, err := ParseView(strings.NewReader("no header at all")); err == nil {
		t.Error("a message without a header parsed")
	}
	// Nesting beyond maxViewDepth and parts beyond maxViewParts are not followed.
	deep := "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
	for range maxViewParts + 50 {
		deep += "--b\r\nContent-Type: application/octet-stream\r\n\r\nx\r\n"
	}
	deep += "--b--\r\n"
	v, err := ParseView(strings.NewReader(deep))
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Attachments) >= maxViewParts {
		t.Errorf("%d attachments: more than maxViewParts were looked at", len(v.Attachments))
	}
	nested := ""
	for i := range maxViewDepth + 10 {
		nested += "Content-Type: multipart/mixed; boundary=n" + strings.Repeat("x", i) + "\r\n\r\n--n" + strings.Repeat("x", i) + "\r\n"
	}
	nested += "Content-Type: text/plain\r\n\r\ndeep text\r\n"
	v, err = ParseView(strings.NewReader("Subject: deep\r\n" + nested))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(v.Text, "deep text") {
		t.Error("text beyond maxViewDepth was taken")
	}
}

// FuzzParseView: any input parses or fails cleanly; what parses is
// valid UTF-8 in its text and HTML, its attachments are numbered in
// order with their sizes, parsing is deterministic, and a plain text
// body comes back exactly.
func FuzzParseView(f *testing.F) {
	f.Add([]byte(sampleMIME), "hello")
	f.Add([]byte("Subject: x\r\n\r\nbody"), "")
	f.Add([]byte("Content-Type: multipart/mixed; boundary=\"\"\r\n\r\n--\r\n"), "a\r\nb")
	f.Fuzz(func(t *testing.T, data []byte, body string) {
		v, err := ParseView(bytes.NewReader(data))
		if err == nil {
			if !utf8.ValidString(v.Text) || !utf8.ValidString(v.HTML) {
				t.Fatalf("text %q or html %q is not UTF-8", v.Text, v.HTML)
			}
			if len(v.Attachments) > maxViewParts {
				t.Fatalf("%d attachments", len(v.Attachments))
			}
			for i, a := range v.Attachments {
				d, ok := v.Data(i)
				if a.Index != i || !ok || len(d) != a.Size {
					t.Fatalf("attachment %d = %+v with %d bytes", i, a, len(d))
				}
			}
			again, err := ParseView(bytes.NewReader(data))
			j1, _ := json.Marshal(v)
			j2, _ := json.Marshal(again)
			if err != nil || !bytes.Equal(j1, j2) {
				t.Fatalf("parsing twice differs")
			}
		}
		body = strings.ToValidUTF8(body, "?")
		v, err = ParseView(strings.NewReader("Content-Type: text/plain; charset=utf-8\r\n\r\n" + body))
		if err != nil || v.Text != body {
			t.Fatalf("plain body %q came back %q (%v)", body, v.Text, err)
		}
	})
}
