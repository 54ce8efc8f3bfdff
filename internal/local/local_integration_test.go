//go:build integration

package local_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/google/go-cmp/cmp"

	"github.com/latchkit/latch/internal/local"
	"github.com/latchkit/latch/pkg/latchtest/emulator"
)

// syncBuffer is function output the test reads while functions write it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
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

// lines returns the JSON objects the function printed under key.
func (s *syncBuffer) lines(key string) []json.RawMessage {
	var out []json.RawMessage
	for _, line := range strings.Split(s.String(), "\n") {
		i := strings.IndexByte(line, '{')
		if i < 0 {
			continue
		}
		var m map[string]json.RawMessage
		if json.Unmarshal([]byte(line[i:]), &m) == nil && m[key] != nil {
			out = append(out, m[key])
		}
	}
	return out
}

func startStack(t *testing.T) (*local.Stack, *syncBuffer, *emulator.Env) {
	t.Helper()
	return startStackWith(t, local.Config{Template: "testdata/template.yaml"})
}

// startStackWith starts cfg's template on the emulators under a fresh
// prefix, its output captured.
func startStackWith(t *testing.T, cfg local.Config) (*local.Stack, *syncBuffer, *emulator.Env) {
	t.Helper()
	env := emulator.New(t)
	var b [4]byte
	_, _ = rand.Read(b[:])
	out := &syncBuffer{}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cfg.StackName, cfg.Output, cfg.AWS, cfg.BuildCacheDir = "lt"+hex.EncodeToString(b[:]), out, &env.Cfg, t.TempDir()
	stack, err := local.Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := stack.Stop(); err != nil {
			t.Error(err)
		}
		if t.Failed() {
			t.Logf("function output:\n%s", out.String())
		}
	})
	return stack, out, env
}

func TestSQSMessageReachesFunction(t *testing.T) {
	stack, out, env := startStack(t)
	ctx := context.Background()
	url, err := stack.Resolve("InQueue")
	if err != nil {
		t.Fatal(err)
	}
	for _, body := range []string{"one", "two", "three"} {
		if _, err := env.SQS.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(body)}); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	var got []string
	for time.Now().Before(deadline) {
		got = got[:0]
		for _, raw := range out.lines("got") {
			var s string
			_ = json.Unmarshal(raw, &s)
			got = append(got, s)
		}
		if len(got) >= 3 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if diff := cmp.Diff([]string{"one", "three", "two"}, sorted(got)); diff != "" {
		t.Fatalf("bodies the function logged (-want +got):\n%s", diff)
	}
	// The environment's !Ref InQueue resolved to the local queue's URL.
	if !strings.Contains(out.String(), `"env":"`+url+`"`) {
		t.Errorf("function did not see QUEUE_URL=%s", url)
	}
	// Succeeded records are deleted: the queue drains.
	for time.Now().Before(deadline) {
		a, err := env.SQS.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url), AttributeNames: []sqstypes.QueueAttributeName{"All"}})
		if err != nil {
			t.Fatal(err)
		}
		if a.Attributes["ApproximateNumberOfMessages"] == "0" && a.Attributes["ApproximateNumberOfMessagesNotVisible"] == "0" {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Error("queue did not drain")
}

