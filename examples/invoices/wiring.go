package invoices

import (
	"context"
	"encoding/json"

	"github.com/aws/aws-lambda-go/events"

	"github.com/latchkit/latch/pkg/function"
	"github.com/latchkit/latch/pkg/handler"
)

// EnvLedgerTable names the ledger table, the functions' own variable; the
// rest of their environment is latch's convention (package function), as
// template.yaml's Globals set it.
const EnvLedgerTable = "LEDGER_TABLE"

// BuildCharge is the charge function: Charge behind latch's SQS processor,
// one side effect per invoice id.
func BuildCharge(_ context.Context, fn *function.Function) (handler.Func[events.SQSEvent, events.SQSEventResponse], error) {
	cfg := fn.SQSConfig(handler.SQSConfig{Key: handler.KeyJSONField("id").WithDisplay("invoice %s")})
	return handler.NewSQS(Charge(Ledger{DB: fn.DynamoDB, Table: fn.Vars.Required(EnvLedgerTable)}), cfg)
}

// BuildNightly is the nightly function: Nightly behind latch's schedule
// handler. ScheduleConfig.TTL defaults to 48 hours for ticks, past Lambda's
// async retries, whatever the guard's TTL.
func BuildNightly(_ context.Context, fn *function.Function) (handler.Func[json.RawMessage, struct{}], error) {
	cfg := fn.ScheduleConfig(handler.ScheduleConfig{})
	return handler.NewSchedule(Nightly(Ledger{DB: fn.DynamoDB, Table: fn.Vars.Required(EnvLedgerTable)}), cfg)
}
