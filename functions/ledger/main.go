// Command ledger is the Lambda behind LedgerQueue (FIFO): it appends each
// accepted order to its customer's ledger, in order, once. The logic and its
// wiring live in package ledger.
package main

import (
	"github.com/latchkit/latch/functions/ledger/ledger"
	"github.com/latchkit/latch/pkg/function"
)

func main() { function.Main(ledger.Build) }
