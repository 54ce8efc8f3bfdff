// Command fn is the test function of internal/local: it logs each SQS
// record's body and each scheduled event it receives as one JSON line, and
// fails an event that asks it to. A record whose body is "die:PATH" kills
// the process (SIGKILL) the first time it is seen. A scheduled event's line
// carries the contents of $SETTINGS_FILE, a path relative to the task root.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"

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
