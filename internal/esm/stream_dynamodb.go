package esm

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"

	"github.com/latchkit/latch/internal/ddbevent"
)

// DynamoDBStreamsClient is the part of the DynamoDB Streams API a stream
// mapping calls. *dynamodbstreams.Client satisfies it.
type DynamoDBStreamsClient interface {
	DescribeStream(ctx context.Context, in *dynamodbstreams.DescribeStreamInput, optFns ...func(*dynamodbstreams.Options)) (*dynamodbstreams.DescribeStreamOutput, error)
	GetShardIterator(ctx context.Context, in *dynamodbstreams.GetShardIteratorInput, optFns ...func(*dynamodbstreams.Options)) (*dynamodbstreams.GetShardIteratorOutput, error)
	GetRecords(ctx context.Context, in *dynamodbstreams.GetRecordsInput, optFns ...func(*dynamodbstreams.Options)) (*dynamodbstreams.GetRecordsOutput, error)
}

var _ DynamoDBStreamsClient = (*dynamodbstreams.Client)(nil)

// RunDynamoDBStream plays a DynamoDB Streams event source mapping until
// ctx is done, as RunKinesis does for Kinesis; batches are
// events.DynamoDBEvent.
func RunDynamoDBStream(ctx context.Context, client DynamoDBStreamsClient, cfg StreamConfig, fn StreamInvoke) error {
	a, err := arn.Parse(cfg.StreamARN)
	if err != nil || a.Service != "dynamodb" {
		return fmt.Errorf("esm: %q is not a DynamoDB stream ARN", cfg.StreamARN)
	}
	return runStream(ctx, dynamoDBSource{c: client, arn: cfg.StreamARN}, cfg, fn)
}

type dynamoDBSource struct {
	c   DynamoDBStreamsClient
	arn string
}

func (d dynamoDBSource) batchInfo() string { return "DDBStreamBatchInfo" }

func (d dynamoDBSource) shards(ctx context.Context) ([]shardInfo, error) {
	var (
		out  []shardInfo
		last *string
	)
	for {
		page, err := d.c.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: aws.String(d.arn), ExclusiveStartShardId: last})
		if err != nil {
			return out, err
		}
		for _, s := range page.StreamDescription.Shards {
			out = append(out, shardInfo{id: aws.ToString(s.ShardId), parent: aws.ToString(s.ParentShardId)})
		}
		if last = page.StreamDescription.LastEvaluatedShardId; last == nil {
			return out, nil
		}
	}
}

func (d dynamoDBSource) iterator(ctx context.Context, shard, position string) (string, error) {
	out, err := d.c.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{
		StreamArn: aws.String(d.arn), ShardId: aws.String(shard), ShardIteratorType: types.ShardIteratorType(position),
	})
	if err != nil {
		return "", err
	}
	return aws.ToString(out.ShardIterator), nil
}

func (d dynamoDBSource) read(ctx context.Context, _, it string, limit int) ([]streamRecord, string, error) {
	out, err := d.c.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: aws.String(it), Limit: aws.Int32(int32(limit))})
	if err != nil {
		return nil, it, err
	}
	recs := make([]streamRecord, 0, len(out.Records))
	for _, r := range out.Records {
		ev, err := dynamoDBEventRecord(d.arn, r)
		if err != nil {
			return nil, it, err
		}
		b, err := json.Marshal(ev)
		if err != nil {
			return nil, it, err
		}
		recs = append(recs, streamRecord{seq: ev.Change.SequenceNumber, arrived: ev.Change.ApproximateCreationDateTime.Time, json: b})
	}
	return recs, aws.ToString(out.NextShardIterator), nil
}

// dynamoDBEventRecord is a stream record as Lambda puts it in an event.
func dynamoDBEventRecord(streamARN string, r types.Record) (events.DynamoDBEventRecord, error) {
	ev := events.DynamoDBEventRecord{
		AWSRegion:      aws.ToString(r.AwsRegion),
		EventID:        aws.ToString(r.EventID),
		EventName:      string(r.EventName),
		EventSource:    aws.ToString(r.EventSource),
		EventVersion:   aws.ToString(r.EventVersion),
		EventSourceArn: streamARN,
	}
	if u := r.UserIdentity; u != nil {
		ev.UserIdentity = &events.DynamoDBUserIdentity{Type: aws.ToString(u.Type), PrincipalID: aws.ToString(u.PrincipalId)}
	}
	s := r.Dynamodb
	if s == nil {
		return ev, nil
	}
	ev.Change.SequenceNumber = aws.ToString(s.SequenceNumber)
	ev.Change.SizeBytes = aws.ToInt64(s.SizeBytes)
	ev.Change.StreamViewType = string(s.StreamViewType)
	if s.ApproximateCreationDateTime != nil {
		ev.Change.ApproximateCreationDateTime = events.SecondsEpochTime{Time: *s.ApproximateCreationDateTime}
	}
	var err error
	for _, img := range []struct {
		from map[string]types.AttributeValue
		to   *map[string]events.DynamoDBAttributeValue
	}{{s.Keys, &ev.Change.Keys}, {s.NewImage, &ev.Change.NewImage}, {s.OldImage, &ev.Change.OldImage}} {
		if img.from == nil {
			continue
		}
		item, cerr := attributevalue.FromDynamoDBStreamsMap(img.from)
		if cerr == nil {
			*img.to, cerr = ddbevent.FromSDK(item)
		}
		err = cerr
		if err != nil {
			return ev, err
		}
	}
	return ev, nil
}
