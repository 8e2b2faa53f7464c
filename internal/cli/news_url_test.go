package cli

import "testing"

// TestParseNewsURLGroupOrID: news:comp.lang.go is a group, not the
// message-id <comp.lang.go>; only a name with "@" is an article.
func TestParseNewsURLGroupOrID(t *testing.T) {
	for _, tc := range []struct{ raw, group, id string }{
		{"news:comp.lang.go", "comp.lang.go", ""},
		{"news:abc@example.org", "", "<abc@example.org>"},
		{"news:<abc@example.org>", "", "<abc@example.org>"},
	} {
		got, err := parseNewsURL(tc.raw, "localhost:10119")
		if err != nil || got.group != tc.group || got.id != tc.id {
			t.Errorf("parseNewsURL(%q) = %+v, %v; want group %q id %q", tc.raw, got, err, tc.group, tc.id)
		}
	}
	if _, err := parseNewsURL("news:bad name", "localhost:10119"); err == nil {
		t.Errorf("parseNewsURL(news:bad name) succeeded")
	}
}
