package webadmin

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits of a console search: its length and its number of terms.
const (
	maxSearchBytes = 1000
	maxSearchTerms = 20
)

// parseSearch reads the search box of the message list: words match
// anywhere (Query.Text), from:, to: and subject: match those fields,
// is:unread keeps unseen messages, and "double quotes" keep spaces in
// one term (from:"Ann Lee"). Repeated terms of one field are joined
// with a space, as the backend matches each field as one substring.
func parseSearch(s string) (Query, error) {
	var q Query
	if len(s) > maxSearchBytes {
		return q, fmt.Errorf("longer than %d bytes", maxSearchBytes)
	}
	if !utf8.ValidString(s) {
		return q, fmt.Errorf("not UTF-8")
	}
	terms, err := searchTerms(s)
	if err != nil {
		return q, err
	}
	if len(terms) > maxSearchTerms {
		return q, fmt.Errorf("more than %d terms", maxSearchTerms)
	}
	add := func(dst *string, v string) {
		if *dst != "" {
			*dst += " "
		}
		*dst += v
	}
	for _, t := range terms {
		key, val, ok := strings.Cut(t, ":")
		k := strings.ToLower(key)
		switch {
		case !ok || (k != "from" && k != "to" && k != "subject" && k != "is"):
			add(&q.Text, t)
		case val == "":
			return q, fmt.Errorf("%s: needs a value", k)
		case k == "from":
			add(&q.From, val)
		case k == "to":
			add(&q.To, val)
		case k == "subject":
			add(&q.Subject, val)
		case strings.EqualFold(val, "unread"):
			q.Unseen = true
		default:
			return q, fmt.Errorf("is:%s: only is:unread is known", val)
		}
	}
	return q, nil
}

// searchTerms splits s at white space outside double quotes and drops
// the quotes.
func searchTerms(s string) ([]string, error) {
	var terms []string
	var cur strings.Builder
	flush := func() {
		if t := strings.TrimSpace(cur.String()); t != "" {
			terms = append(terms, t)
		}
		cur.Reset()
	}
	quoted := false
	for _, r := range s {
		switch {
		case r == '"':
			quoted = !quoted
		case !quoted && unicode.IsSpace(r):
			flush()
		default:
			cur.WriteRune(r)
		}
	}
	if quoted {
		return nil, fmt.Errorf("a double quote is not closed")
	}
	flush()
	return terms, nil
}
