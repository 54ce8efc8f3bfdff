//go:build integration

package invoices_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
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
// and runs both functions, and polls the queue; one invoice sent to the
// queue ends up charged once in the ledger table.
func TestEndToEndLatchLocal(t *testing.T) {
	env := emulator.New(t)
	latch := buildLatch(t)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cmd := exec.CommandContext(ctx, latch, "local", "--template", "template.yaml", "--param", "RetryBaseSeconds=1")
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) } // latch local stops what it started
	cmd.WaitDelay = 30 * time.Second
	var logs syncBuffer
	cmd.Stderr = &logs
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := cmd.Wait(); err != nil && ctx.Err() == nil {
			t.Errorf("latch local: %v", err)
		}
	}
	defer stop()
	defer func() {
		if t.Failed() {
			t.Logf("latch local's output:\n%s", logs.String())
		}
	}()

	running := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		once := sync.Once{}
		for sc.Scan() {
			logs.WriteString(sc.Text() + "\n")
			if strings.Contains(sc.Text(), "latch local: running") {
				once.Do(func() { close(running) })
			}
		}
	}()
	select {
	case <-running:
	case <-time.After(3 * time.Minute): // the first run builds both functions
		t.Fatal("latch local did not start within 3 minutes")
	}

	queue := physicalName("InvoicesQueue")
	out, err := env.SQS.GetQueueUrl(context.Background(), &sqs.GetQueueUrlInput{QueueName: aws.String(queue)})
	if err != nil {
		t.Fatalf("queue %s: %v", queue, err)
	}
	id := "inv-e2e-" + randomHex(t)
	env.Send(t, aws.ToString(out.QueueUrl), `{"id":"`+id+`","customer":"c-1","cents":1200}`)

	ledger := physicalName("InvoicesLedgerTable")
	deadline := time.Now().Add(60 * time.Second)
	for times(t, env, ledger, id) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("invoice %s not charged in %s within 60s", id, ledger)
		}
		time.Sleep(200 * time.Millisecond) // a poll interval, under a deadline
	}
	if n := times(t, env, ledger, id); n != 1 {
		t.Fatalf("invoice %s charged %d times, want 1", id, n)
	}
	stop()
}

// physicalName is the name `latch local` gives a resource of the template.
func physicalName(logicalID string) string { return "latch-" + logicalID }

// buildLatch builds the latch CLI this module pins (the tool directive in
// go.mod) into a temporary directory.
func buildLatch(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "latch")
	build := exec.Command("go", "build", "-o", bin, "github.com/latchkit/latch/cmd/latch")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build latch: %v\n%s", err, out)
	}
	return bin
}

func randomHex(t *testing.T) string {
	var b [4]byte
	if _, err := io.ReadFull(rand.Reader, b[:]); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b[:])
}

// syncBuffer collects the output of latch local's two streams.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) WriteString(p string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.b.WriteString(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
