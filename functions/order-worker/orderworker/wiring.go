package orderworker

import (
	"context"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"

	"github.com/latchkit/latch/pkg/function"
	"github.com/latchkit/latch/pkg/handler"
)

// Environment variables of the function's own, as infra/template.yaml sets
// them; the shared ones (idempotency table, DLQ, backoff) are
// package function's convention.
const (
	// EnvOrdersTable names the orders table (required).
	EnvOrdersTable = "ORDERS_TABLE"
	// EnvBus names the bus OrderAccepted goes to (required).
	EnvBus = "ORDERS_BUS"
	// EnvLedgerQueueURL is the ledger's FIFO queue, which the worker sends
	// each accepted order to. Default none: no direct send.
	EnvLedgerQueueURL = "LEDGER_QUEUE_URL"
	// EnvTransientFaultPercent turns on fault injection (0 to 100,
	// default 0); see Faults.
	EnvTransientFaultPercent = "TRANSIENT_FAULT_PERCENT"
)

// Build is the function's own part: the Worker on its table, bus and
// ledger queue, behind latch's SQS processor in the transactional form
// (handler.NewSQSTx). main runs it with function.Main.
func Build(_ context.Context, fn *function.Function) (handler.Func[events.SQSEvent, events.SQSEventResponse], error) {
	sqsCfg := fn.SQSConfig(handler.SQSConfig{Key: Key}) // first, so that a missing table is named with the rest
	cfg := Config{
		EventBridge: eventbridge.NewFromConfig(fn.AWS),
		OrdersTable: fn.Vars.Required(EnvOrdersTable),
		Bus:         fn.Vars.Required(EnvBus),
		Faults:      Faults{Percent: fn.Vars.Int(EnvTransientFaultPercent, 0, 0, 100)},
	}
	if url := fn.Vars.Optional(EnvLedgerQueueURL, ""); url != "" {
		lq, err := NewLedgerQueue(fn.SQS, url)
		if err != nil {
			return nil, err
		}
		cfg.Ledger = lq
	}
	w, err := New(cfg)
	if err != nil {
		return nil, err
	}
	return handler.NewSQSTx(w.Accept, w.Publish, sqsCfg)
}
