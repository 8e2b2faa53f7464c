package interop

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// socatListening is the line socat -d -d logs once it listens.
var socatListening = regexp.MustCompile(`listening on AF=2 (127\.0\.0\.1:\d+)`)

// startInetd runs child once per connection, as inetd would: socat
// listens (listen: "TCP-LISTEN" or "OPENSSL-LISTEN") on a loopback port
// the kernel picks, so no other process can take it first, and forks
// child (a socat EXEC: or SYSTEM: address; a SYSTEM: command finds the
// port in $SOCAT_SOCKPORT) for each connection. opts are more socat
// options of the listening address. It returns the address once socat
// says it listens; socat and its children stop with the test.
func startInetd(t testing.TB, listen, opts, child string) string {
	t.Helper()
	socat := need(t, "socat")
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("%s:0,bind=127.0.0.1,fork,reuseaddr%s", listen, opts)
	cmd := exec.Command(socat, "-d", "-d", addr, child)
	cmd.Stderr = w
	startPeerProcess(t, cmd)
	w.Close()
	found := make(chan string, 1)
	var mu sync.Mutex
	var log []string // socat's last lines, for a failure's message
	go func() {
		defer r.Close()
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			if m := socatListening.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case found <- m[1]:
				default:
				}
			}
			mu.Lock()
			log = append(log[max(0, len(log)-20):], sc.Text())
			mu.Unlock()
		}
		close(found)
	}()
	select {
	case a, ok := <-found:
		if ok {
			return a
		}
	case <-time.After(20 * time.Second):
	}
	mu.Lock()
	defer mu.Unlock()
	t.Fatalf("socat %s %s did not start listening:\n%s", addr, child, strings.Join(log, "\n"))
	return ""
}
