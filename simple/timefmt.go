package simple

import (
	"encoding/binary"
	"fmt"
	"time"
)

// DaytimeLayout is the layout of daytime replies: RFC 867 leaves the
// syntax free and suggests "Weekday, Month Day, Year Time-Zone"; the
// zone is written as a numeric offset so that a program can parse it.
const DaytimeLayout = "Monday, January 2, 2006 15:04:05 -0700"

// epoch1900 is where RFC 868 counts from; epoch2036 is where the
// 32-bit count wraps to 0.
var (
	epoch1900 = time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)
	epoch2036 = epoch1900.Add(time.Duration(1<<32) * time.Second)
)

// EncodeTime returns t as RFC 868's 32 bits of seconds since 1900,
// big-endian. After February 2036 the count wraps, as the RFC's does.
func EncodeTime(t time.Time) [4]byte {
	secs := t.Unix() - epoch1900.Unix()
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], uint32(secs))
	return b
}

// DecodeTime reads an RFC 868 time reply. Counts of 2^31 and above are
// seconds since 1900 (1968 to 2036); counts below are seconds since the
// 2036 wrap, so the reply of a server past 2036 still decodes.
func DecodeTime(b []byte) (time.Time, error) {
	if len(b) != 4 {
		return time.Time{}, &ReplyError{Service: Time, Reason: fmt.Sprintf("reply is %d bytes, want 4", len(b))}
	}
	v := binary.BigEndian.Uint32(b)
	if v >= 1<<31 {
		return epoch1900.Add(time.Duration(v) * time.Second), nil
	}
	return epoch2036.Add(time.Duration(v) * time.Second), nil
}
