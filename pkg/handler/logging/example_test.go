package logging_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/latchkit/latch/pkg/handler"
	"github.com/latchkit/latch/pkg/handler/logging"
)

func ExampleNewLogger() {
	var buf bytes.Buffer
	log := logging.NewLogger(logging.Config{Writer: &buf, Level: slog.LevelInfo, Service: "orders"})

	// Start and the SQS trigger put these in the context of each record.
	ctx := handler.ContextWithInvocation(context.Background(), handler.Invocation{RequestID: "req-1"})
	ctx = handler.ContextWithDelivery(ctx, handler.Delivery{ID: "msg-1", CorrelationID: "corr-9"})
	log.InfoContext(ctx, "order shipped", "order_id", "o-1")

	var line map[string]any
	_ = json.Unmarshal(buf.Bytes(), &line)
	delete(line, logging.KeyTimestamp) // the one field that changes
	out, _ := json.Marshal(line)
	fmt.Println(string(out))
	// Output: {"cold_start":false,"correlation_id":"corr-9","level":"INFO","message":"order shipped","message_id":"msg-1","order_id":"o-1","request_id":"req-1","service":"orders"}
}
