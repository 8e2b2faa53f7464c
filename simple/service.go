package simple

import "fmt"

// Service is one of the small services.
type Service int

// The small services, each with its RFC.
const (
	Echo    Service = iota + 1 // RFC 862
	Discard                    // RFC 863
	Chargen                    // RFC 864
	QOTD                       // RFC 865
	Daytime                    // RFC 867
	Time                       // RFC 868
)

var serviceInfo = map[Service]struct {
	name string
	port int
}{
	Echo:    {"echo", 7},
	Discard: {"discard", 9},
	Daytime: {"daytime", 13},
	QOTD:    {"qotd", 17},
	Chargen: {"chargen", 19},
	Time:    {"time", 37},
}

// String returns the service's name as /etc/services spells it.
func (s Service) String() string {
	if i, ok := serviceInfo[s]; ok {
		return i.name
	}
	return fmt.Sprintf("Service(%d)", int(s))
}

// Port returns the service's well-known port; plumb's development
// default is that plus 10000.
func (s Service) Port() int { return serviceInfo[s].port }

// loopPort reports whether a datagram from port p must not be answered:
// port 0 cannot be replied to, and a reply to one of these services
// (on its well-known or development port) would start a loop between
// two servers.
func loopPort(p int) bool {
	if p == 0 {
		return true
	}
	if p > 10000 {
		p -= 10000
	}
	switch p {
	case 7, 9, 13, 17, 19, 37:
		return true
	}
	return false
}
