package accounts

import (
	"maps"
	"testing"
)

// FuzzParseFile feeds the account-file parser arbitrary bytes: it must
// not panic, must accept only valid names and bcrypt hashes, and what it
// accepts must survive a write and a reread unchanged.
func FuzzParseFile(f *testing.F) {
	f.Add([]byte(""))
	f.Add([]byte(fileHeader + "[[user]]\nname = 'alice'\nhash = '$2a$04$7k1nRv1b46sT/iMneG0JqOwPEO/w2ULjkkTmFqPNnN9XemZkswWxe'\napop_secret = 'sec'\ncreated = 2025-11-23T02:41:28Z\n"))
	f.Add([]byte("[[user]]\nname = \"a\"\nhash = \"$2y$10$......................................................\"\n[[user]]\nname = \"a\"\n"))
	f.Add([]byte("[[user]]\nname = \"../x\"\nhash = \"\"\n"))
	f.Add([]byte("user = 5\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		users, err := parseFile(b)
		if err != nil {
			return
		}
		for k, r := range users {
			if k != r.Name || CheckName(k) != nil {
				t.Fatalf("parseFile accepted user %q under key %q", r.Name, k)
			}
		}
		out, err := marshalFile(users)
		if err != nil {
			t.Fatalf("marshalFile(parsed) = %v", err)
		}
		again, err := parseFile(out)
		if err != nil {
			t.Fatalf("parseFile(marshalFile(x)) = %v\n%s", err, out)
		}
		if !maps.EqualFunc(users, again, func(a, b record) bool {
			return a.Name == b.Name && a.Hash == b.Hash && a.APOPSecret == b.APOPSecret && a.Created.Equal(b.Created)
		}) {
			t.Fatalf("round trip changed the accounts:\n%v\n%v", users, again)
		}
	})
}
