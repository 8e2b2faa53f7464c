package telnet

import "fmt"

// An Option is a telnet option code (RFC 855), negotiated with
// WILL/WONT/DO/DONT.
type Option byte

// The options plumb knows by name. Any other code is refused.
const (
	Binary          Option = 0  // RFC 856 (refused: plumb stays in NVT mode)
	Echo            Option = 1  // RFC 857
	SuppressGoAhead Option = 3  // RFC 858
	Status          Option = 5  // RFC 859
	TimingMark      Option = 6  // RFC 860
	TerminalType    Option = 24 // RFC 1091
	NAWS            Option = 31 // RFC 1073, window size
	TerminalSpeed   Option = 32 // RFC 1079
	RemoteFlow      Option = 33 // RFC 1372
	Linemode        Option = 34 // RFC 1184 (refused)
	XDisplay        Option = 35 // RFC 1096
	OldEnviron      Option = 36 // RFC 1408
	Authentication  Option = 37 // RFC 2941
	Encrypt         Option = 38 // RFC 2946
	NewEnviron      Option = 39 // RFC 1572
)

var optionNames = map[Option]string{
	Binary: "BINARY", Echo: "ECHO", SuppressGoAhead: "SGA", Status: "STATUS",
	TimingMark: "TIMING-MARK", TerminalType: "TTYPE", NAWS: "NAWS",
	TerminalSpeed: "TSPEED", RemoteFlow: "LFLOW", Linemode: "LINEMODE",
	XDisplay: "XDISPLOC", OldEnviron: "OLD-ENVIRON", Authentication: "AUTHENTICATION",
	Encrypt: "ENCRYPT", NewEnviron: "NEW-ENVIRON",
}

func (o Option) String() string {
	if n, ok := optionNames[o]; ok {
		return n
	}
	return fmt.Sprintf("OPTION-%d", byte(o))
}

// The Q method of RFC 1143. Each option has two independent state
// machines: "us" (whether we perform it: WILL/WONT sent, DO/DONT
// received) and "him" (whether the peer does: DO/DONT sent, WILL/WONT
// received). Both run on the one table below, written for a side in
// general: "yes" is WILL for us and DO for him when we send it, and the
// reverse when we receive it. The table is what keeps two
// implementations from looping: an option is never acknowledged twice,
// and a request made while one is outstanding waits in the queue.

// qState is one side's state of one option.
type qState uint8

const (
	qNo qState = iota
	qYes
	qWantNo
	qWantYes
)

func (s qState) String() string { return [...]string{"NO", "YES", "WANTNO", "WANTYES"}[s] }

// qQueue holds a request made while another is outstanding.
type qQueue uint8

const (
	qEmpty qQueue = iota
	qOpposite
)

// qEvent is what happens to one side of one option.
type qEvent uint8

const (
	evRecvYes qEvent = iota // WILL received (him) or DO received (us)
	evRecvNo                // WONT received (him) or DONT received (us)
	evAskYes                // we want the option on
	evAskNo                 // we want it off
)

// qAction is what a transition sends.
type qAction uint8

const (
	actNone   qAction = iota
	actSendNo         // DONT (him) or WONT (us)
	actSendYes
	actDecide // the peer asks to enable: agree (YES, send yes) or refuse (send no)
)

// qStep is one row of the table: the state, queue and action after an
// event, and the RFC's note when the event is an error by one side.
type qStep struct {
	state qState
	queue qQueue
	act   qAction
	note  string
}

// qTable is RFC 1143 section 7, indexed by state, queue and event. NO
// and YES have only an empty queue; their OPPOSITE rows are the same.
var qTable = func() (t [4][2][4]qStep) {
	set := func(s qState, q qQueue, e qEvent, step qStep) { t[s][q][e] = step }
	for _, q := range []qQueue{qEmpty, qOpposite} {
		set(qNo, q, evRecvYes, qStep{qNo, qEmpty, actDecide, ""})
		set(qNo, q, evRecvNo, qStep{qNo, qEmpty, actNone, ""})
		set(qNo, q, evAskYes, qStep{qWantYes, qEmpty, actSendYes, ""})
		set(qNo, q, evAskNo, qStep{qNo, qEmpty, actNone, "already disabled"})
		set(qYes, q, evRecvYes, qStep{qYes, qEmpty, actNone, ""})
		set(qYes, q, evRecvNo, qStep{qNo, qEmpty, actSendNo, ""})
		set(qYes, q, evAskYes, qStep{qYes, qEmpty, actNone, "already enabled"})
		set(qYes, q, evAskNo, qStep{qWantNo, qEmpty, actSendNo, ""})
	}
	set(qWantNo, qEmpty, evRecvYes, qStep{qNo, qEmpty, actNone, "disable answered by enable"})
	set(qWantNo, qOpposite, evRecvYes, qStep{qYes, qEmpty, actNone, "disable answered by enable"})
	set(qWantNo, qEmpty, evRecvNo, qStep{qNo, qEmpty, actNone, ""})
	set(qWantNo, qOpposite, evRecvNo, qStep{qWantYes, qEmpty, actSendYes, ""})
	set(qWantNo, qEmpty, evAskYes, qStep{qWantNo, qOpposite, actNone, ""})
	set(qWantNo, qOpposite, evAskYes, qStep{qWantNo, qOpposite, actNone, "enable already queued"})
	set(qWantNo, qEmpty, evAskNo, qStep{qWantNo, qEmpty, actNone, "already negotiating disable"})
	set(qWantNo, qOpposite, evAskNo, qStep{qWantNo, qEmpty, actNone, ""})

	set(qWantYes, qEmpty, evRecvYes, qStep{qYes, qEmpty, actNone, ""})
	set(qWantYes, qOpposite, evRecvYes, qStep{qWantNo, qEmpty, actSendNo, ""})
	set(qWantYes, qEmpty, evRecvNo, qStep{qNo, qEmpty, actNone, ""})
	set(qWantYes, qOpposite, evRecvNo, qStep{qNo, qEmpty, actNone, ""})
	set(qWantYes, qEmpty, evAskYes, qStep{qWantYes, qEmpty, actNone, "already negotiating enable"})
	set(qWantYes, qOpposite, evAskYes, qStep{qWantYes, qEmpty, actNone, ""})
	set(qWantYes, qEmpty, evAskNo, qStep{qWantYes, qOpposite, actNone, ""})
	set(qWantYes, qOpposite, evAskNo, qStep{qWantYes, qOpposite, actNone, "disable already queued"})
	return t
}()

