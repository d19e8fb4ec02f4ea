// Command paratro is the command line for holders of MPC (threshold) wallet
// key shares. Everything but the exit lives in internal/cli.
package main

import (
	"os"

	"github.com/paratro/paratro/internal/cli"
)

func main() { os.Exit(cli.Main()) }
