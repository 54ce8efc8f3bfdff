package chaos

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/latchkit/latch/pkg/retry"
)

// flakySQS answers SendMessageBatch as a slow, overloaded emulator does:
// each call's fate is the next of its script (a lost answer, or the entries
// to fail with an internal error), then it takes everything. It records
// every body it took.
type flakySQS struct {
	mu     sync.Mutex
	script []step
	calls  int
	took   []string
	nextID int
}

type step struct {
	lost   bool     // the call times out after SQS took the entries
	fail   []string // bodies to fail (not the sender's fault)
	refuse string   // a body to refuse for the sender's fault
}

func (f *flakySQS) SendMessageBatch(ctx context.Context, in *sqs.SendMessageBatchInput, _ ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var s step
	if f.calls < len(f.script) {
		s = f.script[f.calls]
	}
	f.calls++
	out := &sqs.SendMessageBatchOutput{}
	for _, e := range in.Entries {
		body := aws.ToString(e.MessageBody)
		switch {
		case body == s.refuse:
			out.Failed = append(out.Failed, sqstypes.BatchResultErrorEntry{Id: e.Id, Code: aws.String("InvalidParameterValue"), SenderFault: true})
		case slices.Contains(s.fail, body):
			out.Failed = append(out.Failed, sqstypes.BatchResultErrorEntry{Id: e.Id, Code: aws.String("InternalError"), Message: aws.String("try again")})
		default:
			f.took = append(f.took, body)
			f.nextID++
			out.Successful = append(out.Successful, sqstypes.SendMessageBatchResultEntry{Id: e.Id, MessageId: aws.String("id-" + strconv.Itoa(f.nextID))})
		}
	}
	if s.lost {
		return nil, fmt.Errorf("send: %w", context.DeadlineExceeded)
	}
	return out, nil
}

func TestSendRidesOutAFlakyQueue(t *testing.T) {
	t.Parallel()
	msgs := []message{
		{kind: "valid", body: `{"orderId":"o1"}`, orderID: "o1"},
		{kind: "not-json", body: "order <", poison: true},
		{kind: "valid", body: `{"orderId":"o2"}`, orderID: "o2"},
	}
	var waits []time.Duration
	rc := senderRetry{attempts: 5, call: time.Second, backoff: retry.Backoff{Base: 100 * time.Millisecond, Max: time.Second, Jitter: -1},
		wait: func(_ context.Context, d time.Duration) error { waits = append(waits, d); return nil }}
	tests := []struct {
		name        string
		script      []step
		wantErr     string
		wantTook    int // bodies SQS holds, resends included
		wantResent  int
		wantRetries int
	}{
		{name: "a quiet queue", wantTook: 3},
		{name: "one entry failing twice", script: []step{{fail: []string{"order <"}}, {fail: []string{"order <"}}}, wantTook: 3, wantRetries: 2},
		{name: "a lost answer, then a failing entry", script: []step{{lost: true}, {fail: []string{`{"orderId":"o2"}`}}}, wantTook: 6, wantResent: 1, wantRetries: 4},
		{name: "the sender's fault", script: []step{{refuse: "order <"}}, wantErr: "SQS refused a not-json message"},
		{name: "never taken", script: []step{{fail: []string{"order <"}}, {fail: []string{"order <"}}, {fail: []string{"order <"}}, {fail: []string{"order <"}}, {fail: []string{"order <"}}},
			wantErr: "1 messages (kinds not-json…) not sent after 5 attempts: InternalError"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			waits = nil
			sqsq := &flakySQS{script: tt.script}
			res, err := send(context.Background(), sqsq, "http://q", msgs, rc)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("send error %v, want one with %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(res.sent) != len(msgs) || len(sqsq.took) != tt.wantTook || len(res.resent) != tt.wantResent || res.retries != tt.wantRetries {
				t.Errorf("sent %d of %d, SQS holds %d (want %d), resent %d (want %d), retries %d (want %d)",
					len(res.sent), len(msgs), len(sqsq.took), tt.wantTook, len(res.resent), tt.wantResent, res.retries, tt.wantRetries)
			}
			for i := 1; i < len(waits); i++ {
				if waits[i] <= waits[i-1] {
					t.Errorf("backoff %v does not grow", waits)
				}
			}
		})
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := send(ctx, &flakySQS{script: []step{{lost: true}}}, "http://q", msgs, defaultSenderRetry); !errors.Is(err, context.Canceled) {
		t.Errorf("send on a cancelled run: %v, want context.Canceled", err)
	}
}
