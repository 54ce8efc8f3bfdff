//go:build integration

package invoices_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/latchkit/latch/pkg/latchtest/emulator"
)

// The whole service as a user runs it: `latch local --template
// template.yaml` provisions this module's template on the emulators, builds
// and runs both functions and polls the queue; one invoice sent to the
// queue ends up charged once in the ledger table.
func TestEndToEndLatchLocal(t *testing.T) {
	env := emulator.New(t)
	latch := filepath.Join(t.TempDir(), "latch")
	if out, err := exec.Command("go", "build", "-o", latch, "github.com/latchkit/latch/cmd/latch").CombinedOutput(); err != nil {
		t.Fatalf("build latch (the tool in go.mod): %v\n%s", err, out)
	}

	cmd := exec.Command(latch, "local", "--template", "template.yaml", "--param", "RetryBaseSeconds=1")
	var logs syncBuffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// Ctrl-C: latch local stops the functions it started.
		_ = cmd.Process.Signal(os.Interrupt)
		if err := cmd.Wait(); err != nil {
			t.Errorf("latch local: %v", err)
		}
		if t.Failed() {
			t.Logf("latch local's output:\n%s", logs.String())
		}
	})

	// The queue exists once the template is provisioned; a message sent
	// before the functions run waits for them in the queue.
	var queueURL string
	poll(t, 3*time.Minute, "the template provisioned", func() bool {
		out, err := env.SQS.GetQueueUrl(context.Background(), &sqs.GetQueueUrlInput{QueueName: aws.String(physicalName("InvoicesQueue"))})
		if err != nil {
			return false
		}
		queueURL = aws.ToString(out.QueueUrl)
		return true
	})
	id := strings.ToLower(emulator.UniqueName(t, "inv"))
	env.Send(t, queueURL, `{"id":"`+id+`","customer":"c-1","cents":1200}`)

	ledger := physicalName("InvoicesLedgerTable")
	poll(t, 3*time.Minute, "invoice "+id+" charged", func() bool { return times(t, env, ledger, id) > 0 })
	if n := times(t, env, ledger, id); n != 1 {
		t.Fatalf("invoice %s charged %d times, want 1", id, n)
	}
}

// physicalName is the name `latch local` gives a resource of the template.
func physicalName(logicalID string) string { return "latch-" + logicalID }

// poll calls done until it reports true, failing the test after limit.
func poll(t *testing.T, limit time.Duration, what string, done func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !done() {
		if time.Now().After(deadline) {
			t.Fatalf("not %s within %s", what, limit)
		}
		time.Sleep(200 * time.Millisecond) // the poll interval, under the deadline
	}
}

// syncBuffer collects latch local's output from both streams.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
