package simple

// RFC 864's character generator: line n holds the 72 printable ASCII
// characters starting at position n (mod 95) of the ring " !\"#...~",
// followed by CRLF.
const (
	chargenRing     = 95 // printable ASCII, ' ' through '~'
	ChargenLineLen  = 72 // characters on a chargen line, CRLF excluded
	chargenLineSize = ChargenLineLen + 2
	chargenCycleLen = chargenRing * chargenLineSize // bytes before the pattern repeats
	// MaxChargenDatagram is the largest UDP chargen reply (RFC 864).
	MaxChargenDatagram = 512
)

// chargenStream is the pattern from line 0, long enough that a write of
// chargenWrite bytes can start at any line of the first cycle. It is
// shared, read-only, by every connection, so chargen allocates nothing
// per connection.
var chargenStream = func() []byte {
	const cycles = 10
	b := make([]byte, 0, cycles*chargenCycleLen)
	for n := 0; n < cycles*chargenRing; n++ {
		b = appendChargenLine(b, n)
	}
	return b
}()

// chargenWrite is how much one TCP write sends: whole cycles, so the
// next write starts at line 0 again.
const chargenWrite = 9 * chargenCycleLen

// appendChargenLine appends line n of the pattern with its CRLF.
func appendChargenLine(b []byte, n int) []byte {
	start := n % chargenRing
	for i := 0; i < ChargenLineLen; i++ {
		b = append(b, byte(' '+(start+i)%chargenRing))
	}
	return append(b, '\r', '\n')
}

// chargenDatagram returns a UDP reply of size bytes starting at line n;
// size is at most MaxChargenDatagram.
func chargenDatagram(n, size int) []byte {
	off := (n % chargenRing) * chargenLineSize
	return chargenStream[off : off+size]
}

// ChargenOffset returns where b continues the chargen pattern: the byte
// offset within one cycle of the pattern (0 <= off < 7030) at which b
// appears, or -1 if b is not a piece of the pattern. A receiver uses it
// to check a stream or a datagram it got.
func ChargenOffset(b []byte) int {
	if len(b) == 0 {
		return 0
	}
	for off := 0; off < chargenCycleLen; off++ {
		if matchChargen(b, off) {
			return off
		}
	}
	return -1
}

// matchChargen reports whether b is the pattern starting at byte offset
// off of a cycle.
func matchChargen(b []byte, off int) bool {
	for len(b) > 0 {
		off %= chargenCycleLen
		n := min(len(b), len(chargenStream)-off)
		if string(b[:n]) != string(chargenStream[off:off+n]) {
			return false
		}
		b, off = b[n:], off+n
	}
	return true
}
