package telnet

import (
	"testing"
)

func yesTo(opts ...Option) func(Option) bool {
	return func(o Option) bool {
		for _, x := range opts {
			if x == o {
				return true
			}
		}
		return false
	}
}

// qRow is one step of an RFC 1143 walk: what is done, what it sends,
// and the option's side after it.
type qRow struct {
	what  string
	do    func(n *Negotiator) Result
	opt   Option
	send  string
	state qState
	queue qQueue
}

// walkRows runs rows in order on n, checking after each step what was
// sent and the state and queue of the side that pick chooses.
func walkRows(t *testing.T, n *Negotiator, pick func(*Negotiator) *[256]side, rows []qRow) {
	t.Helper()
	for _, r := range rows {
		res := r.do(n)
		send := ""
		if res.Send != nil {
			send = cmdName(Token{Verb: res.Send[1], Option: Option(res.Send[2])})
		}
		if send != r.send {
			t.Errorf("%s: sent %q, want %q", r.what, send, r.send)
		}
		if got, want := pick(n)[r.opt], (side{r.state, r.queue}); got != want {
			t.Errorf("%s: state %v queue %v, want %v %v", r.what, got.state, got.queue, want.state, want.queue)
		}
	}
	if n.Pending() {
		t.Errorf("a request is still pending at the end")
	}
}

// TestQMethodRows walks RFC 1143's examples for the peer's side of one
// option: what is sent, and the state and queue after each step.
func TestQMethodRows(t *testing.T) {
	n := &Negotiator{AcceptRemote: yesTo(Echo)}
	recv := func(verb byte, opt Option) func(*Negotiator) Result {
		return func(n *Negotiator) Result { return n.Receive(verb, opt) }
	}
	enable := func(n *Negotiator) Result { return n.EnableRemote(Echo) }
	disable := func(n *Negotiator) Result { return n.DisableRemote(Echo) }
	walkRows(t, n, func(n *Negotiator) *[256]side { return &n.him }, []qRow{
		{"ask DO", enable, Echo, "DO ECHO", qWantYes, qEmpty},
		{"ask DONT while WANTYES queues", disable, Echo, "", qWantYes, qOpposite},
		{"WILL arrives: DONT for the queue", recv(WILL, Echo), Echo, "DONT ECHO", qWantNo, qEmpty},
		{"WONT arrives", recv(WONT, Echo), Echo, "", qNo, qEmpty},
		{"WILL from NO, accepted", recv(WILL, Echo), Echo, "DO ECHO", qYes, qEmpty},
		{"WILL again is ignored", recv(WILL, Echo), Echo, "", qYes, qEmpty},
		{"ask DONT", disable, Echo, "DONT ECHO", qWantNo, qEmpty},
		{"ask DO while WANTNO queues", enable, Echo, "", qWantNo, qOpposite},
		{"WONT arrives: DO for the queue", recv(WONT, Echo), Echo, "DO ECHO", qWantYes, qEmpty},
		{"WONT refuses", recv(WONT, Echo), Echo, "", qNo, qEmpty},
		{"WILL of a refused option", recv(WILL, NAWS), NAWS, "DONT NAWS", qNo, qEmpty},
	})
}

// TestQMethodRowsLocal is the same walk for our side: WILL/WONT sent,
// DO/DONT received.
func TestQMethodRowsLocal(t *testing.T) {
	n := &Negotiator{AcceptLocal: yesTo(SuppressGoAhead)}
	recv := func(verb byte, opt Option) func(*Negotiator) Result {
		return func(n *Negotiator) Result { return n.Receive(verb, opt) }
	}
	enable := func(n *Negotiator) Result { return n.EnableLocal(SuppressGoAhead) }
	disable := func(n *Negotiator) Result { return n.DisableLocal(SuppressGoAhead) }
	sga := SuppressGoAhead
	walkRows(t, n, func(n *Negotiator) *[256]side { return &n.us }, []qRow{
		{"offer WILL", enable, sga, "WILL SGA", qWantYes, qEmpty},
		{"ask WONT while WANTYES queues", disable, sga, "", qWantYes, qOpposite},
		{"DO arrives: WONT for the queue", recv(DO, sga), sga, "WONT SGA", qWantNo, qEmpty},
		{"DONT arrives", recv(DONT, sga), sga, "", qNo, qEmpty},
		{"DO from NO, accepted", recv(DO, sga), sga, "WILL SGA", qYes, qEmpty},
		{"DO again is ignored", recv(DO, sga), sga, "", qYes, qEmpty},
		{"ask WONT", disable, sga, "WONT SGA", qWantNo, qEmpty},
		{"ask WILL while WANTNO queues", enable, sga, "", qWantNo, qOpposite},
		{"DONT arrives: WILL for the queue", recv(DONT, sga), sga, "WILL SGA", qWantYes, qEmpty},
		{"DONT refuses", recv(DONT, sga), sga, "", qNo, qEmpty},
		{"DO of a refused option", recv(DO, NAWS), NAWS, "WONT NAWS", qNo, qEmpty},
	})
}

