package feedpoller

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/latchkit/latch/pkg/checkpoint"
	"github.com/latchkit/latch/pkg/handler"
	"github.com/latchkit/latch/pkg/idempotency"
	"github.com/latchkit/latch/pkg/retry"
)

// CheckpointName is the feed's checkpoint.
const CheckpointName = "feed-poller"

// Attribute names of a feed table item (partition key "id").
const (
	AttrID               = "id"
	AttrProcessed        = "processed"
	AttrFirstProcessedAt = "firstProcessedAt"
)

// DynamoDBAPI is the part of the DynamoDB API the effect calls.
type DynamoDBAPI interface {
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
}

// Config wires a poller.
type Config struct {
	// Source is the feed. Required.
	Source handler.Source[Item]
	// Checkpoints keeps the cursor. Required.
	Checkpoints checkpoint.Store
	// Guard runs each item once. Required.
	Guard *idempotency.Guard
	// DynamoDB and FeedTable are where an item's effect is counted.
	// Required.
	DynamoDB  DynamoDBAPI
	FeedTable string
	// CrashInjection makes the process exit on an item whose Crash is set
	// (the local demo). Default off.
	CrashInjection bool
	// Crash is what a crash does. Default os.Exit(3): the process dies with
	// the item claimed and its page uncommitted. Tests return an error
	// instead, which ends the tick the same way.
	Crash func() error
	// Observer and its logger see every item and the poll's outcome.
	Observer handler.Observer
	// Now is the clock of the effect's timestamp. Default time.Now.
	Now func() time.Time
}

// NewPoller returns the feed's poller.
func NewPoller(cfg Config) (*handler.Poller[Item], error) {
	switch {
	case cfg.Source == nil, cfg.Checkpoints == nil, cfg.Guard == nil, cfg.DynamoDB == nil, cfg.FeedTable == "":
		return nil, errors.New("feedpoller: Config needs Source, Checkpoints, Guard, DynamoDB and FeedTable")
	}
	if cfg.Crash == nil {
		cfg.Crash = func() error { os.Exit(3); return nil }
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return handler.NewPoller(cfg.Source, handler.PollConfig[Item]{
		Checkpoints: cfg.Checkpoints,
		Name:        CheckpointName,
		Idempotency: cfg.Guard,
		Key:         Key,
		Handle:      func(ctx context.Context, it Item) error { return handle(ctx, cfg, it) },
		Observer:    cfg.Observer,
		Now:         cfg.Now,
	})
}

// Key is an item's idempotency key: its id in the feed.
func Key(it Item) (idempotency.Key, error) { return idempotency.Key{ID: it.ID}, nil }

// handle is the item's effect: a counter in the feed table. The counter is
// deliberately not idempotent on its own (ADD), so the demo's check that
// every item's counter is 1 tests the guard, the checkpoint and the lease
// rather than the write.
func handle(ctx context.Context, cfg Config, it Item) error {
	if it.ID == "" {
		return retry.Permanent(errors.New("feed item without an id"))
	}
	if it.Crash && cfg.CrashInjection {
		if err := cfg.Crash(); err != nil {
			return err
		}
	}
	_, err := cfg.DynamoDB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:        aws.String(cfg.FeedTable),
		Key:              map[string]ddbtypes.AttributeValue{AttrID: &ddbtypes.AttributeValueMemberS{Value: it.ID}},
		UpdateExpression: aws.String("ADD #p :one SET #f = if_not_exists(#f, :now)"),
		ExpressionAttributeNames: map[string]string{
			"#p": AttrProcessed, "#f": AttrFirstProcessedAt,
		},
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{
			":one": &ddbtypes.AttributeValueMemberN{Value: "1"},
			":now": &ddbtypes.AttributeValueMemberN{Value: strconv.FormatInt(cfg.Now().UnixMilli(), 10)},
		},
	})
	if err != nil {
		return fmt.Errorf("feedpoller: count item %s: %w", it.ID, err)
	}
	return nil
}
