package daemon

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFingerLeavesMissingHomeAlone: fingering an account without a
// home answers for it and does not make the home.
func TestFingerLeavesMissingHomeAlone(t *testing.T) {
	d := startFingerDaemon(t, func(c *FingerConfig) { c.Fields = []string{"name", "plan"} })
	if err := d.Accounts().Add("carol", "carol-password"); err != nil {
		t.Fatal(err)
	}
	if got := fingerOf(t, d, "carol"); !strings.Contains(got, "Login: carol") {
		t.Errorf("finger carol (no home) = %q, want her entry", got)
	}
	if _, err := os.Stat(filepath.Join(d.DataDir(), "files", "home", "carol")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("finger carol made her home (stat: %v), want it left alone", err)
	}
}

// TestFingerListHidesNoFinger: the list of users logged in leaves out
// one who opted out with .nofinger.
func TestFingerListHidesNoFinger(t *testing.T) {
	d := startFingerDaemon(t, func(c *FingerConfig) { c.ListUsers = true })
	defer d.Presence().Login("alice", "pop3")()
	defer d.Presence().Login("bob", "ftp")()
	got := fingerOf(t, d, "")
	if !strings.Contains(got, "alice") {
		t.Errorf("empty query = %q, want alice listed", got)
	}
	if strings.Contains(got, "bob") {
		t.Errorf("empty query = %q, lists bob, who has a .nofinger", got)
	}
}
