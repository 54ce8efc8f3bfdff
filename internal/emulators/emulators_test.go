//go:build emulators

package emulators_test

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/latchkit/latch/internal/emulators"
)

// TestFromAnEmptyDirectory is what a user of a "go install"ed latch does:
// from a directory that is no checkout of latch, start a backend, reach a
// queue and a table through 'latch emulators env', stop it, and find none
// of its processes left. It runs under `make emulators-check` (build tag
// emulators): it starts stacks of its own, so it does not belong inside
// the integration suite's.
func TestFromAnEmptyDirectory(t *testing.T) {
	latch := filepath.Join(t.TempDir(), "latch")
	build := exec.Command("go", "build", "-o", latch, "github.com/latchkit/latch/cmd/latch")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	for _, backend := range []string{"default", "localstack", "ministack"} {
		t.Run(backend, func(t *testing.T) {
			dir := t.TempDir()
			run := func(args ...string) (string, error) {
				cmd := exec.Command(latch, args...)
				cmd.Dir = dir
				cmd.Env = withoutAWS(os.Environ())
				out, err := cmd.Output()
				if ee, ok := err.(*exec.ExitError); ok {
					t.Logf("latch %s: %s", strings.Join(args, " "), ee.Stderr)
				}
				return string(out), err
			}
			start := time.Now()
			if _, err := run("emulators", "up", "--backend", backend); err != nil {
				t.Fatalf("up: %v", err)
			}
			t.Logf("%s: up in %s", backend, time.Since(start).Round(time.Millisecond))
			pids := stackPIDs(t, dir, latch)
			t.Cleanup(func() {
				_, _ = run("emulators", "down")
				// The state directory (logs) of a project that is gone.
				if cache, err := emulators.CacheDir(); err == nil {
					if sd, err := emulators.StateDir(cache, dir); err == nil {
						_ = os.RemoveAll(sd)
					}
				}
			})
			exports, err := run("emulators", "env")
			if err != nil {
				t.Fatalf("env: %v", err)
			}
			vars := parseExports(t, exports)
			if vars["LATCH_BACKEND"] != backend {
				t.Errorf("LATCH_BACKEND = %q, want %q", vars["LATCH_BACKEND"], backend)
			}
			for k, v := range vars {
				if strings.HasPrefix(k, "AWS_ENDPOINT_URL") && !strings.HasPrefix(v, "http://127.0.0.1:") {
					t.Errorf("%s = %s, want a loopback endpoint", k, v)
				}
				t.Setenv(k, v)
			}
			useQueueAndTable(t)
			if backend == "ministack" {
				// A function it runs reaches the stack through the
				// environment it inherits; its process goes with down.
				pids = append(pids, functionSeesStack(t, vars))
			}

			if _, err := run("emulators", "down"); err != nil {
				t.Fatalf("down: %v", err)
			}
			if _, err := run("emulators", "status"); err == nil {
				t.Error("status succeeds after down, want it to say nothing runs")
			}
			for _, pid := range pids {
				if state := procState(pid); state != "" && state != "Z" {
					t.Errorf("pid %d (state %s) still runs after down", pid, state)
				}
			}
		})
	}
}

// stackPIDs returns the stack's recorded processes and everything below
// them now, from /proc.
func stackPIDs(t *testing.T, dir, latch string) []int {
	t.Helper()
	cmd := exec.Command(latch, "emulators", "status")
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("status: %v", err)
	}
	var pids []int
	for _, line := range strings.Split(string(out), "\n") {
		if f := strings.Fields(line); len(f) >= 4 && f[0] == "process" {
			pid, err := strconv.Atoi(f[len(f)-1])
			if err != nil {
				t.Fatalf("status line %q", line)
			}
			pids = append(pids, pid)
		}
	}
	if len(pids) == 0 {
		t.Fatalf("status names no processes:\n%s", out)
	}
	all := append([]int(nil), pids...)
	for i := 0; i < len(all); i++ {
		all = append(all, children(all[i])...)
	}
	return all
}

func children(pid int) []int {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "task", strconv.Itoa(pid), "children"))
	if err != nil {
		return nil
	}
	var out []int
	for _, f := range strings.Fields(string(b)) {
		if n, err := strconv.Atoi(f); err == nil {
			out = append(out, n)
		}
	}
	return out
}

// procState is the process's state letter, "" if there is no such process.
func procState(pid int) string {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return ""
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 || i+3 > len(s) {
		return "?"
	}
	return s[i+2 : i+3]
}

func parseExports(t *testing.T, s string) map[string]string {
	t.Helper()
	vars := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		line, ok := strings.CutPrefix(sc.Text(), "export ")
		if !ok {
			t.Fatalf("env line %q is not an export", sc.Text())
		}
		k, v, _ := strings.Cut(line, "=")
		vars[k] = strings.Trim(v, "'")
	}
	return vars
}

func withoutAWS(env []string) []string {
	var out []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, "AWS_") && !strings.HasPrefix(kv, "LATCH_BACKEND=") {
			out = append(out, kv)
		}
	}
	return out
}

// useQueueAndTable creates a queue and a table through the environment's
// endpoints and round-trips a message and an item.
func useQueueAndTable(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	q := sqs.NewFromConfig(cfg)
	qo, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("done-when")})
	if err != nil {
		t.Fatalf("create queue: %v", err)
	}
	if _, err := q.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: qo.QueueUrl, MessageBody: aws.String("hello")}); err != nil {
		t.Fatalf("send: %v", err)
	}
	ro, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: qo.QueueUrl, WaitTimeSeconds: 5})
	if err != nil || len(ro.Messages) != 1 || aws.ToString(ro.Messages[0].Body) != "hello" {
		t.Fatalf("receive: %v, %d messages", err, len(ro.Messages))
	}
	d := dynamodb.NewFromConfig(cfg)
	if _, err := d.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String("done-when"),
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: ddbtypes.KeyTypeHash}},
		BillingMode:          ddbtypes.BillingModePayPerRequest,
	}); err != nil {
		t.Fatalf("create table: %v", err)
	}
	if _, err := d.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("done-when"), Item: map[string]ddbtypes.AttributeValue{"id": &ddbtypes.AttributeValueMemberS{Value: "k"}}}); err != nil {
		t.Fatalf("put: %v", err)
	}
	g, err := d.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("done-when"), Key: map[string]ddbtypes.AttributeValue{"id": &ddbtypes.AttributeValueMemberS{Value: "k"}}, ConsistentRead: aws.Bool(true)})
	if err != nil || g.Item == nil {
		t.Fatalf("get: %v, item %v", err, g.Item)
	}
}
