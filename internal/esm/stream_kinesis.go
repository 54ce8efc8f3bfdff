package esm

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// KinesisClient is the part of the Kinesis API a stream mapping calls.
// *kinesis.Client satisfies it.
type KinesisClient interface {
	ListShards(ctx context.Context, in *kinesis.ListShardsInput, optFns ...func(*kinesis.Options)) (*kinesis.ListShardsOutput, error)
	GetShardIterator(ctx context.Context, in *kinesis.GetShardIteratorInput, optFns ...func(*kinesis.Options)) (*kinesis.GetShardIteratorOutput, error)
	GetRecords(ctx context.Context, in *kinesis.GetRecordsInput, optFns ...func(*kinesis.Options)) (*kinesis.GetRecordsOutput, error)
}

var _ KinesisClient = (*kinesis.Client)(nil)

// RunKinesis plays a Kinesis event source mapping until ctx is done, then
// returns nil: each shard read in order, batches of up to BatchSize
// records invoked as events.KinesisEvent, and the settings of cfg applied
// as Lambda applies them. Only an unusable cfg stops it early.
func RunKinesis(ctx context.Context, client KinesisClient, cfg StreamConfig, fn StreamInvoke) error {
	a, err := arn.Parse(cfg.StreamARN)
	if err != nil || a.Service != "kinesis" || !strings.HasPrefix(a.Resource, "stream/") {
		return fmt.Errorf("esm: %q is not a Kinesis stream ARN", cfg.StreamARN)
	}
	return runStream(ctx, kinesisSource{c: client, arn: a, name: strings.TrimPrefix(a.Resource, "stream/")}, cfg, fn)
}

type kinesisSource struct {
	c    KinesisClient
	arn  arn.ARN
	name string
}

func (k kinesisSource) batchInfo() string { return "KinesisBatchInfo" }

func (k kinesisSource) shards(ctx context.Context) ([]shardInfo, error) {
	var (
		out  []shardInfo
		next *string
	)
	for {
		in := &kinesis.ListShardsInput{NextToken: next}
		if next == nil {
			in.StreamName = aws.String(k.name)
		}
		page, err := k.c.ListShards(ctx, in)
		if err != nil {
			return out, err
		}
		for _, s := range page.Shards {
			out = append(out, shardInfo{id: aws.ToString(s.ShardId), parent: aws.ToString(s.ParentShardId)})
		}
		if next = page.NextToken; next == nil {
			return out, nil
		}
	}
}

func (k kinesisSource) iterator(ctx context.Context, shard, position string) (string, error) {
	out, err := k.c.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{
		StreamName: aws.String(k.name), ShardId: aws.String(shard), ShardIteratorType: types.ShardIteratorType(position),
	})
	if err != nil {
		return "", err
	}
	return aws.ToString(out.ShardIterator), nil
}

func (k kinesisSource) read(ctx context.Context, shard, it string, limit int) ([]streamRecord, string, error) {
	out, err := k.c.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: aws.String(it), Limit: aws.Int32(int32(limit))})
	if err != nil {
		return nil, it, err
	}
	recs := make([]streamRecord, 0, len(out.Records))
	for _, r := range out.Records {
		seq := aws.ToString(r.SequenceNumber)
		ev := events.KinesisEventRecord{
			AwsRegion:      k.arn.Region,
			EventID:        shard + ":" + seq,
			EventName:      "aws:kinesis:record",
			EventSource:    "aws:kinesis",
			EventSourceArn: k.arn.String(),
			EventVersion:   "1.0",
			Kinesis: events.KinesisRecord{
				Data:                 r.Data,
				PartitionKey:         aws.ToString(r.PartitionKey),
				SequenceNumber:       seq,
				KinesisSchemaVersion: "1.0",
				EncryptionType:       string(r.EncryptionType),
			},
		}
		if r.ApproximateArrivalTimestamp != nil {
			ev.Kinesis.ApproximateArrivalTimestamp = events.SecondsEpochTime{Time: *r.ApproximateArrivalTimestamp}
		}
		b, err := json.Marshal(ev)
		if err != nil {
			return nil, it, err
		}
		recs = append(recs, streamRecord{seq: seq, arrived: ev.Kinesis.ApproximateArrivalTimestamp.Time, json: b})
	}
	return recs, aws.ToString(out.NextShardIterator), nil
}
