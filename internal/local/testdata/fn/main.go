// Command fn is the test function of internal/local: it logs each SQS
// record's body and each scheduled event it receives as one JSON line, and
// fails an event that asks it to.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
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
			line, _ := json.Marshal(map[string]string{"got": r.Body, "env": os.Getenv("QUEUE_URL")})
			fmt.Println(string(line))
		}
		return resp, nil
	}
	line, _ := json.Marshal(map[string]json.RawMessage{"tick": raw})
	fmt.Println(string(line))
	return nil, nil
}

func main() { lambda.Start(handle) }
