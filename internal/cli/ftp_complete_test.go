package cli

import "testing"

func TestCommonPrefixKeepsWholeCharacters(t *testing.T) {
	for _, tc := range []struct{ a, b, want string }{
		{"café-a", "cafè-b", "caf"},
		{"quarterly", "quartz", "quart"},
		{"same", "same", "same"},
		{"日本語", "日本人", "日本"},
	} {
		if got := commonPrefix(tc.a, tc.b); got != tc.want {
			t.Errorf("commonPrefix(%q, %q) = %q, want %q", tc.a, tc.b, got, tc.want)
		}
	}
}
