//go:build integration

package handler_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/latchkit/latch/internal/esm"
	"github.com/latchkit/latch/pkg/handler"
	"github.com/latchkit/latch/pkg/latchtest/emulator"
	"github.com/latchkit/latch/pkg/producer"
	"github.com/latchkit/latch/pkg/retry"
)

// sqsMaxMessage is SQS's message size limit since it rose from 256 KiB.
const sqsMaxMessage = 1 << 20

// bigOrder is an order padded to a size; a "refuse" one is refused for good.
type bigOrder struct {
	ID     string `json:"id"`
	Refuse bool   `json:"refuse,omitempty"`
	Pad    string `json:"pad"`
}

// raiseMessageSize sets a queue's MaximumMessageSize to 1 MiB, as a queue
// created after SQS raised its limit has by default.
func raiseMessageSize(t *testing.T, env *emulator.Env, urls ...string) {
	t.Helper()
	for _, url := range urls {
		if _, err := env.SQS.SetQueueAttributes(context.Background(), &sqs.SetQueueAttributesInput{
			QueueUrl:   aws.String(url),
			Attributes: map[string]string{string(types.QueueAttributeNameMaximumMessageSize): strconv.Itoa(sqsMaxMessage)},
		}); err != nil {
			t.Fatalf("set MaximumMessageSize of %s to 1 MiB: %v", url, err)
		}
	}
}

// TestIntegrationOneMiBThroughProducerProcessorDLQ: two messages near
// SQS's 1 MiB limit go through producer.Queue, the SQS processor and, for
// the refused one, the dead-letter queue, whole, with latch's reason
// attributes beside the body.
func TestIntegrationOneMiBThroughProducerProcessorDLQ(t *testing.T) {
	t.Parallel()
	env := emulator.New(t)
	q := env.Queue(t, emulator.QueueSpec{MaxReceiveCount: 3})
	raiseMessageSize(t, env, q.URL, q.DLQ.URL)

	// The body leaves 4 KiB of the limit for the correlation attribute the
	// producer adds and the six latch adds to the dead-letter copy.
	pad := func(id string) string { return strings.Repeat("p", sqsMaxMessage-4096-len(id)-40) }
	orders := []bigOrder{{ID: "ok", Pad: pad("ok")}, {ID: "no", Refuse: true, Pad: pad("no")}}
	out := producer.MustNewQueue(env.SQS, producer.QueueConfig[bigOrder]{URL: q.URL})
	if _, err := out.SendBatch(context.Background(), orders); err != nil {
		t.Fatalf("send two messages near 1 MiB: %v", err)
	}

	var done effects
	h := handler.MustNewSQS(func(_ context.Context, m handler.Message[bigOrder]) error {
		if len(m.Body.Pad) != len(pad(m.Body.ID)) {
			t.Errorf("order %s arrived with %d bytes of pad, want %d", m.Body.ID, len(m.Body.Pad), len(pad(m.Body.ID)))
		}
		done.add(m.Body.ID)
		if m.Body.Refuse {
			return retry.Permanent(errors.New("refused: too big to ship"))
		}
		return nil
	}, handler.SQSConfig{Client: env.SQS})
	drive(t, esm.Config{Client: env.SQS, QueueURL: q.URL, WaitTime: time.Second}, h, 60*time.Second, func() bool {
		return done.get("ok") == 1 && done.get("no") == 1
	})
	env.AssertQueueEmpty(t, q.URL)

	dead := receiveAll(t, env, q.DLQ.URL)
	if len(dead) != 1 {
		t.Fatalf("%d messages in the DLQ, want the refused one", len(dead))
	}
	body := aws.ToString(dead[0].Body)
	if !strings.Contains(body, `"id":"no"`) || len(body) < sqsMaxMessage-8192 {
		t.Errorf("DLQ body of %d bytes, want the refused order whole (over %d bytes)", len(body), sqsMaxMessage-8192)
	}
	if got := attr(dead[0], handler.DLQAttrError); got != "refused: too big to ship" {
		t.Errorf("DLQ reason %q", got)
	}
}

// TestIntegrationOneMBEventThroughBus: a 1 MB detail goes through
// producer.Bus (PutEvents), a rule's SQS target and the EventBridge
// handler inside the SQS processor, decoded whole.
func TestIntegrationOneMBEventThroughBus(t *testing.T) {
	t.Parallel()
	emulator.SkipOnGap(t, emulator.GapEventBridge256KiB)
	env := emulator.New(t)
	q := env.Queue(t, emulator.QueueSpec{MaxReceiveCount: 3})
	raiseMessageSize(t, env, q.URL, q.DLQ.URL)
	bus := env.Bus(t)
	env.RuleToQueue(t, bus.Name, `{"source":["shop.big"]}`, q.ARN, "")

	const padLen = 1_000_000
	put, err := producer.NewBus(env.EventBridge, producer.BusConfig[bigOrder]{
		BusName: bus.Name, Source: "shop.big", DetailType: func(bigOrder) string { return "BigOrder" },
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := put.Put(context.Background(), bigOrder{ID: "mb", Pad: strings.Repeat("m", padLen)}); err != nil {
		t.Fatalf("put a 1 MB event: %v", err)
	}
	var got effects
	h := handler.MustNewSQS(handler.EventBridgeSQS(func(_ context.Context, e handler.Event[bigOrder]) error {
		if len(e.Detail.Pad) != padLen {
			t.Errorf("event %s arrived with %d bytes of pad, want %d", e.Detail.ID, len(e.Detail.Pad), padLen)
		}
		got.add(e.Detail.ID)
		return nil
	}), handler.SQSConfig{Client: env.SQS})
	drive(t, esm.Config{Client: env.SQS, QueueURL: q.URL, WaitTime: time.Second}, h, 60*time.Second, func() bool {
		return got.get("mb") == 1
	})
	env.AssertQueueEmpty(t, q.URL)
}
