package main

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// firstSearches times the first API search of the INBOX (a) right
// after a start with no summaries, the search reading every message or
// waiting for the background pass to; (b) after a start with no
// summaries, once the pass the first page started is done (and how long
// the pass took); (c) right after a restart with the summaries on disk.
// Each starts plumb and stops it; (c) leaves the summaries for the rest.
func firstSearches(bin, cfgFile, data string, c *http.Client, ks []kind, n int) error {
	page, search := ks[0], ks[2] // API first page, API search
	summaries := filepath.Join(data, "webadmin", "summaries")
	file := filepath.Join(summaries, user, hex.EncodeToString([]byte("INBOX"))+".sum")
	var a, b, cc, pageTime, pass time.Duration
	steps := []func(base string) error{
		func(base string) (err error) {
			a, err = timeGet(c, base+search.path, func(body []byte) error { return search.check(body, n) })
			return err
		},
		func(base string) (err error) {
			start := time.Now()
			pageTime, err = timeGet(c, base+page.path, func(body []byte) error { return page.check(body, n) })
			if err == nil {
				pass, err = waitRecords(file, n, start)
			}
			if err == nil {
				b, err = timeGet(c, base+search.path, func(body []byte) error { return search.check(body, n) })
			}
			return err
		},
		func(base string) (err error) {
			cc, err = timeGet(c, base+search.path, func(body []byte) error { return search.check(body, n) })
			return err
		},
	}
	for i, step := range steps {
		if i < 2 {
			if err := os.RemoveAll(summaries); err != nil {
				return err
			}
		}
		p, err := startPlumb(bin, cfgFile)
		if err != nil {
			return err
		}
		err = step("http://" + p.admin)
		p.stop()
		if err != nil {
			return fmt.Errorf("first searches, step %c: %w", 'a'+i, err)
		}
	}
	fmt.Printf("\nfirst API search of the %d-message INBOX; target %s\n", n, ms(pageTarget))
	fmt.Printf("(a) right after a start, never summarized:      %9s  ratio %.2f\n", ms(a), float64(a)/float64(pageTarget))
	fmt.Printf("(b) once the background pass is done:          %9s  ratio %.2f  (first page %s; the pass took %s from it)\n",
		ms(b), float64(b)/float64(pageTarget), ms(pageTime), ms(pass))
	fmt.Printf("(c) right after a restart, summaries on disk:  %9s  ratio %.2f\n", ms(cc), float64(cc)/float64(pageTarget))
	fmt.Println("(d) is the \"after\" columns below: a search right after a delivery over SMTP")
	return nil
}

// waitRecords waits until the summary file has n records and returns
// the time since start; it looks every 20 ms, for at most 30 minutes.
func waitRecords(file string, n int, start time.Time) (time.Duration, error) {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for range tick.C {
		if b, err := os.ReadFile(file); err == nil && countRecords(b) >= n {
			return time.Since(start), nil
		}
		// A build of before the binary summary file: its JSON lines.
		if b, err := os.ReadFile(strings.TrimSuffix(file, ".sum") + ".jsonl"); err == nil && bytes.Count(b, []byte("\n")) >= n {
			return time.Since(start), nil
		}
		if time.Since(start) > 30*time.Minute {
			break
		}
	}
	return 0, fmt.Errorf("the summary file %s did not reach %d records", file, n)
}

// countRecords counts the whole records of a summary file (the daemon's
// webadmin_flat.go: a 12-byte header, then records of a little-endian
// uint32 length, a CRC and that many bytes; the CRCs are not checked).
func countRecords(b []byte) int {
	if len(b) < 12 || string(b[:8]) != "plumbsum" {
		return 0
	}
	n := 0
	for off := 12; off+8 <= len(b); n++ {
		size := int(binary.LittleEndian.Uint32(b[off:]))
		if off+8+size > len(b) {
			break
		}
		off += 8 + size
	}
	return n
}