func TestFireScheduleReachesFunction(t *testing.T) {
	stack, out, _ := startStack(t)
	at := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	if err := stack.Fire(context.Background(), "FnTick", at); err != nil {
		t.Fatal(err)
	}
	// Fire returns when the invocation ends; the function's output may still
	// be on its way through the runner.
	var ticks []json.RawMessage
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if ticks = out.lines("tick"); len(ticks) > 0 {
			break
		}
	}
	if len(ticks) != 1 {
		t.Fatalf("function logged %d ticks, want 1", len(ticks))
	}
	// SETTINGS_FILE is relative: the function runs in its code directory,
	// LAMBDA_TASK_ROOT, as in Lambda, wherever the runner runs.
	if s := out.lines("settings"); len(s) != 1 || !strings.Contains(string(s[0]), "from the code directory") {
		t.Errorf("the function read settings.json relative to its working directory as %s, want its contents", s)
	}
	var ev local.ScheduledEvent
	if err := json.Unmarshal(ticks[0], &ev); err != nil {
		t.Fatal(err)
	}
	if len(ev.ID) != 36 || len(ev.Resources) != 1 || !strings.Contains(ev.Resources[0], ":rule/") {
		t.Errorf("event id %q, resources %v: want a uuid and the rule ARN", ev.ID, ev.Resources)
	}
	ev.ID, ev.Resources = "", nil
	want := local.ScheduledEvent{Version: "0", DetailType: "Scheduled Event", Source: "aws.events",
		Account: "123456789012", Time: "2026-03-01T00:00:00Z", Region: ev.Region, Detail: json.RawMessage(`{}`)}
	if diff := cmp.Diff(want, ev); diff != "" || ev.Region == "" {
		t.Errorf("scheduled event (-want +got):\n%s", diff)
	}
}

func TestFailingTickGoesToOnFailure(t *testing.T) {
	stack, _, env := startStack(t)
	ctx := context.Background()
	err := stack.Fire(ctx, "FailingTick", time.Now())
	if err == nil || !strings.Contains(err.Error(), "after 2 attempts") || !strings.Contains(err.Error(), "asked to fail") {
		t.Fatalf("Fire = %v, want a failure after 2 attempts (MaximumRetryAttempts 1)", err)
	}
	url, err := stack.Resolve("FailQueue")
	if err != nil {
		t.Fatal(err)
	}
	msg, err := env.SQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), WaitTimeSeconds: 5})
	if err != nil {
		t.Fatal(err)
	}
	if len(msg.Messages) != 1 {
		t.Fatalf("OnFailure queue has %d messages, want 1", len(msg.Messages))
	}
	var rec struct {
		RequestContext struct {
			Condition              string `json:"condition"`
			ApproximateInvokeCount int    `json:"approximateInvokeCount"`
		} `json:"requestContext"`
		RequestPayload  map[string]any `json:"requestPayload"`
		ResponsePayload struct {
			ErrorMessage string `json:"errorMessage"`
		} `json:"responsePayload"`
	}
	if err := json.Unmarshal([]byte(aws.ToString(msg.Messages[0].Body)), &rec); err != nil {
		t.Fatal(err)
	}
	if rec.RequestContext.Condition != "RetriesExhausted" || rec.RequestContext.ApproximateInvokeCount != 2 ||
		rec.RequestPayload["fail"] != true || rec.ResponsePayload.ErrorMessage != "asked to fail" {
		t.Errorf("invocation record = %+v", rec)
	}
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}

