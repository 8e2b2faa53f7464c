package telnet

import (
	"io"
	"sync"
)

// Telnet commands (RFC 854): each follows an IAC byte.
const (
	SE   = 240 // end of subnegotiation
	NOP  = 241
	DM   = 242 // data mark
	BRK  = 243 // break
	IP   = 244 // interrupt process
	AO   = 245 // abort output
	AYT  = 246 // are you there
	EC   = 247 // erase character
	EL   = 248 // erase line
	GA   = 249 // go ahead
	SB   = 250 // subnegotiation begins
	WILL = 251
	WONT = 252
	DO   = 253
	DONT = 254
	IAC  = 255 // interpret as command
)

// DefaultMaxSubnegotiation is the longest subnegotiation a Parser keeps
// when its MaxSubnegotiation is 0.
const DefaultMaxSubnegotiation = 1024

// A Token is one piece of a decoded telnet stream: data, or a command.
type Token struct {
	// Data is NVT data with the telnet escapes removed; nil for a command.
	Data []byte
	// Verb is the command after IAC (WILL, DO, SB, IP, …); 0 for data.
	Verb byte
	// Option is the option of WILL/WONT/DO/DONT and SB.
	Option Option
	// Sub is a subnegotiation's parameters (after the option, before
	// IAC SE), IAC IAC undone.
	Sub []byte
	// TooLong marks a subnegotiation longer than the limit: Sub holds
	// its first MaxSubnegotiation bytes and the rest was dropped.
	TooLong bool
}

// parser states
const (
	psData  = iota
	psCR    // CR seen in data
	psIAC   // IAC seen in data
	psVerb  // WILL/WONT/DO/DONT seen, option next
	psSBOpt // IAC SB seen, option next
	psSB    // in subnegotiation
	psSBIAC // IAC seen in subnegotiation
)

// A Parser decodes a telnet byte stream (RFC 854) pushed into it in
// pieces of any size: it removes IAC escapes, splits out commands and
// subnegotiations (bounded by MaxSubnegotiation), and undoes NVT line
// ends: CR NUL is a bare CR, and CR LF stays CR LF, or becomes a lone
// CR with NewlineCR, which is what a terminal's Enter key sends to a
// program on a pseudo-terminal. A CR is delivered as soon as it comes,
// never held for the byte that pairs with it. The zero value is ready
// to use.
type Parser struct {
	// MaxSubnegotiation bounds a subnegotiation's parameters; 0 means
	// DefaultMaxSubnegotiation.
	MaxSubnegotiation int
	// NewlineCR delivers CR LF as CR.
	NewlineCR bool

	state   int
	verb    byte
	opt     Option
	sub     []byte
	tooLong bool
}

// Parse decodes in and calls emit for each token in stream order. A
// Token's slices are valid only during the call.
func (p *Parser) Parse(in []byte, emit func(Token)) {
	max := p.MaxSubnegotiation
	if max <= 0 {
		max = DefaultMaxSubnegotiation
	}
	var data []byte
	flush := func() {
		if len(data) > 0 {
			emit(Token{Data: data})
			data = nil
		}
	}
	for i := 0; i < len(in); i++ {
		b := in[i]
		switch p.state {
		case psData, psCR:
			if p.state == psCR {
				// The CR went out at once; its pair says no more (RFC 854).
				p.state = psData
				if b == 0 || b == '\n' && p.NewlineCR {
					continue
				}
			}
			switch b {
			case IAC:
				p.state = psIAC
			case '\r':
				data = append(data, '\r')
				p.state = psCR
			default:
				data = append(data, b)
			}
		case psIAC:
			p.state = psData
			switch b {
			case IAC:
				data = append(data, IAC)
			case WILL, WONT, DO, DONT:
				p.verb, p.state = b, psVerb
			case SB:
				p.state = psSBOpt
			default:
				flush()
				emit(Token{Verb: b})
			}
		case psVerb:
			flush()
			emit(Token{Verb: p.verb, Option: Option(b)})
			p.state = psData
		case psSBOpt:
			p.opt, p.sub, p.tooLong, p.state = Option(b), p.sub[:0], false, psSB
		case psSB:
			if b == IAC {
				p.state = psSBIAC
			} else {
				p.subByte(b, max)
			}
		case psSBIAC:
			switch b {
			case IAC:
				p.subByte(IAC, max)
				p.state = psSB
			case SE:
				flush()
				emit(Token{Verb: SB, Option: p.opt, Sub: p.sub, TooLong: p.tooLong})
				p.state = psData
			default:
				// RFC 854 leaves this undefined; like BSD telnetd, end the
				// subnegotiation and treat the byte as the command it is.
				flush()
				emit(Token{Verb: SB, Option: p.opt, Sub: p.sub, TooLong: p.tooLong})
				p.state = psIAC
				i-- // read b again, as a command
			}
		}
	}
	flush()
}

func (p *Parser) subByte(b byte, max int) {
	if len(p.sub) >= max {
		p.tooLong = true
		return
	}
	p.sub = append(p.sub, b)
}

// A Writer encodes NVT data and commands onto a connection. Data has
// IAC doubled and every CR not followed by LF sent as CR NUL (RFC 854);
// a CR at the end of one Write is sent as CR NUL at once rather than
// held for the next byte, which a terminal shows the same. It is safe
// for concurrent use: a session's program output and its negotiation
// replies share it.
type Writer struct {
	mu  sync.Mutex
	w   io.Writer
	buf []byte
}

// NewWriter returns a Writer onto w.
func NewWriter(w io.Writer) *Writer { return &Writer{w: w} }

// Write sends p as NVT data.
func (w *Writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = AppendData(w.buf[:0], p)
	if _, err := w.w.Write(w.buf); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Command sends IAC verb, and the option for WILL/WONT/DO/DONT.
func (w *Writer) Command(verb byte, opt ...Option) error {
	b := []byte{IAC, verb}
	for _, o := range opt {
		b = append(b, byte(o))
	}
	return w.Raw(b)
}

// Sub sends a subnegotiation: IAC SB opt params IAC SE, IAC in params doubled.
func (w *Writer) Sub(opt Option, params []byte) error {
	return w.Raw(AppendSub(nil, opt, params))
}

// Raw sends b as it is (already encoded commands).
func (w *Writer) Raw(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	_, err := w.w.Write(b)
	return err
}

// AppendData appends p encoded as NVT data to dst.
func AppendData(dst, p []byte) []byte {
	for i, b := range p {
		switch b {
		case IAC:
			dst = append(dst, IAC, IAC)
		case '\r':
			if i+1 < len(p) && p[i+1] == '\n' {
				dst = append(dst, '\r')
			} else {
				dst = append(dst, '\r', 0)
			}
		default:
			dst = append(dst, b)
		}
	}
	return dst
}

// AppendSub appends the subnegotiation IAC SB opt params IAC SE to dst.
func AppendSub(dst []byte, opt Option, params []byte) []byte {
	dst = append(dst, IAC, SB, byte(opt))
	for _, b := range params {
		if b == IAC {
			dst = append(dst, IAC)
		}
		dst = append(dst, b)
	}
	return append(dst, IAC, SE)
}
