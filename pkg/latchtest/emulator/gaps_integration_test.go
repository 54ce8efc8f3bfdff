//go:build integration

package emulator_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/latchkit/latch/pkg/latchtest/emulator"
)

// Each gap test runs on every backend: where the gap is declared it
// asserts the emulator still has it (a fixed emulator fails the test, and
// the gap and its skips should go); elsewhere it asserts the behaviour of
// AWS, which the tests that skip on the gap rely on.

func TestGapFIFOInFlight(t *testing.T) {
	t.Parallel()
	env := emulator.New(t)
	q := env.Queue(t, emulator.QueueSpec{FIFO: true, VisibilityTimeout: 30 * time.Second})
	ctx := context.Background()
	for _, id := range []string{"m1", "m2"} {
		if _, err := env.SQS.SendMessage(ctx, &sqs.SendMessageInput{
			QueueUrl: aws.String(q.URL), MessageBody: aws.String(id),
			MessageGroupId: aws.String("g"), MessageDeduplicationId: aws.String(id),
		}); err != nil {
			t.Fatal(err)
		}
	}
	// Both in one batch, as a poller receives them; then m2 is given back
	// (visibility 0, as latch does with a record blocked behind a failed
	// one) while m1 stays in flight.
	got, err := env.SQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(q.URL), MaxNumberOfMessages: 10, WaitTimeSeconds: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Messages) != 2 {
		t.Fatalf("first receive gave %d messages, want m1 and m2", len(got.Messages))
	}
	if _, err := env.SQS.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{
		QueueUrl: aws.String(q.URL), ReceiptHandle: got.Messages[1].ReceiptHandle, VisibilityTimeout: 0,
	}); err != nil {
		t.Fatal(err)
	}
	// SQS gives nothing of group g while m1 is in flight.
	second, err := env.SQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(q.URL), MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
	if err != nil {
		t.Fatal(err)
	}
	leaked := len(second.Messages) > 0
	switch g := emulator.GapFIFOInFlight; {
	case g.Present() && !leaked:
		t.Errorf("the %s backend no longer has %s (%s): remove the gap and its skips", g.Backend, g.Name, g.What)
	case !g.Present() && leaked:
		t.Errorf("a receive while m1 is in flight gave %q of the same group; SQS gives nothing", aws.ToString(second.Messages[0].Body))
	}
}

func TestGapEventBridge256KiB(t *testing.T) {
	t.Parallel()
	env := emulator.New(t)
	bus := env.Bus(t)
	// 300 KB: over the old limit, well under the new one.
	detail := `{"pad":"` + strings.Repeat("p", 300_000) + `"}`
	out, err := env.EventBridge.PutEvents(context.Background(), &eventbridge.PutEventsInput{Entries: []ebtypes.PutEventsRequestEntry{{
		EventBusName: aws.String(bus.Name), Source: aws.String("latch.gap"), DetailType: aws.String("Big"), Detail: aws.String(detail),
	}}})
	refused := err != nil || out.FailedEntryCount != 0
	if emulator.GapEventBridge256KiB.Present() {
		if !refused {
			t.Fatal("LocalStack took a 300 KB event: GapEventBridge256KiB is fixed; remove it and its skips")
		}
		return
	}
	if refused {
		t.Fatalf("a 300 KB event was refused (%v), but EventBridge takes 1 MiB", err)
	}
}