// TestFIFOOrderAfterAKilledBatch kills the function in the middle of a
// FIFO batch, then sends more of the same group: whatever the emulator
// returns meanwhile, the function sees the group in order, the killed
// batch again from its start, and the runner reports it in flight.
func TestFIFOOrderAfterAKilledBatch(t *testing.T) {
	stack, out, env := startStack(t)
	ctx := context.Background()
	url, err := stack.Resolve("OrderedQueue")
	if err != nil {
		t.Fatal(err)
	}
	marker := t.TempDir() + "/killed"
	body := func(i int) string {
		if i == 3 {
			return "die:" + marker
		}
		return fmt.Sprintf("m%02d", i)
	}
	send := func(from, to int) {
		var entries []sqstypes.SendMessageBatchRequestEntry
		for i := from; i <= to; i++ {
			entries = append(entries, sqstypes.SendMessageBatchRequestEntry{Id: aws.String(fmt.Sprint(i)), MessageBody: aws.String(body(i)), MessageGroupId: aws.String("alice")})
		}
		res, err := env.SQS.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(url), Entries: entries})
		if err != nil || len(res.Failed) > 0 {
			t.Fatalf("send: %v %v", err, res)
		}
	}
	got := func() []int {
		var seq []int
		for _, raw := range out.lines("got") {
			var s string
			_ = json.Unmarshal(raw, &s)
			for i := 1; i <= 15; i++ {
				if s == body(i) {
					seq = append(seq, i)
				}
			}
		}
		return seq
	}
	send(1, 10)
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(out.String(), "exited unexpectedly") && !fileExists(marker) && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	send(11, 15)
	var inflight []local.InFlight
	for time.Now().Before(deadline) && len(inflight) == 0 {
		inflight = stack.InFlight()
		time.Sleep(20 * time.Millisecond)
	}
	if len(inflight) != 1 || inflight[0].QueueURL != url || inflight[0].Messages < 1 || inflight[0].Due.Before(time.Now()) {
		t.Errorf("in flight after the kill: %+v, want the ordered queue's killed batch", inflight)
	}
	for time.Now().Before(deadline) && !contains(got(), 15) {
		time.Sleep(100 * time.Millisecond)
	}
	seq := got()
	t.Logf("order seen by the function: %v", seq)
	// In order, except that the killed batch starts again from its first
	// record, which is 1 or a later one when an earlier batch of the group
	// had finished: a step back is a redelivery, a step forward past the
	// next record is out of order.
	for i := 1; i < len(seq); i++ {
		if seq[i] > seq[i-1]+1 {
			t.Errorf("record %d seen after %d: out of order: %v", seq[i], seq[i-1], seq)
			break
		}
	}
	if !contains(seq, 15) || seq[len(seq)-1] != 15 {
		t.Errorf("the group did not finish in order: %v", seq)
	}
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func contains(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// TestNoSDKChecksumNoise has the function make a DynamoDB call that DynamoDB
// Local answers with a 4xx, as a lost conditional write does: the SDK's
// false checksum warning does not reach the output.
func TestNoSDKChecksumNoise(t *testing.T) {
	stack, out, env := startStack(t)
	url, err := stack.Resolve("InQueue")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.SQS.SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String("ddb-missing")}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for len(out.lines("ddb_error")) == 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if errs := out.lines("ddb_error"); len(errs) != 1 || !strings.Contains(string(errs[0]), "ResourceNotFoundException") {
		t.Fatalf("function's DynamoDB error: %s", errs)
	}
	if strings.Contains(out.String(), "failed to close HTTP response body") {
		t.Errorf("the SDK's checksum warning reached the output:\n%s", out.String())
	}
}

// TestLeftInFlightCountsWhatTheQueueHolds: after Stop, the report counts
// the messages the queue has in flight, not only those the runner saw: a
// receive that the stop cuts short leaves its messages in flight without
// the runner ever seeing its answer. A second consumer's receive stands in
// for it here, as the one way to have the queue hand out messages the
// runner never saw, every time.
func TestLeftInFlightCountsWhatTheQueueHolds(t *testing.T) {
	stack, _, env := startStack(t)
	ctx := context.Background()
	url, err := stack.Resolve("InQueue")
	if err != nil {
		t.Fatal(err)
	}
	held := 0
	for deadline := time.Now().Add(time.Minute); held == 0; {
		if time.Now().After(deadline) {
			t.Fatal("the runner took every message; the test's receive got none")
		}
		var entries []sqstypes.SendMessageBatchRequestEntry
		for i := range 10 {
			entries = append(entries, sqstypes.SendMessageBatchRequestEntry{Id: aws.String(fmt.Sprint(i)), MessageBody: aws.String(fmt.Sprintf("m%d", i))})
		}
		if _, err := env.SQS.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(url), Entries: entries}); err != nil {
			t.Fatal(err)
		}
		got, err := env.SQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 10, VisibilityTimeout: 600})
		if err != nil {
			t.Fatal(err)
		}
		held = len(got.Messages)
	}
	if err := stack.Stop(); err != nil {
		t.Fatal(err)
	}
	left, err := stack.LeftInFlight(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var q *local.InFlight
	for i := range left {
		if left[i].QueueURL == url {
			q = &left[i]
		}
	}
	if q == nil || q.Messages+q.Unseen < held || q.Due.Before(time.Now()) {
		t.Errorf("left in flight %+v, want InQueue with at least the %d messages the queue handed out beside the runner, due in the future", left, held)
	}
}
