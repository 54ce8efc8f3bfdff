//go:build integration

package invoices_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/latchkit/latch/pkg/latchtest/emulator"
)

// The whole service as a user runs it: `latch local --template
// template.yaml` provisions this module's template on the emulators under a
// prefix of its own, builds and runs both functions and polls the queue;
// one invoice sent with `latch send` ends up charged once in the ledger
// table.
func TestEndToEndLatchLocal(t *testing.T) {
	env := emulator.New(t)
	local := emulator.StartLocal(t, emulator.LocalConfig{Params: map[string]string{"RetryBaseSeconds": "1"}})

	// The queue exists once the template is provisioned; a message sent
	// before the functions run waits for them in the queue.
	queue := local.Name("InvoicesQueue")
	emulator.Eventually(t, 3*time.Minute, "provisioned", func() bool {
		_, err := env.SQS.GetQueueUrl(context.Background(), &sqs.GetQueueUrlInput{QueueName: aws.String(queue)})
		return err == nil
	})
	id := strings.ToLower(emulator.UniqueName(t, "inv"))
	local.Latch(t, "send", queue, `{"id":"`+id+`","customer":"c-1","cents":1200}`)

	ledger := local.Name("InvoicesLedgerTable")
	emulator.Eventually(t, 3*time.Minute, "charged", func() bool { return times(t, env, ledger, id) > 0 })
	if n := times(t, env, ledger, id); n != 1 {
		t.Fatalf("invoice %s charged %d times, want 1", id, n)
	}
}
