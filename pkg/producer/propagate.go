package producer

import (
	"context"

	"github.com/latchkit/latch/pkg/handler"
)

// CorrelationID is the correlation id a send made with ctx carries: the
// correlation id of the record being processed (handler.DeliveryFromContext:
// the SQS message's correlation_id attribute, an event's id), so a chain
// of functions shares the id of the request that started it; else the
// Lambda request id of the invocation (handler.InvocationFromContext);
// else "" and nothing is set.
func CorrelationID(ctx context.Context) string {
	if r, ok := handler.DeliveryFromContext(ctx); ok && r.CorrelationID != "" {
		return r.CorrelationID
	}
	if inv, ok := handler.InvocationFromContext(ctx); ok {
		return inv.RequestID
	}
	return ""
}

// traceHeader is the X-Ray trace header a send made with ctx carries: the
// invocation's, so the consumer's trace joins the producer's.
func traceHeader(ctx context.Context) string {
	if inv, ok := handler.InvocationFromContext(ctx); ok {
		return inv.TraceHeader
	}
	return ""
}
