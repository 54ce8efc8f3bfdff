package dailyreport

import (
	"context"
	"encoding/json"

	"github.com/latchkit/latch/pkg/function"
	"github.com/latchkit/latch/pkg/handler"
)

// Environment variables of the function's own; the shared ones
// (idempotency table, failure queue) are package function's convention.
const (
	// EnvOrdersTable names the orders table (required).
	EnvOrdersTable = "ORDERS_TABLE"
	// EnvReportsTable names the reports table (required).
	EnvReportsTable = "REPORTS_TABLE"
)

// Build is the function's own part: the Reporter on its tables, behind
// latch's Schedule handler. The guard needs no TTL of its own: NewSchedule
// remembers ticks for its 48-hour default, past Lambda's async retry window.
// main runs it with function.Main.
func Build(_ context.Context, fn *function.Function) (handler.Func[json.RawMessage, struct{}], error) {
	r, err := New(Config{
		DynamoDB:     fn.DynamoDB,
		OrdersTable:  fn.Vars.Required(EnvOrdersTable),
		ReportsTable: fn.Vars.Required(EnvReportsTable),
	})
	if err != nil {
		return nil, err
	}
	return handler.NewSchedule(r.Run, fn.ScheduleConfig(handler.ScheduleConfig{}))
}
