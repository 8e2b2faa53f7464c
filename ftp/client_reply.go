package ftp

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/plumbnet/plumb/internal/wire"
)

// Limits on what a server may send the client, so that a hostile or
// broken server cannot make it buffer without bound.
const (
	maxReplyLine  = 8 << 10  // one line of a reply
	maxReplyBytes = 1 << 20  // all lines of one multi-line reply
	maxListLine   = 16 << 10 // one line of a LIST, NLST or MLSD listing
)

// replyReader reads the replies of the control connection c, bounded
// line by line. Bare LF ends a line too: the client is lenient in what
// it accepts. The client sets its own deadlines, command by command.
func replyReader(c io.Reader) *wire.Reader {
	r := wire.NewReader(bufio.NewReaderSize(c, 4096))
	r.MaxLine, r.Lenient = maxReplyLine+2, true
	return r
}

// readLine reads one line with r, a line over r's bound being errReplyTooLong.
func readLine(r *wire.Reader) (string, error) {
	line, err := r.ReadLine()
	if errors.Is(err, wire.ErrLineTooLong) {
		return "", fmt.Errorf("%w: %w", errReplyTooLong, err)
	}
	return line, err
}

// replyCode returns the code of a reply line "NNN text" or "NNN-text",
// and the separator after it (' ', '-' or 0 for a bare "NNN").
func replyCode(line string) (code int, sep byte, ok bool) {
	if len(line) < 3 {
		return 0, 0, false
	}
	for i := 0; i < 3; i++ {
		if line[i] < '0' || line[i] > '9' {
			return 0, 0, false
		}
	}
	if line[0] < '1' || line[0] > '5' {
		return 0, 0, false
	}
	code = int(line[0]-'0')*100 + int(line[1]-'0')*10 + int(line[2]-'0')
	if len(line) == 3 {
		return code, 0, true
	}
	if line[3] != ' ' && line[3] != '-' {
		return 0, 0, false
	}
	return code, line[3], true
}

// readReply reads one reply, single- or multi-line (RFC 959 section
// 4.2): a first line "NNN-" opens a reply that ends at the first line
// starting "NNN " with the same code. The text keeps each line; the
// "NNN-" prefixes of the inner lines that carry it are removed.
func readReply(r *wire.Reader) (int, string, error) {
	line, err := readLine(r)
	if err != nil {
		return 0, "", err
	}
	code, sep, ok := replyCode(line)
	if !ok {
		return 0, "", fmt.Errorf("ftp: malformed reply %q", truncate(line, 80))
	}
	if sep != '-' {
		if sep == 0 {
			return code, "", nil
		}
		return code, line[4:], nil
	}
	var msg strings.Builder
	msg.WriteString(line[4:])
	for {
		line, err := readLine(r)
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return 0, "", err
		}
		if msg.Len()+len(line) > maxReplyBytes {
			return 0, "", errReplyTooLong
		}
		msg.WriteByte('\n')
		c2, sep2, ok := replyCode(line)
		switch {
		case ok && c2 == code && sep2 != '-':
			if sep2 == ' ' {
				msg.WriteString(line[4:])
			}
			return code, msg.String(), nil
		case ok && c2 == code:
			msg.WriteString(line[4:])
		default:
			msg.WriteString(line)
		}
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
