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

// TestQMethodRows walks RFC 1143's examples for the peer's side of one
// option: what is sent, and the state after.
func TestQMethodRows(t *testing.T) {
	var n Negotiator
	n.AcceptRemote = yesTo(Echo)
	steps := []struct {
		what  string
		r     Result
		send  string
		state qState
		queue qQueue
	}{
		{"ask DO", n.EnableRemote(Echo), "DO ECHO", qWantYes, qEmpty},
		{"ask DONT while WANTYES queues", n.DisableRemote(Echo), "", qWantYes, qOpposite},
		{"WILL arrives: DONT for the queue", n.Receive(WILL, Echo), "DONT ECHO", qWantNo, qEmpty},
		{"WONT arrives", n.Receive(WONT, Echo), "", qNo, qEmpty},
		{"WILL from NO, accepted", n.Receive(WILL, Echo), "DO ECHO", qYes, qEmpty},
		{"WILL again is ignored", n.Receive(WILL, Echo), "", qYes, qEmpty},
		{"ask DONT", n.DisableRemote(Echo), "DONT ECHO", qWantNo, qEmpty},
		{"ask DO while WANTNO queues", n.EnableRemote(Echo), "", qWantNo, qOpposite},
		{"WONT arrives: DO for the queue", n.Receive(WONT, Echo), "DO ECHO", qWantYes, qEmpty},
		{"WONT refuses", n.Receive(WONT, Echo), "", qNo, qEmpty},
		{"WILL of a refused option", n.Receive(WILL, NAWS), "DONT NAWS", qNo, qEmpty},
	}
	for _, s := range steps {
		send := ""
		if s.r.Send != nil {
			send = cmdName(Token{Verb: s.r.Send[1], Option: Option(s.r.Send[2])})
		}
		if send != s.send {
			t.Errorf("%s: sent %q, want %q", s.what, send, s.send)
		}
	}
	if st := n.him[Echo]; st.state != qNo || n.Pending() {
		t.Errorf("final state %v, want NO and nothing pending", st.state)
	}
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
