package chaos

import (
	"encoding/json"
	"log/slog"
	"reflect"
	"testing"
)

// FuzzRuleJSON checks the API's rule parser: a body that decodes and
// passes Validate prints back to JSON that decodes to the same rule,
// which passes again; and a rule that fails Validate is never stored.
func FuzzRuleJSON(f *testing.F) {
	for _, s := range []string{
		`{}`,
		`{"latency":"250ms","latency_per_byte":"1us","bandwidth":1000}`,
		`{"drop_after_bytes":10,"drop_probability":0.5,"tls_failure":1}`,
		`{"steps":[{"step":"rcpt","code":"451","message":"later","probability":0.25}]}`,
		`{"steps":[{"step":"*","code":"NO UNAVAILABLE"}]}`,
		`{"latency":"-1s"}`,
		`{"steps":[{"step":"RCPT","code":"4\r\n51"}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var r Rule
		if json.Unmarshal(b, &r) != nil {
			return
		}
		fs := New(slog.New(slog.DiscardHandler), nil)
		if err := r.Validate(); err != nil {
			if fs.Set("svc", r) == nil || fs.Service("svc").Rule() != nil {
				t.Fatalf("invalid rule %s stored", b)
			}
			return
		}
		out, err := json.Marshal(r)
		if err != nil {
			t.Fatalf("Marshal(%+v): %v", r, err)
		}
		var again Rule
		if err := json.Unmarshal(out, &again); err != nil {
			t.Fatalf("Unmarshal(%s): %v", out, err)
		}
		if err := again.Validate(); err != nil {
			t.Fatalf("%s valid, printed %s invalid: %v", b, out, err)
		}
		if !reflect.DeepEqual(normal(r), normal(again)) {
			t.Fatalf("round trip %s -> %s changed the rule: %+v vs %+v", b, out, r, again)
		}
	})
}

// normal gives every step its effective probability, so that absent and
// 1 compare equal, and an empty step list nil.
func normal(r Rule) Rule {
	steps := r.Steps
	r.Steps = nil
	for _, s := range steps {
		p := s.chance()
		s.Probability = &p
		r.Steps = append(r.Steps, s)
	}
	return r
}
