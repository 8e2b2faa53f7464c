package nntp

import "strings"

// Wildmat reports whether name matches the wildmat pattern (RFC 3977
// section 4): comma-separated patterns of *, ? and literal characters,
// each optionally negated with "!"; the last pattern that matches
// decides. A malformed pattern matches nothing.
func Wildmat(pattern, name string) bool {
	matched := false
	for _, p := range strings.Split(pattern, ",") {
		neg := strings.HasPrefix(p, "!")
		if neg {
			p = p[1:]
		}
		if globMatch(p, name) {
			matched = !neg
		}
	}
	return matched
}

// globMatch matches * and ? (no character classes: RFC 3977's wildmat
// has none), iteratively with one backtrack point.
func globMatch(p, s string) bool {
	pi, si, star, mark := 0, 0, -1, 0
	for si < len(s) {
		switch {
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, si
			pi++
		case pi < len(p) && (p[pi] == '?' || p[pi] == s[si]):
			pi++
			si++
		case star >= 0:
			pi, mark = star+1, mark+1
			si = mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}

// validWildmat reports whether pattern is a wildmat of printable
// characters (section 4.1: no space, no control character).
func validWildmat(pattern string) bool {
	if pattern == "" {
		return false
	}
	for _, c := range []byte(pattern) {
		if c <= ' ' || c == 0x7f {
			return false
		}
	}
	return true
}
