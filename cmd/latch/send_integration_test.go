//go:build integration

package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/latchkit/latch/pkg/latchtest/emulator"
)

func TestSend(t *testing.T) {
	env := emulator.New(t)
	ctx := context.Background()
	std := env.Queue(t, emulator.QueueSpec{})
	fifo := env.Queue(t, emulator.QueueSpec{FIFO: true})
	file := filepath.Join(t.TempDir(), "order.json")
	if err := os.WriteFile(file, []byte(`{"id":"o-2"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	sendOK := func(stdin string, args ...string) string {
		t.Helper()
		var out, errOut bytes.Buffer
		e := &Env{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errOut, Now: time.Now}
		if code := run(ctx, append([]string{"send"}, args...), e); code != 0 {
			t.Fatalf("latch send %q: exit %d, stderr %s", args, code, errOut.String())
		}
		return strings.TrimSpace(out.String())
	}
	ids := map[string]bool{
		sendOK("", std.Name, `{"id":"o-1"}`, "--attr", "tenant=acme", "--attr", "priority:Number=3"): true,
		sendOK("", std.URL, "@"+file):   true,
		sendOK(`{"id":"o-3"}`, std.ARN): true,
	}
	got := map[string]types.Message{}
	for _, m := range receiveAll(t, env, std.URL, 3) {
		got[aws.ToString(m.Body)] = m
		if !ids[aws.ToString(m.MessageId)] {
			t.Errorf("message id %s was not printed by latch send (printed %v)", aws.ToString(m.MessageId), ids)
		}
	}
	first := got[`{"id":"o-1"}`]
	if aws.ToString(first.MessageAttributes["tenant"].StringValue) != "acme" ||
		aws.ToString(first.MessageAttributes["priority"].DataType) != "Number" ||
		aws.ToString(first.MessageAttributes["priority"].StringValue) != "3" {
		t.Errorf("attributes = %+v", first.MessageAttributes)
	}
	for _, b := range []string{`{"id":"o-2"}`, `{"id":"o-3"}`} {
		if _, ok := got[b]; !ok {
			t.Errorf("body %s not received; got %v", b, got)
		}
	}

	// FIFO: the group and dedup id arrive; the same dedup id again is a
	// no-op for SQS.
	sendOK("", fifo.Name, "a1", "--group", "alice", "--dedup-id", "d1")
	sendOK("", fifo.Name, "a1 again", "--group", "alice", "--dedup-id", "d1")
	sendOK("", fifo.Name, "a2", "--group", "alice", "--dedup-id", "d2")
	var bodies []string
	for _, m := range receiveAll(t, env, fifo.URL, 2) {
		bodies = append(bodies, aws.ToString(m.Body))
		if g := m.Attributes[string(types.MessageSystemAttributeNameMessageGroupId)]; g != "alice" {
			t.Errorf("group = %q", g)
		}
	}
	if strings.Join(bodies, ",") != "a1,a2" {
		t.Errorf("FIFO bodies = %v, want a1,a2", bodies)
	}
}

// receiveAll receives and deletes until want messages arrived or a
// deadline passes.
func receiveAll(t *testing.T, env *emulator.Env, url string, want int) []types.Message {
	t.Helper()
	var all []types.Message
	deadline := time.Now().Add(20 * time.Second)
	for len(all) < want && time.Now().Before(deadline) {
		out, err := env.SQS.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{
			QueueUrl: aws.String(url), MaxNumberOfMessages: 10, WaitTimeSeconds: 1,
			MessageAttributeNames:       []string{"All"},
			MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range out.Messages {
			if _, err := env.SQS.DeleteMessage(context.Background(), &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: m.ReceiptHandle}); err != nil {
				t.Fatal(err)
			}
		}
		all = append(all, out.Messages...)
	}
	if len(all) != want {
		t.Fatalf("received %d messages from %s, want %d", len(all), url, want)
	}
	return all
}
