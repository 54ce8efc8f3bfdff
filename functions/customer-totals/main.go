// Command customer-totals is the Lambda behind the orders table's stream:
// it keeps each customer's running total of accepted orders, counting each
// order once. The logic and its wiring live in package customertotals.
package main

import (
	"github.com/latchkit/latch/functions/customer-totals/customertotals"
	"github.com/latchkit/latch/pkg/function"
)

func main() { function.Main(customertotals.Build) }
