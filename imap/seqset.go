package imap

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// MaxSeqRanges bounds the ranges of one sequence set.
const MaxSeqRanges = 1000

// A SeqRange is Start:Stop; 0 stands for "*", the largest number in use.
type SeqRange struct{ Start, Stop uint32 }

// A SeqSet is a sequence set (RFC 9051 section 9, sequence-set): message
// sequence numbers or UIDs. Dollar is "$", the saved search result
// (RFC 5182), and holds nothing else.
type SeqSet struct {
	Ranges []SeqRange
	Dollar bool
}

var errBadSeqSet = errors.New("bad sequence set")

// ParseSeqSet parses "1:3,7,9:*" or "$".
func ParseSeqSet(s string) (SeqSet, error) {
	if s == "$" {
		return SeqSet{Dollar: true}, nil
	}
	var set SeqSet
	for part := range strings.SplitSeq(s, ",") {
		if len(set.Ranges) == MaxSeqRanges {
			return SeqSet{}, fmt.Errorf("%w: over %d ranges", errBadSeqSet, MaxSeqRanges)
		}
		a, b, isRange := strings.Cut(part, ":")
		start, err := parseSeqNum(a)
		if err != nil {
			return SeqSet{}, err
		}
		stop := start
		if isRange {
			if stop, err = parseSeqNum(b); err != nil {
				return SeqSet{}, err
			}
		}
		set.Ranges = append(set.Ranges, SeqRange{start, stop})
	}
	return set, nil
}

func parseSeqNum(s string) (uint32, error) {
	if s == "*" {
		return 0, nil
	}
	if s == "" || s[0] == '0' || s[0] == '+' {
		return 0, fmt.Errorf("%w: %q", errBadSeqSet, s)
	}
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("%w: %q", errBadSeqSet, s)
	}
	return uint32(n), nil
}

// String returns the set in its wire form.
func (s SeqSet) String() string {
	if s.Dollar {
		return "$"
	}
	var b strings.Builder
	num := func(n uint32) {
		if n == 0 {
			b.WriteByte('*')
		} else {
			b.WriteString(strconv.FormatUint(uint64(n), 10))
		}
	}
	for i, r := range s.Ranges {
		if i > 0 {
			b.WriteByte(',')
		}
		num(r.Start)
		if r.Stop != r.Start {
			b.WriteByte(':')
			num(r.Stop)
		}
	}
	return b.String()
}

// Contains reports whether n is in the set, star being the largest
// number in use (a range n:* holds star even when n > star).
func (s SeqSet) Contains(n, star uint32) bool {
	for _, r := range s.Ranges {
		lo, hi := r.Start, r.Stop
		if lo == 0 {
			lo = star
		}
		if hi == 0 {
			hi = star
		}
		if lo > hi {
			lo, hi = hi, lo
		}
		if n >= lo && n <= hi {
			return true
		}
	}
	return false
}

// SeqSetOf returns a set holding nums, in ranges where they run on.
func SeqSetOf(nums ...uint32) SeqSet {
	var s SeqSet
	for _, n := range nums {
		if k := len(s.Ranges); k > 0 && s.Ranges[k-1].Stop+1 == n {
			s.Ranges[k-1].Stop = n
			continue
		}
		s.Ranges = append(s.Ranges, SeqRange{n, n})
	}
	return s
}
