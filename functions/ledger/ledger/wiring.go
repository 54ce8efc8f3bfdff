package ledger

import (
	"context"

	"github.com/aws/aws-lambda-go/events"

	"github.com/latchkit/latch/pkg/function"
	"github.com/latchkit/latch/pkg/handler"
)

// EnvLedgerTable names the ledger table (required), the function's own
// variable; the shared ones are package function's convention. The
// template sets LATCH_IDEMPOTENCY_TTL to a week for this function: an order
// can be published again long after the first event (a redrive from a DLQ),
// and the ledger must still append it only once.
const EnvLedgerTable = "LEDGER_TABLE"

// Build is the function's own part: the Ledger on its table, behind latch's
// SQS processor around Ledger.Consume in the transactional form
// (handler.NewSQSTx). main runs it with function.Main.
func Build(_ context.Context, fn *function.Function) (handler.Func[events.SQSEvent, events.SQSEventResponse], error) {
	l, err := New(fn.DynamoDB, fn.Vars.Required(EnvLedgerTable))
	if err != nil {
		return nil, err
	}
	return handler.NewSQSTx(l.Consume, nil, fn.SQSConfig(handler.SQSConfig{Key: handler.KeyEvent(Key)}))
}
