package simple

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// MaxQuote is the longest qotd reply in bytes, line ends (CRLF) included:
// RFC 865 asks for fewer than 512 characters.
const MaxQuote = 511

// maxQuoteFile bounds what ParseQuotes reads.
const maxQuoteFile = 4 << 20

// ParseQuotes reads quotations separated by blank lines or by lines
// holding only "%" (the fortune(6) format). Leading and trailing blank
// lines of a quotation are dropped and its lines are joined with CRLF.
// A quotation that would make a reply of more than [MaxQuote] bytes is
// skipped and counted in skipped. It reads at most 4 MiB.
func ParseQuotes(r io.Reader) (quotes []string, skipped int, err error) {
	sc := bufio.NewScanner(io.LimitReader(r, maxQuoteFile))
	sc.Buffer(make([]byte, 0, 4096), maxQuoteFile)
	var lines []string
	flush := func() {
		if len(lines) == 0 {
			return
		}
		q := strings.Join(lines, "\r\n")
		lines = lines[:0]
		if len(q)+2 > MaxQuote {
			skipped++
			return
		}
		quotes = append(quotes, q)
	}
	for sc.Scan() {
		line := strings.TrimRight(strings.Map(dropControl, sc.Text()), " \t")
		if strings.TrimSpace(line) == "" || line == "%" {
			flush()
			continue
		}
		lines = append(lines, line)
	}
	if err := sc.Err(); err != nil {
		return nil, 0, fmt.Errorf("simple: reading quotes: %w", err)
	}
	flush()
	return quotes, skipped, nil
}

// dropControl removes control characters other than tab from a quote,
// so a quotation file cannot put escape sequences on a peer's terminal.
func dropControl(r rune) rune {
	if r == '\t' || (r >= ' ' && r != 0x7f) {
		return r
	}
	return -1
}

// builtinQuotes answer qotd when no quotation file is given.
var builtinQuotes = []string{
	"Be conservative in what you do, be liberal in what you accept from others.\r\n  -- Jon Postel, RFC 793",
	"We reject: kings, presidents and voting. We believe in: rough consensus and running code.\r\n  -- David Clark",
	"The Internet is a network of networks.",
	"Every protocol should be simple enough to be tested by a person with a terminal and some patience.",
	"It is more important that a protocol be understood than that it be clever.",
	"There is no such thing as a small change to a widely deployed protocol.",
	"A quote a day keeps the boredom away. -- RFC 865, more or less",
	"The network is reliable, latency is zero, bandwidth is infinite. (Three of the fallacies of distributed computing.)",
	"In theory there is no difference between theory and practice. In practice there is.",
	"Simple things should be simple, complex things should be possible.\r\n  -- Alan Kay",
}
