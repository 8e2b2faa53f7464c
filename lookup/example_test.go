package lookup_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/plumbnet/plumb/lookup"
)

func ExampleServiceTables_ByName() {
	sys, _ := lookup.ParseServices(strings.NewReader("http 80/tcp www\n"), "services")
	tables := lookup.ServiceTables{sys, lookup.Embedded()}
	for _, name := range []string{"www", "gopher"} {
		e, err := tables.ByName(name, "tcp")
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Printf("%s -> %d/%s (%s)\n", name, e.Port, e.Proto, e.Source)
	}
	// Output:
	// www -> 80/tcp (services)
	// gopher -> 70/tcp (built-in)
}

func ExampleResolver_Host() {
	hosts, _ := lookup.ParseHosts(strings.NewReader("192.0.2.7 files.example files\n"), "hosts")
	r := &lookup.Resolver{Hosts: hosts}
	h, err := r.Host(context.Background(), "files")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(h.Name, h.Aliases, h.Addrs)
	// Output: files.example [files] [192.0.2.7]
}
