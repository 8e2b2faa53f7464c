package cli

import "testing"

func TestParseEscape(t *testing.T) {
	for in, want := range map[string]byte{"^]": 0x1d, "^X": 0x18, "^x": 0x18, "~": '~', "none": 0} {
		if got, err := parseEscape(in); err != nil || got != want {
			t.Errorf("parseEscape(%q) = %#x, %v; want %#x", in, got, err, want)
		}
	}
	for _, bad := range []string{"ab", "^]x"} {
		if _, err := parseEscape(bad); err == nil {
			t.Errorf("parseEscape(%q) accepted", bad)
		}
	}
}
