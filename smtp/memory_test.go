package smtp

import (
	"context"
	"errors"
	"testing"
)

func TestMemoryBackendVerdict(t *testing.T) {
	b := &MemoryBackend{}
	refused := &Error{Code: 550, EnhancedCode: EnhancedCode{5, 1, 1}, Msg: "no"}
	b.SetVerdict(func(rcpt string) error {
		if rcpt == "gone@x.test" {
			return refused
		}
		return nil
	})
	s, _ := b.NewSession(context.Background(), nil)
	s.Mail(context.Background(), "a@x.test", &MailOptions{})
	if err := s.Rcpt(context.Background(), "gone@x.test", &RcptOptions{}); !errors.Is(err, refused) {
		t.Errorf("Rcpt(gone@x.test) = %v, want the verdict's error", err)
	}
	if err := s.Rcpt(context.Background(), "ok@x.test", &RcptOptions{}); err != nil {
		t.Errorf("Rcpt(ok@x.test) = %v, want nil", err)
	}
	b.SetVerdict(nil)
	if err := s.Rcpt(context.Background(), "gone@x.test", &RcptOptions{}); err != nil {
		t.Errorf("Rcpt(gone@x.test) after SetVerdict(nil) = %v, want nil", err)
	}
}
