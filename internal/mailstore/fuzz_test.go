package mailstore

import (
	"bytes"
	"testing"
	"time"
)

func msgsDate() time.Time { return time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC) }

func FuzzParseUIDList(f *testing.F) {
	f.Add([]byte("plumb-uidlist 1 V1700000000 N3\n1 123.M1P2Q3.host,S=5,W=6\n2 456.x\n"))
	f.Add([]byte("plumb-uidlist 1 V1 N1\n"))
	f.Add([]byte("plumb-uidlist 1 V1 N1\n5 a\n5 b\n"))
	f.Add([]byte("plumb-uidlist 1 V1 N1\n4294967295 a\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		l, byKey, err := parseUIDList(string(b))
		if err != nil {
			return
		}
		if l.validity == 0 || l.next == 0 {
			t.Fatalf("parsed zero validity or next: %+v", l)
		}
		var last uint32
		keys := map[string]bool{}
		for _, e := range l.entries {
			if e.uid <= last || e.uid >= l.next || keys[e.key] || !validKey(e.key) {
				t.Fatalf("bad entry %+v after UID %d (next %d)", e, last, l.next)
			}
			if uid, ok := byKey[e.key]; !ok || uid != e.uid {
				t.Fatalf("entry %+v maps to UID %d, %v", e, uid, ok)
			}
			last, keys[e.key] = e.uid, true
		}
		if len(byKey) != len(l.entries) {
			t.Fatalf("%d keys mapped for %d entries", len(byKey), len(l.entries))
		}
		// What we write we read back the same.
		again, _, err := parseUIDList(string(l.marshal()))
		if err != nil || again.validity != l.validity || again.next != l.next || len(again.entries) != len(l.entries) {
			t.Fatalf("round trip of %q: %+v, %v", l.marshal(), again, err)
		}
		if !bytes.Equal(again.marshal(), l.marshal()) {
			t.Fatalf("marshal not stable")
		}
	})
}

func FuzzParseFileName(f *testing.F) {
	f.Add("1700000000.M1P2Q3.host,S=123,W=130:2,FS")
	f.Add("1700000000.M1P2Q3.host")
	f.Add("x:1,foo")
	f.Add("x,S=-1,W=abc:2,zzaA")
	f.Fuzz(func(t *testing.T, name string) {
		fn, err := parseFileName(name)
		if err != nil {
			return
		}
		if fn.key == "" || fn.size < -1 || fn.vsize < -1 {
			t.Fatalf("parseFileName(%q) = %+v", name, fn)
		}
		if NewFlags(string(fn.flags)) != fn.flags {
			t.Fatalf("flags %q not canonical", fn.flags)
		}
		again, err := parseFileName(fn.name(true))
		if err != nil || again.key != fn.key || again.flags != fn.flags || again.size != fn.size || again.vsize != fn.vsize {
			t.Fatalf("round trip of %q via %q: %+v, %v", name, fn.name(true), again, err)
		}
	})
}
