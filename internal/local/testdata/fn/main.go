// Command fn is the test function of internal/local: it logs each SQS
// record's body and each scheduled event it receives as one JSON line, and
// fails an event that asks it to. A record whose body is "die:PATH" kills
// the process (SIGKILL) the first time it is seen. A scheduled event's line
// carries the contents of $SETTINGS_FILE, a path relative to the task root.
// "meet:N" waits until N such records are in the process at once (possible
// only when it runs several invocations at once, as on Lambda Managed
// Instances), and "overrun:PATH" sleeps past the function's timeout the
// first time.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

func handle(ctx context.Context, raw json.RawMessage) (any, error) {
	var probe struct {
		Records []json.RawMessage `json:"Records"`
		Fail    bool              `json:"fail"`
	}
	if err := json.Unmarshal(raw, &probe); err != nil {
		return nil, err
	}
	if probe.Fail {
		return nil, errors.New("asked to fail")
	}
	if probe.Records != nil {
		var ev events.SQSEvent
		if err := json.Unmarshal(raw, &ev); err != nil {
			return nil, err
		}
		var resp events.SQSEventResponse
		for _, r := range ev.Records {
			if path, ok := strings.CutPrefix(r.Body, "die:"); ok {
				// Killed mid-batch, once: the first delivery creates the
				// marker file and dies; later ones find it and go on.
				if f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600); err == nil {
					f.Close()
					_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
				}
			}
			if n, ok := strings.CutPrefix(r.Body, "meet:"); ok {
				want, _ := strconv.Atoi(n)
				if err := meet(ctx, int32(want)); err != nil {
					return nil, err
				}
				fmt.Println(string(must(json.Marshal(map[string]int{"met_in": os.Getpid()}))))
				continue
			}
			if path, ok := strings.CutPrefix(r.Body, "overrun:"); ok {
				if f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600); err == nil {
					f.Close()
					deadline, _ := ctx.Deadline()
					time.Sleep(time.Until(deadline) + time.Second) // past the timeout, ignoring ctx
					fmt.Println(string(must(json.Marshal(map[string]int{"overrun_done": os.Getpid()}))))
					continue
				}
				fmt.Println(string(must(json.Marshal(map[string]int{"overrun_seen": os.Getpid()}))))
				continue
			}
			if r.Body == "ddb-missing" {
				// A 4xx answer from DynamoDB Local: the SDK's client, as
				// users build it, logs a false checksum warning for it.
				fmt.Println(string(must(json.Marshal(map[string]string{"ddb_error": ddbMissing(ctx)}))))
				continue
			}
			line, _ := json.Marshal(map[string]string{"got": r.Body, "env": os.Getenv("QUEUE_URL"), "group": r.Attributes["MessageGroupId"]})
			fmt.Println(string(line))
		}
		return resp, nil
	}
	// A relative path in the function's configuration is read from its
	// task root, the code directory.
	settings, err := os.ReadFile(os.Getenv("SETTINGS_FILE"))
	if err != nil {
		settings, _ = json.Marshal(err.Error())
	}
	line, _ := json.Marshal(map[string]json.RawMessage{"tick": raw, "settings": settings})
	fmt.Println(string(line))
	return nil, nil
}

// arrivals counts the meet records ever started; they meet in groups of N,
// each waiting until its group is complete, so a group's members were all
// in the process at once.
var arrivals atomic.Int32

func meet(ctx context.Context, n int32) error {
	group := (arrivals.Add(1) - 1) / n
	for arrivals.Load() < (group+1)*n {
		select {
		case <-ctx.Done():
			return fmt.Errorf("met %d invocations at once, want %d", arrivals.Load()-group*n, n)
		case <-time.After(time.Millisecond):
		}
	}
	return nil
}

// ddbMissing reads from a table that does not exist and returns the error.
func ddbMissing(ctx context.Context) string {
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return err.Error()
	}
	_, err = dynamodb.NewFromConfig(cfg).GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String("no-such-table"),
		Key:       map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: "x"}},
	})
	if err == nil {
		return "no error"
	}
	return err.Error()
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

func main() { lambda.Start(handle) }
