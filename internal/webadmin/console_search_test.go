package webadmin

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseSearch(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Query
		bad  bool
	}{
		{in: "", want: Query{}},
		{in: "reset password", want: Query{Text: "reset password"}},
		{in: `from:ann subject:"your order" is:UNREAD`, want: Query{From: "ann", Subject: "your order", Unseen: true}},
		{in: `to:bob@example.org to:carol`, want: Query{To: "bob@example.org carol"}},
		{in: `"a from:b" c:d`, want: Query{Text: "a from:b c:d"}},
		{in: `From:Ann`, want: Query{From: "Ann"}},
		{in: `from:"unclosed`, bad: true},
		{in: `from:`, bad: true},
		{in: `is:read`, bad: true},
		{in: strings.Repeat("x", maxSearchBytes+1), bad: true},
		{in: strings.Repeat("x ", maxSearchTerms+1), bad: true},
	} {
		got, err := parseSearch(tc.in)
		if tc.bad {
			if err == nil {
				t.Errorf("parseSearch(%q) = %+v, want an error", tc.in, got)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("parseSearch(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
}

// formatSearch writes q as the search box would take it.
func formatSearch(q Query) string {
	var terms []string
	if q.Text != "" {
		terms = append(terms, `"`+q.Text+`"`)
	}
	for _, f := range []struct{ key, v string }{{"from", q.From}, {"to", q.To}, {"subject", q.Subject}} {
		if f.v != "" {
			terms = append(terms, f.key+`:"`+f.v+`"`)
		}
	}
	if q.Unseen {
		terms = append(terms, "is:unread")
	}
	return strings.Join(terms, " ")
}

// FuzzParseSearch checks that a search the console accepts, written
// back as a search, reads as the same query, and that no field holds
// a quote or more than the input had.
func FuzzParseSearch(f *testing.F) {
	for _, s := range []string{"", "a b", `from:"Ann Lee" is:unread`, `"x y" subject:z`, `to:a to:b`, `q:"from:x"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q, err := parseSearch(s)
		if err != nil {
			return
		}
		for _, v := range []string{q.Text, q.From, q.To, q.Subject} {
			if strings.Contains(v, `"`) || len(v) > len(s) {
				t.Fatalf("parseSearch(%q) = %+v: a field holds a quote or is longer than the input", s, q)
			}
		}
		out := formatSearch(q)
		if len(out) > maxSearchBytes {
			return
		}
		again, err := parseSearch(out)
		if err != nil || !reflect.DeepEqual(again, q) {
			t.Fatalf("parseSearch(%q) = %+v; written back as %q it reads %+v, %v", s, q, out, again, err)
		}
	})
}
