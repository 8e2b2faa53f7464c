package mailstore

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// crashEnv, set in a child process, holds "<dir>|<step>|<n>": deliver
// into dir and die by SIGKILL at the n-th <step> of the last delivery.
const crashEnv = "PLUMB_MAILSTORE_CRASH"

// crashDeliveries is how many deliveries the child makes; the last,
// to both users, is the one killed.
const crashDeliveries = 6

// TestDeliverCrash kills a delivering process between the steps of a
// delivery and then checks the tree as a power cut at that moment
// would leave it: whatever a UID list held beyond its last fsync is
// cut off. Every message acknowledged must still be there exactly once
// under the UID it was acknowledged with, even after a message added
// behind plumb's back takes the next free UID; the one cut short is
// there at most once.
func TestDeliverCrash(t *testing.T) {
	if spec := os.Getenv(crashEnv); spec != "" {
		crashChild(spec)
		return
	}
	for _, tc := range []struct {
		step string
		nth  int
	}{
		{"stage", 1}, // written, not yet linked for the second user
		{"place", 1}, // staged for both, in neither's new/
		{"place", 2}, // in the first user's new/ only
		{"uid", 1},   // in both new/, no UID yet
		{"uid", 2},   // the first user's UID given, the second's not
		{"done", 1},  // every UID given, not yet acknowledged
	} {
		t.Run(fmt.Sprintf("%s#%d", tc.step, tc.nth), func(t *testing.T) {
			testCrashAt(t, tc.step, tc.nth)
		})
	}
}

func testCrashAt(t *testing.T, step string, nth int) {
	dir := t.TempDir()
	ctx := context.Background()
	users := []string{"u1", "u2"}
	s, _ := Open(dir)
	durable := map[string]int64{} // UID list path -> size at its last fsync
	validity := map[string]uint32{}
	for _, u := range users {
		deliver(t, s, u, "", "seed\n")
		mb, _ := s.Mailbox(ctx, u, "")
		validity[u], _, _ = mb.UIDValidity()
		fi, err := os.Stat(filepath.Join(dir, u, uidListFile))
		if err != nil {
			t.Fatal(err)
		}
		durable[filepath.Join(dir, u, uidListFile)] = fi.Size()
	}

	cmd := exec.Command(os.Args[0], "-test.run=^TestDeliverCrash$", "-test.count=1")
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s|%s|%d", crashEnv, dir, step, nth))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("child delivering until %s #%d = %v, want killed by SIGKILL\nstdout:\n%s\nstderr:\n%s", step, nth, err, out, stderr.Bytes())
	}

	type ack struct {
		body string
		uid  uint32
	}
	acked := map[string][]ack{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) == 4 && f[0] == "ack":
			uid, _ := strconv.ParseUint(f[3], 10, 32)
			acked[f[2]] = append(acked[f[2]], ack{body: "message " + f[1] + "\n", uid: uint32(uid)})
		case len(f) == 3 && f[0] == "synced":
			n, _ := strconv.ParseInt(f[2], 10, 64)
			if _, ok := durable[f[1]]; ok {
				durable[f[1]] = max(durable[f[1]], n)
			}
		}
	}
	if got := len(acked["u1"]); got != crashDeliveries-1 {
		t.Fatalf("child acknowledged %d deliveries to u1, want %d\n%s", got, crashDeliveries-1, out)
	}
	// The power cut: unsynced appends to a UID list are lost.
	for p, n := range durable {
		if err := os.Truncate(p, n); err != nil {
			t.Fatal(err)
		}
	}
	for _, u := range users {
		b, _ := readFileString(filepath.Join(dir, u, uidListFile))
		l, _, err := parseUIDList(b)
		if err != nil {
			t.Fatalf("%s's UID list after the crash: %v\n%s", u, err, b)
		}
		listed := map[uint32]bool{}
		for _, e := range l.entries {
			listed[e.uid] = true
		}
		for _, a := range acked[u] {
			if !listed[a.uid] {
				t.Errorf("%s's UID list after the crash lacks acknowledged UID %d (not fsynced before Deliver returned)\n%s", u, a.uid, b)
			}
		}
		// Another program's delivery, found at the next listing, must not
		// take a UID that was acknowledged.
		if err := os.WriteFile(filepath.Join(dir, u, "new", "1.foreign.host"), []byte("foreign\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}

	s2, _ := Open(dir)
	for _, u := range users {
		mb, _ := s2.Mailbox(ctx, u, "")
		msgs := messages(t, s2, u, "")
		byBody := map[string][]uint32{}
		var last, top uint32
		for _, m := range msgs {
			if m.UID <= last {
				t.Errorf("%s's UIDs after the crash are not ascending: %d after %d", u, m.UID, last)
			}
			last, top = m.UID, max(top, m.UID)
			body := read(t, mb, m.UID)
			byBody[body] = append(byBody[body], m.UID)
		}
		for body, uids := range byBody {
			if len(uids) != 1 {
				t.Errorf("%s holds %q %d times (UIDs %v), want once", u, body, len(uids), uids)
			}
		}
		for _, a := range acked[u] {
			if got := byBody[a.body]; len(got) != 1 || got[0] != a.uid {
				t.Errorf("%s's acknowledged %q has UIDs %v after the crash, want [%d]", u, a.body, got, a.uid)
			}
		}
		if v, _, _ := mb.UIDValidity(); v != validity[u] {
			t.Errorf("%s's UIDVALIDITY after the crash = %d, want %d", u, v, validity[u])
		}
		if uid := deliver(t, s2, u, "", "after\n"); uid <= top {
			t.Errorf("Deliver(%s) after the crash = UID %d, want > %d", u, uid, top)
		}
	}
}

// crashChild delivers crashDeliveries messages, alternately to u1 and
// to both users, printing "ack <i> <user> <uid>" for each one
// acknowledged and "synced <path> <size>" for each fsync of a UID list,
// and kills itself at the chosen step of the last delivery.
func crashChild(spec string) {
	parts := strings.Split(spec, "|")
	dir, step := parts[0], parts[1]
	nth, _ := strconv.Atoi(parts[2])
	s, err := Open(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	armed, seen := false, 0
	s.hooks.step = func(name, path string) error {
		if armed && name == step {
			if seen++; seen == nth {
				syscall.Kill(os.Getpid(), syscall.SIGKILL)
				select {} // the signal is on its way
			}
		}
		return nil
	}
	s.hooks.synced = func(f *os.File) {
		if filepath.Base(f.Name()) != uidListFile {
			return
		}
		if fi, err := f.Stat(); err == nil {
			fmt.Fprintf(os.Stdout, "synced %s %d\n", f.Name(), fi.Size())
		}
	}
	ctx := context.Background()
	for i := range crashDeliveries {
		users := []string{"u1"}
		if i%2 == 1 {
			users = append(users, "u2")
		}
		armed = i == crashDeliveries-1
		uids, err := s.DeliverMany(ctx, users, strings.NewReader(fmt.Sprintf("message %d\n", i)))
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(3)
		}
		for j, u := range users {
			fmt.Fprintf(os.Stdout, "ack %d %s %d\n", i, u, uids[j])
		}
	}
	fmt.Fprintln(os.Stderr, "the delivery was not interrupted")
	os.Exit(3)
}
