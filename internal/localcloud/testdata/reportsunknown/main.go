// Command reportsunknown is the function of TestGapESMUnknownItemIdentifier:
// it answers every SQS batch with a partial batch response naming an item
// that is not in the batch, which AWS reads as the whole batch failed.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	lambda.StartHandlerFunc(func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
		return events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{{ItemIdentifier: "not-in-this-batch"}}}, nil
	})
}
