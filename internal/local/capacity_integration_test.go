//go:build integration

package local_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/latchkit/latch/internal/local"
	"github.com/latchkit/latch/pkg/latchtest/emulator"
)

// pidsOf reads the pids testdata/fn printed under key ({"met_in":PID}).
func pidsOf(out *syncBuffer, key string) []int {
	var pids []int
	for _, raw := range out.lines(key) {
		var pid int
		if json.Unmarshal(raw, &pid) == nil {
			pids = append(pids, pid)
		}
	}
	return pids
}

// TestCapacityProviderFunction: a function the template puts on a capacity
// provider (PerExecutionEnvironmentMaxConcurrency 4) runs four invocations
// at once in one process. An invocation past its timeout fails, and its
// process runs on and finishes it, as on Lambda Managed Instances; with
// KillOverrun (--kill-on-timeout) the process is killed at the timeout,
// and the redelivery runs in a fresh one.
func TestCapacityProviderFunction(t *testing.T) {
	tests := []struct {
		name string
		kill bool
	}{
		{name: "as the platform: the overrun runs on"},
		{name: "classic kill", kill: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stack, out, env := startStackWith(t, local.Config{Template: "testdata/capacity.yaml", KillOverrun: tt.kill})
			url, err := stack.Resolve("InQueue")
			if err != nil {
				t.Fatal(err)
			}
			send := func(body string) {
				t.Helper()
				if _, err := env.SQS.SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(body)}); err != nil {
					t.Fatal(err)
				}
			}
			for range 4 {
				send("meet:4")
			}
			emulator.Eventually(t, 60*time.Second, "four invocations meeting in one process", func() bool {
				return len(pidsOf(out, "met_in")) == 4
			})
			met := pidsOf(out, "met_in")
			for _, p := range met {
				if p != met[0] {
					t.Fatalf("the four invocations ran in processes %v, want one", met)
				}
			}

			send("overrun:" + filepath.Join(t.TempDir(), "marker"))
			// The overrun's invocation fails at its 4 s timeout, so its
			// message comes back after the queue's 6 s visibility timeout
			// and finds the marker.
			emulator.Eventually(t, 60*time.Second, "the overrun's redelivery", func() bool {
				return len(pidsOf(out, "overrun_seen")) >= 1
			})
			done, seen := pidsOf(out, "overrun_done"), pidsOf(out, "overrun_seen")
			if tt.kill {
				if len(done) != 0 || seen[0] == met[0] {
					t.Errorf("overrun finished in %v, redelivery in process %d (first process %d): want the first killed, the redelivery in a fresh one", done, seen[0], met[0])
				}
				return
			}
			if len(done) != 1 || done[0] != met[0] || seen[0] != met[0] {
				t.Errorf("overrun finished in %v, redelivery in process %d: want both in %d, the one process", done, seen[0], met[0])
			}
		})
	}
}
