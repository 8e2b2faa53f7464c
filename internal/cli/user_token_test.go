package cli

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/plumbnet/plumb/internal/accounts"
)

func TestUserToken(t *testing.T) {
	data := t.TempDir()
	if _, _, err := runSocketCmd(t, strings.NewReader("pw-alice-123\n"), "user", "add", "alice", "--data", data); err != nil {
		t.Fatal(err)
	}
	out, _, err := runSocketCmd(t, nil, "user", "token", "Alice", "--data", data)
	if err != nil {
		t.Fatal(err)
	}
	tok := strings.TrimSpace(out)
	db, err := accounts.Open(filepath.Join(data, accounts.FileName))
	if err != nil {
		t.Fatal(err)
	}
	if u, ok := db.TokenUser(tok); !ok || u != "alice" {
		t.Fatalf("TokenUser(%q) = %q, %v; want alice", tok, u, ok)
	}
	if _, ok := db.TokenUser(tok + "x"); ok {
		t.Error("a changed token is accepted")
	}
	if _, _, err := runSocketCmd(t, nil, "user", "token", "alice", "--revoke", "--data", data); err != nil {
		t.Fatal(err)
	}
	if _, ok := db.TokenUser(tok); ok {
		t.Error("a revoked token is accepted")
	}
	if _, _, err := runSocketCmd(t, nil, "user", "token", "nobody", "--data", data); err == nil || !strings.Contains(err.Error(), "no user") {
		t.Errorf("token for a missing user: %v", err)
	}
}
