package daemon

import (
	"cmp"
	"context"
	"fmt"
	"reflect"
	"slices"
)

// A protocol is everything the daemon knows of one protocol, registered
// by the protocol's own file in this package, so that adding a protocol
// is adding files and nothing else:
//
//	const gopherSection section[GopherConfig] = "gopher"
//
//	func init() {
//		register(gopherSection, protocol{rank: 70, defaults: gopherDefaults, build: buildGopher})
//	}
//
// The section's type is decoded from the config's [gopher] table; its
// Listener fields (embedded: "gopher"; named: "gopher.<key>") are the
// protocol's listeners, checked by LoadConfig and listed by
// --print-config with the rest.
type protocol struct {
	// rank orders protocols, for starting and listing: the protocol
	// table's order, by well-known port.
	rank int
	// comment is printed above the section by --print-config.
	comment string
	// defaults is the section's part of the embedded default config, in
	// TOML: its [name] table and subtables, nothing else.
	defaults string
	// build turns the config and the stores into the protocol's
	// services. It runs before anything binds; what must run beside the
	// listeners (a queue, an index) it hands to Daemon.addComponent.
	build builder
}

// A builder turns the daemon's config and stores into the services of
// one protocol.
type builder func(d *Daemon) ([]Service, error)

// A section names a protocol's config section, whose value is a T.
type section[T any] string

// of returns the section's value in c.
func (s section[T]) of(c *Config) *T { return c.sections[string(s)].(*T) }

// registered is one registration: the protocol and its section's key
// and type.
type registered struct {
	protocol
	name string
	typ  reflect.Type // the section's struct type
}

// protocols are the registered protocols in rank order, then by name.
var protocols []registered

// register adds a protocol whose config section is s. It is called from
// init functions; two protocols with one name are a build defect.
func register[T any](s section[T], p protocol) {
	name := string(s)
	if name == "" || p.build == nil {
		panic("daemon: register needs a section name and a builder")
	}
	for _, r := range protocols {
		if r.name == name {
			panic(fmt.Sprintf("daemon: protocol %q registered twice", name))
		}
	}
	if coreKeys[name] {
		panic(fmt.Sprintf("daemon: protocol %q has the name of a core config section", name))
	}
	protocols = append(protocols, registered{protocol: p, name: name, typ: reflect.TypeFor[T]()})
	slices.SortStableFunc(protocols, func(a, b registered) int {
		return cmp.Or(cmp.Compare(a.rank, b.rank), cmp.Compare(a.name, b.name))
	})
}

// A Component is a part of a protocol that runs beside its listeners
// rather than behind one: the SMTP queue today, NNTP expiry and IMAP's
// index tomorrow. The daemon starts components after every listener is
// bound, in registration order, stops them in reverse if a later one
// fails to start, and stops them in reverse after the listeners drain.
type Component interface {
	// Start starts the component's work, in goroutines of its own; ctx
	// bounds the start, not the work.
	Start(ctx context.Context) error
	// Stop ends the work and waits for it until ctx is done.
	Stop(ctx context.Context) error
}

// namedComponent is a component with the name its errors and logs carry.
type namedComponent struct {
	name string
	Component
}

// addComponent hands the daemon a component to start once the
// listeners are bound. Builders call it.
func (d *Daemon) addComponent(name string, c Component) {
	d.pending = append(d.pending, namedComponent{name, c})
}
