package latchtest_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/latchkit/latch/pkg/handler"
	"github.com/latchkit/latch/pkg/latchtest"
	"github.com/latchkit/latch/pkg/retry"
)

// A handler tested with nothing running: the built event passes the
// processor's checks, and the fake says what the processor asked of SQS.
func Example() {
	client := latchtest.NewSQS()
	client.AddQueue("invoices", 3)
	h := handler.MustNewSQS(func(_ context.Context, m handler.Message[invoice]) error {
		if m.Body.Cents <= 0 {
			return retry.Permanent(fmt.Errorf("invoice %s: amount must be positive", m.Body.ID))
		}
		return errors.New("payment provider unavailable")
	}, handler.SQSConfig{Client: client, Backoff: retry.Backoff{Base: 20 * time.Second, Jitter: -1}})

	resp, err := h(context.Background(), latchtest.SQSEvent("invoices",
		latchtest.Message{ID: "m1", Body: latchtest.JSON(invoice{ID: "i-1", Cents: 0})},
		latchtest.Message{ID: "m2", Body: latchtest.JSON(invoice{ID: "i-2", Cents: 900})},
	))
	fmt.Println("error:", err)
	fmt.Println("reported:", resp.BatchItemFailures[0].ItemIdentifier)
	d, _ := client.Visibility("m2")
	fmt.Println("m2 back in:", d)
	for _, s := range client.DeadLettered() {
		fmt.Printf("dead-lettered %s: %s (%s, attempt %d)\n", s.Body, s.Error, s.Class, s.ReceiveCount)
	}
	// Output:
	// error: <nil>
	// reported: m2
	// m2 back in: 20s
	// dead-lettered {"id":"i-1","cents":0}: invoice i-1: amount must be positive (permanent, attempt 1)
}

// A schedule job tested with a rule's tick: a permanent failure lands in
// the failure queue with its reason, and the invocation succeeds.
func ExampleRuleTick() {
	fq := latchtest.NewFailureQueue()
	job := handler.MustNewSchedule(func(_ context.Context, t handler.Tick) error {
		return retry.Permanent(fmt.Errorf("no report template for %s", t.Time.Format(time.DateOnly)))
	}, handler.ScheduleConfig{FailureQueue: fq.Config()})

	_, err := job(context.Background(), latchtest.RuleTick("nightly", time.Date(2026, 11, 27, 2, 0, 0, 0, time.UTC)))
	fmt.Println("error:", err)
	for _, m := range fq.Messages() {
		fmt.Println(m.Error, "|", m.EventID)
	}
	// Output:
	// error: <nil>
	// no report template for 2026-11-27 | tick-1795744800
}
