package emulator

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	ktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// DynamoDBStreams returns a DynamoDB Streams client on the environment's
// endpoint (AWS_ENDPOINT_URL_DYNAMODB_STREAMS, else the DynamoDB one,
// which is where DynamoDB Local serves streams).
func (e *Env) DynamoDBStreams() *dynamodbstreams.Client {
	return dynamodbstreams.NewFromConfig(e.Cfg, func(o *dynamodbstreams.Options) {
		if os.Getenv("AWS_ENDPOINT_URL_DYNAMODB_STREAMS") == "" && os.Getenv("AWS_ENDPOINT_URL") == "" {
			o.BaseEndpoint = aws.String(os.Getenv("AWS_ENDPOINT_URL_DYNAMODB"))
		}
	})
}

// streamBackends are the backends whose Kinesis and DynamoDB Streams the
// stream tests have been run on. LocalStack serves both through
// kinesis-mock, a separate download its host mode does not make here, and
// MiniStack's streams have not been checked yet: the tests skip there,
// saying so, rather than pass without testing or fail for the emulator.
var streamBackends = map[string]bool{"default": true, "": true}

// requireStreams skips the test on a backend whose streams are unchecked.
func requireStreams(t testing.TB) {
	t.Helper()
	if !streamBackends[Backend()] {
		t.Skipf("emulator: stream sources are checked on the default backend only, not on %s", Backend())
	}
}

// Kinesis returns a Kinesis client on the environment's endpoint, or
// skips the test (fails it under RequireVar) when the backend serves no
// Kinesis (no AWS_ENDPOINT_URL_KINESIS nor AWS_ENDPOINT_URL).
func (e *Env) Kinesis(t testing.TB) *kinesis.Client {
	t.Helper()
	requireStreams(t)
	u := os.Getenv("AWS_ENDPOINT_URL_KINESIS")
	if u == "" {
		u = os.Getenv("AWS_ENDPOINT_URL")
	}
	if u == "" {
		unavailable(t, "AWS_ENDPOINT_URL_KINESIS is not set: this backend serves no Kinesis")
		return nil
	}
	return kinesis.NewFromConfig(e.Cfg)
}

// KinesisStream creates a uniquely named stream of shards shards, waits
// until it is active, deletes it at cleanup, and returns its name and ARN.
func (e *Env) KinesisStream(t testing.TB, shards int) (name, arn string) {
	t.Helper()
	c := e.Kinesis(t)
	name = UniqueName(t, "stream")
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	if _, err := c.CreateStream(ctx, &kinesis.CreateStreamInput{
		StreamName: aws.String(name), ShardCount: aws.Int32(int32(shards)),
		StreamModeDetails: &ktypes.StreamModeDetails{StreamMode: ktypes.StreamModeProvisioned},
	}); err != nil {
		t.Fatalf("emulator: create stream %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := cleanupCtx()
		defer cancel()
		if _, err := c.DeleteStream(ctx, &kinesis.DeleteStreamInput{StreamName: aws.String(name)}); err != nil {
			t.Logf("emulator: delete stream %s: %v", name, err)
		}
	})
	w := kinesis.NewStreamExistsWaiter(c, func(o *kinesis.StreamExistsWaiterOptions) {
		o.MinDelay, o.MaxDelay = 50*time.Millisecond, 500*time.Millisecond
	})
	out, err := w.WaitForOutput(ctx, &kinesis.DescribeStreamInput{StreamName: aws.String(name)}, 20*time.Second)
	if err != nil {
		t.Fatalf("emulator: stream %s not active: %v", name, err)
	}
	return name, aws.ToString(out.StreamDescription.StreamARN)
}

// StreamTable creates a uniquely named table with partition key key (a
// string) and a NEW_AND_OLD_IMAGES stream, deletes it at cleanup, and
// returns its name and stream ARN.
func (e *Env) StreamTable(t testing.TB, key string) (name, streamARN string) {
	t.Helper()
	requireStreams(t)
	name = e.CreateTable(t, &dynamodb.CreateTableInput{
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String(key), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String(key), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
		StreamSpecification:  &types.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: types.StreamViewTypeNewAndOldImages},
	})
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	out, err := e.DynamoDB.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
	if err != nil || aws.ToString(out.Table.LatestStreamArn) == "" {
		t.Fatalf("emulator: table %s has no stream: %v", name, err)
	}
	return name, aws.ToString(out.Table.LatestStreamArn)
}