// side is one option's state on one side.
type side struct {
	state qState
	queue qQueue
}

// A Change is an option's side reaching YES or leaving it, as reported
// by [Negotiator]'s methods, so that the connection can act on it (ask
// for the terminal type once the peer agreed to send it, say).
type Change struct {
	Option Option
	// Remote is true for the peer's side (WILL/WONT), false for ours.
	Remote bool
	// Enabled is the side's new state.
	Enabled bool
}

// A Negotiator is one connection's option state (RFC 1143's Q method,
// both sides of all 256 options). It is not safe for concurrent use;
// the connection serialises calls. Every method returns the bytes to
// send (IAC verb option, possibly none), and reports whether a side
// changed, and the table's note when the event was a protocol error.
type Negotiator struct {
	// AcceptLocal reports whether we agree to perform opt when the peer
	// asks (DO); nil refuses everything.
	AcceptLocal func(opt Option) bool
	// AcceptRemote reports whether we let the peer perform opt when it
	// offers (WILL); nil refuses everything.
	AcceptRemote func(opt Option) bool

	us, him [256]side
}

// A Result is what one negotiation event did.
type Result struct {
	Send    []byte  // IAC verb option to send, or nil
	Changed *Change // nil when neither side reached or left YES
	Note    string  // RFC 1143's name for an error by one side, or ""
}

// Receive handles a WILL, WONT, DO or DONT from the peer.
func (n *Negotiator) Receive(verb byte, opt Option) Result {
	switch verb {
	case WILL:
		return n.step(opt, true, evRecvYes)
	case WONT:
		return n.step(opt, true, evRecvNo)
	case DO:
		return n.step(opt, false, evRecvYes)
	case DONT:
		return n.step(opt, false, evRecvNo)
	}
	return Result{Note: "not a negotiation verb"}
}

// EnableLocal asks to perform opt ourselves (WILL).
func (n *Negotiator) EnableLocal(opt Option) Result { return n.step(opt, false, evAskYes) }

// DisableLocal stops performing opt (WONT).
func (n *Negotiator) DisableLocal(opt Option) Result { return n.step(opt, false, evAskNo) }

// EnableRemote asks the peer to perform opt (DO).
func (n *Negotiator) EnableRemote(opt Option) Result { return n.step(opt, true, evAskYes) }

// DisableRemote asks the peer to stop performing opt (DONT).
func (n *Negotiator) DisableRemote(opt Option) Result { return n.step(opt, true, evAskNo) }

// Local reports whether we perform opt.
func (n *Negotiator) Local(opt Option) bool { return n.us[opt].state == qYes }

// Remote reports whether the peer performs opt.
func (n *Negotiator) Remote(opt Option) bool { return n.him[opt].state == qYes }

// Pending reports whether any request of ours is still unanswered.
func (n *Negotiator) Pending() bool {
	for i := range n.us {
		if n.us[i].state >= qWantNo || n.him[i].state >= qWantNo {
			return true
		}
	}
	return false
}

// PendingRemote reports whether our request about the peer's opt is unanswered.
func (n *Negotiator) PendingRemote(opt Option) bool { return n.him[opt].state >= qWantNo }

func (n *Negotiator) step(opt Option, remote bool, ev qEvent) Result {
	s := &n.us[opt]
	yes, no := byte(WILL), byte(WONT)
	accept := n.AcceptLocal
	if remote {
		s, yes, no, accept = &n.him[opt], DO, DONT, n.AcceptRemote
	}
	was := s.state == qYes
	row := qTable[s.state][s.queue][ev]
	s.state, s.queue = row.state, row.queue
	var r Result
	r.Note = row.note
	switch row.act {
	case actSendYes:
		r.Send = []byte{IAC, yes, byte(opt)}
	case actSendNo:
		r.Send = []byte{IAC, no, byte(opt)}
	case actDecide:
		if accept != nil && accept(opt) {
			s.state = qYes
			r.Send = []byte{IAC, yes, byte(opt)}
		} else {
			r.Send = []byte{IAC, no, byte(opt)}
		}
	}
	if now := s.state == qYes; now != was {
		r.Changed = &Change{Option: opt, Remote: remote, Enabled: now}
	}
	return r
}
