// Command charge is the invoices queue's consumer: it charges each invoice
// once.
package main

import (
	"example.com/invoices"
	"github.com/latchkit/latch/pkg/function"
)

func main() { function.Main(invoices.BuildCharge) }