// TestSimultaneousRequests: both sides ask for the same option at once;
// each takes the other's request as the answer, and nothing more is sent.
func TestSimultaneousRequests(t *testing.T) {
	a := Negotiator{AcceptLocal: yesTo(SuppressGoAhead), AcceptRemote: yesTo(SuppressGoAhead)}
	b := a
	ra := a.EnableLocal(SuppressGoAhead)  // WILL SGA
	rb := b.EnableRemote(SuppressGoAhead) // DO SGA
	if r := b.Receive(ra.Send[1], Option(ra.Send[2])); r.Send != nil {
		t.Fatalf("b answered a's WILL with %v", r.Send)
	}
	if r := a.Receive(rb.Send[1], Option(rb.Send[2])); r.Send != nil {
		t.Fatalf("a answered b's DO with %v", r.Send)
	}
	if !a.Local(SuppressGoAhead) || !b.Remote(SuppressGoAhead) {
		t.Fatalf("SGA not on: a.Local %v b.Remote %v", a.Local(SuppressGoAhead), b.Remote(SuppressGoAhead))
	}
}

// FuzzNegotiator runs two negotiators against each other: the input is
// a script of requests and message deliveries, in any interleaving.
// Once every message in flight is delivered, no request is pending,
// both sides agree on every option, and the number of messages stayed
// bounded: the Q method does not loop.
func FuzzNegotiator(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, byte(3))
	f.Add([]byte{0, 8, 1, 9, 0, 8, 9, 8}, byte(0))
	f.Fuzz(func(t *testing.T, script []byte, policy byte) {
		opts := []Option{Echo, SuppressGoAhead, NAWS}
		accept := func(bits byte) func(Option) bool {
			return func(o Option) bool {
				for i, x := range opts {
					if x == o {
						return bits&(1<<i) != 0
					}
				}
				return false
			}
		}
		var peers [2]Negotiator
		peers[0] = Negotiator{AcceptLocal: accept(policy), AcceptRemote: accept(policy >> 3)}
		peers[1] = Negotiator{AcceptLocal: accept(policy >> 5), AcceptRemote: accept(policy>>2 | policy<<6)}
		var wire [2][][]byte // wire[i]: messages from peer i, in order
		sent := 0
		send := func(from int, r Result) {
			if r.Send != nil {
				wire[from] = append(wire[from], r.Send)
				sent++
			}
		}
		deliver := func(from int) {
			if len(wire[from]) == 0 {
				return
			}
			m := wire[from][0]
			wire[from] = wire[from][1:]
			send(1-from, peers[1-from].Receive(m[1], Option(m[2])))
		}
		for _, b := range script {
			who, op, opt := int(b&1), (b>>1)&7, opts[int(b>>4)%len(opts)]
			n := &peers[who]
			switch op {
			case 0:
				send(who, n.EnableLocal(opt))
			case 1:
				send(who, n.DisableLocal(opt))
			case 2:
				send(who, n.EnableRemote(opt))
			case 3:
				send(who, n.DisableRemote(opt))
			default:
				deliver(who)
			}
		}
		for steps := 0; len(wire[0])+len(wire[1]) > 0; steps++ {
			if steps > 4*len(script)+8 {
				t.Fatalf("still negotiating after %d deliveries: a loop", steps)
			}
			deliver(0)
			deliver(1)
		}
		if sent > 4*len(script) {
			t.Fatalf("%d messages for %d requests", sent, len(script))
		}
		for _, o := range opts {
			a, b := &peers[0], &peers[1]
			if a.Pending() || b.Pending() {
				t.Fatalf("%s: a request still pending after every message was delivered: a us %v him %v, b us %v him %v",
					o, a.us[o].state, a.him[o].state, b.us[o].state, b.him[o].state)
			}
			if a.Local(o) != b.Remote(o) || a.Remote(o) != b.Local(o) {
				t.Fatalf("%s: sides disagree: a.Local %v b.Remote %v, a.Remote %v b.Local %v", o, a.Local(o), b.Remote(o), a.Remote(o), b.Local(o))
			}
		}
	})
}
