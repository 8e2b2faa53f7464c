// Command plumb is the Internet's classic plumbing in one binary: the
// socket-layer tools, a client for each standard protocol, and a daemon
// (plumb serve) that runs every server at once.
package main

import (
	"os"

	"github.com/plumbnet/plumb/internal/cli"
)

func main() {
	os.Exit(cli.Execute())
}
