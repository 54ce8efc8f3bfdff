package latchtest

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"

	"github.com/latchkit/latch/internal/ddbevent"
)

// DefaultShardID is the shard of a Kinesis record built without one.
const DefaultShardID = "shardId-000000000000"

// KinesisStreamARN returns the ARN of the named Kinesis stream, the
// eventSourceARN of records built for it.
func KinesisStreamARN(name string) string {
	return "arn:aws:kinesis:" + Region + ":" + Account + ":stream/" + name
}

// TableStreamARN returns the ARN of the named table's stream, the
// eventSourceARN of DynamoDB Streams records built for it. The label is
// fixed so that events are the same on every run.
func TableStreamARN(table string) string {
	return "arn:aws:dynamodb:" + Region + ":" + Account + ":table/" + table + "/stream/2026-01-01T00:00:00.000"
}

// SequenceNumber returns the n-th sequence number the builders give a
// record (from 1): 56 digits like Kinesis's and DynamoDB's, and rising
// with n as a shard's do.
func SequenceNumber(n int) string { return fmt.Sprintf("4959%052d", n) }

// Put describes one Kinesis record to build. Every field has a default, so
// Put{Data: "..."} is a valid record.
type Put struct {
	// Data is the record's data (what the producer put), JSON for most
	// handlers (see JSON).
	Data string
	// PartitionKey is the producer's partition key. Default "pk-1".
	PartitionKey string
	// SequenceNumber defaults to SequenceNumber(n), n the record's position
	// in the event from 1.
	SequenceNumber string
	// Shard is the shard id. Default DefaultShardID: a Lambda batch comes
	// from one shard.
	Shard string
	// ArrivedAt is the approximate arrival time. Default
	// 2026-01-01T00:00:00Z, so that events are the same on every run.
	ArrivedAt time.Time
}

// KinesisEvent returns the event Lambda would deliver for puts read
// together from a shard of the named stream: each record with its event
// id ("<shard>:<sequence number>"), source, ARN and region, as the stream
// processors check.
func KinesisEvent(stream string, puts ...Put) events.KinesisEvent {
	ev := events.KinesisEvent{Records: make([]events.KinesisEventRecord, 0, len(puts))}
	for i, p := range puts {
		if p.SequenceNumber == "" {
			p.SequenceNumber = SequenceNumber(i + 1)
		}
		ev.Records = append(ev.Records, KinesisRecord(stream, p))
	}
	return ev
}

// KinesisRecord returns one record of the named stream, as KinesisEvent
// builds it. A put without a sequence number gets SequenceNumber(1).
func KinesisRecord(stream string, p Put) events.KinesisEventRecord {
	if p.SequenceNumber == "" {
		p.SequenceNumber = SequenceNumber(1)
	}
	if p.PartitionKey == "" {
		p.PartitionKey = "pk-1"
	}
	if p.Shard == "" {
		p.Shard = DefaultShardID
	}
	if p.ArrivedAt.IsZero() {
		p.ArrivedAt = defaultSentAt
	}
	return events.KinesisEventRecord{
		AwsRegion:      Region,
		EventID:        p.Shard + ":" + p.SequenceNumber,
		EventName:      "aws:kinesis:record",
		EventSource:    "aws:kinesis",
		EventSourceArn: KinesisStreamARN(stream),
		EventVersion:   "1.0",
		Kinesis: events.KinesisRecord{
			ApproximateArrivalTimestamp: events.SecondsEpochTime{Time: p.ArrivedAt},
			Data:                        []byte(p.Data),
			PartitionKey:                p.PartitionKey,
			SequenceNumber:              p.SequenceNumber,
			KinesisSchemaVersion:        "1.0",
		},
	}
}

// ItemChange describes one DynamoDB Streams record to build. New and Old
// are Go values marshalled with the attributevalue package (struct tags
// `dynamodbav`), as the table would hold them.
type ItemChange struct {
	// Keys is the item's key, marshalled like New. Required for anything
	// that partitions by item (StreamConfig.Concurrency).
	Keys any
	// New is the item after the change; nil on a REMOVE.
	New any
	// Old is the item before the change; nil on an INSERT.
	Old any
	// Name is the event name. Default INSERT with only New, MODIFY with
	// both, REMOVE with only Old.
	Name string
	// ID is the event id. Default "e-<n>", n the record's position from 1.
	ID string
	// SequenceNumber defaults to SequenceNumber(n).
	SequenceNumber string
	// CreatedAt is the approximate creation time. Default
	// 2026-01-01T00:00:00Z.
	CreatedAt time.Time
}

// DynamoDBEvent returns the event Lambda would deliver for changes read
// together from a shard of the named table's stream (view type
// NEW_AND_OLD_IMAGES). It panics on a value the attributevalue package
// cannot marshal: a test's own bug, and this way a builder call stays one
// expression.
func DynamoDBEvent(table string, changes ...ItemChange) events.DynamoDBEvent {
	ev := events.DynamoDBEvent{Records: make([]events.DynamoDBEventRecord, 0, len(changes))}
	for i, c := range changes {
		if c.ID == "" {
			c.ID = "e-" + strconv.Itoa(i+1)
		}
		if c.SequenceNumber == "" {
			c.SequenceNumber = SequenceNumber(i + 1)
		}
		ev.Records = append(ev.Records, DynamoDBRecord(table, c))
	}
	return ev
}

// DynamoDBRecord returns one record of the named table's stream, as
// DynamoDBEvent builds it. A change without an id or sequence number gets
// "e-1" and SequenceNumber(1).
func DynamoDBRecord(table string, c ItemChange) events.DynamoDBEventRecord {
	if c.ID == "" {
		c.ID = "e-1"
	}
	if c.SequenceNumber == "" {
		c.SequenceNumber = SequenceNumber(1)
	}
	if c.CreatedAt.IsZero() {
		c.CreatedAt = defaultSentAt
	}
	if c.Name == "" {
		switch {
		case c.New != nil && c.Old != nil:
			c.Name = "MODIFY"
		case c.Old != nil:
			c.Name = "REMOVE"
		default:
			c.Name = "INSERT"
		}
	}
	keys, newImg, oldImg := image(c.Keys), image(c.New), image(c.Old)
	size := int64(0)
	for _, img := range []map[string]events.DynamoDBAttributeValue{keys, newImg, oldImg} {
		if b, err := json.Marshal(img); err == nil && img != nil {
			size += int64(len(b))
		}
	}
	return events.DynamoDBEventRecord{
		AWSRegion:      Region,
		EventID:        c.ID,
		EventName:      c.Name,
		EventSource:    "aws:dynamodb",
		EventVersion:   "1.1",
		EventSourceArn: TableStreamARN(table),
		Change: events.DynamoDBStreamRecord{
			ApproximateCreationDateTime: events.SecondsEpochTime{Time: c.CreatedAt},
			Keys:                        keys,
			NewImage:                    newImg,
			OldImage:                    oldImg,
			SequenceNumber:              c.SequenceNumber,
			SizeBytes:                   size,
			StreamViewType:              "NEW_AND_OLD_IMAGES",
		},
	}
}

// image marshals v as a stream image; nil stays nil.
func image(v any) map[string]events.DynamoDBAttributeValue {
	if v == nil {
		return nil
	}
	item, err := attributevalue.MarshalMap(v)
	if err == nil {
		var img map[string]events.DynamoDBAttributeValue
		if img, err = ddbevent.FromSDK(item); err == nil {
			return img
		}
	}
	panic(fmt.Sprintf("latchtest: marshal %T as a DynamoDB item: %v", v, err))
}
