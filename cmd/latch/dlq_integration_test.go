//go:build integration

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/latchkit/latch/pkg/handler"
	"github.com/latchkit/latch/pkg/latchtest/emulator"
)

// putDeadLettered puts a message in q's DLQ the way latch's SQS processor
// does, with its reason attributes.
func putDeadLettered(t *testing.T, env *emulator.Env, q emulator.Queue, body, reason, sourceID string) {
	t.Helper()
	str := func(s string) types.MessageAttributeValue {
		return types.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(s)}
	}
	_, err := env.SQS.SendMessage(context.Background(), &sqs.SendMessageInput{
		QueueUrl: aws.String(q.DLQ.URL), MessageBody: aws.String(body),
		MessageAttributes: map[string]types.MessageAttributeValue{
			handler.DLQAttrError:           str(reason),
			handler.DLQAttrErrorClass:      str("permanent"),
			handler.DLQAttrReceiveCount:    {DataType: aws.String("Number"), StringValue: aws.String("2")},
			handler.DLQAttrSourceQueue:     str(q.ARN),
			handler.DLQAttrFailedAt:        str(time.Now().UTC().Format(time.RFC3339Nano)),
			"tenant":                       str("acme"),
			handler.DLQAttrSourceMessageID: str(sourceID),
		},
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestDLQCommands(t *testing.T) {
	env := emulator.New(t)
	q := env.Queue(t, emulator.QueueSpec{MaxReceiveCount: 3})
	putDeadLettered(t, env, q, `{"order_id":"o-1"}`, "order o-1: amount must be positive", "src-o-1")
	putDeadLettered(t, env, q, `{"order_id":"o-2"}`, "order o-2: unknown currency\n\"XYZ\"", "src-o-2")
	// A second copy of o-1: listed and moved once.
	putDeadLettered(t, env, q, `{"order_id":"o-1"}`, "order o-1: amount must be positive", "src-o-1")

	code, out, errOut := runLatch(t, "dlq", "ls", q.DLQ.Name)
	if code != 0 {
		t.Fatalf("dlq ls: exit %d, stderr %s", code, errOut)
	}
	for _, want := range []string{"ORIGINAL ID", "CLASS", "src-o-1", "src-o-2", "permanent", "order o-1: amount must be positive",
		`order o-2: unknown currency "XYZ"`, q.Name, "2 message(s) in " + q.DLQ.URL, "1 extra cop(ies)"} {
		if !strings.Contains(out, want) {
			t.Errorf("dlq ls output lacks %q:\n%s", want, out)
		}
	}
	t.Logf("latch dlq ls %s:\n%s", q.DLQ.Name, out)
	if lines := strings.Count(out, "\n"); lines != 5 {
		t.Errorf("dlq ls printed %d lines, want header, 2 messages, 2 footer lines:\n%s", lines, out)
	}

	code, out, _ = runLatch(t, "dlq", "ls", "--json", q.DLQ.URL)
	if code != 0 {
		t.Fatalf("dlq ls --json: exit %d", code)
	}
	sc := bufio.NewScanner(strings.NewReader(out))
	n := 0
	for sc.Scan() {
		var m jsonMessage
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		if !strings.HasPrefix(m.SourceID, "src-o-") || m.ErrorClass != "permanent" || m.Attempt != 2 || m.SourceQueue != q.ARN || m.Attributes["tenant"] != "acme" || !strings.Contains(m.Body, "order_id") {
			t.Errorf("json message %+v", m)
		}
		n++
	}
	if n != 2 {
		t.Errorf("%d JSON lines, want 2", n)
	}

	code, out, _ = runLatch(t, "dlq", "redrive", "--dry-run", q.DLQ.ARN)
	if code != 0 || strings.Count(out, "would move ") != 3 || !strings.Contains(out, "would move 2 message(s) from "+q.DLQ.Name+" to "+q.URL) {
		t.Errorf("dry run: exit %d:\n%s", code, out)
	}

	code, _, errOut = runLatch(t, "dlq", "redrive", q.DLQ.Name, "--to", "no-such-queue-"+q.Name)
	if code != 1 || !strings.Contains(errOut, "no such queue: no-such-queue-") {
		t.Errorf("redrive --to a missing queue: exit %d, stderr %q", code, errOut)
	}

	code, out, errOut = runLatch(t, "dlq", "redrive", q.DLQ.Name, "--id", "src-o-2", "--class", "permanent")
	if code != 0 || out != "moved 1 message(s) from "+q.DLQ.Name+" to "+q.URL+"\nleft 2 message(s) that --id/--class did not pick\n" {
		t.Errorf("redrive --id: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	code, out, errOut = runLatch(t, "dlq", "redrive", q.DLQ.Name)
	if code != 0 || out != "moved 1 message(s) from "+q.DLQ.Name+" to "+q.URL+"\ndeleted 1 extra cop(ies) of moved messages\n" {
		t.Errorf("redrive: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	code, out, _ = runLatch(t, "dlq", "redrive", q.DLQ.Name)
	if code != 0 || out != "no messages in "+q.DLQ.URL+"\n" {
		t.Errorf("redrive of an empty DLQ: exit %d, stdout %q", code, out)
	}
	code, out, _ = runLatch(t, "dlq", "ls", q.Name)
	if code != 0 || !strings.Contains(out, "2 message(s) in "+q.URL) || !strings.Contains(out, "(no latch reason") {
		t.Errorf("source queue after redrive: exit %d:\n%s", code, out)
	}

	// A message that cannot go anywhere: non-zero exit, and it stays.
	if _, err := env.SQS.SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: aws.String(q.DLQ.URL), MessageBody: aws.String("orphan")}); err != nil {
		t.Fatal(err)
	}
	code, _, errOut = runLatch(t, "dlq", "redrive", q.DLQ.Name)
	if code != 1 || !strings.Contains(errOut, "latch: not moved: ") || !strings.Contains(errOut, "--to") {
		t.Errorf("redrive of an orphan: exit %d, stderr %q", code, errOut)
	}
	code, out, _ = runLatch(t, "dlq", "ls", q.DLQ.Name)
	if code != 0 || !strings.Contains(out, "1 message(s)") {
		t.Errorf("orphan not kept: exit %d:\n%s", code, out)
	}

	code, _, errOut = runLatch(t, "dlq", "ls", "no-such-queue-"+q.Name)
	if code != 1 || !strings.HasPrefix(errOut, "latch: no such queue: no-such-queue-") {
		t.Errorf("ls of a missing queue: exit %d, stderr %q", code, errOut)
	}
}
