// Command nightly is the target of the nightly schedule: one report per
// night.
package main

import (
	"example.com/invoices"
	"github.com/latchkit/latch/pkg/function"
)

func main() { function.Main(invoices.BuildNightly) }
