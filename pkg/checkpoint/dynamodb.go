package checkpoint

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// DynamoDBClient is the part of *dynamodb.Client DynamoDBStore uses.
type DynamoDBClient interface {
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
}

var _ DynamoDBClient = (*dynamodb.Client)(nil)

// DynamoDBConfig says where checkpoints are kept. Only Table is required.
// The defaults let checkpoints share the idempotency table (partition key
// "id", type S): their ids carry a prefix of their own and they have no
// expiration attribute, so the table's TTL never deletes them.
type DynamoDBConfig struct {
	// Table is the table name. Required.
	Table string
	// PartitionKey is the table's partition key attribute (type S). The
	// table must have no sort key. Default "id".
	PartitionKey string
	// KeyPrefix is put before a checkpoint's name to make its id. Default
	// "checkpoint#".
	KeyPrefix string
	// Now is the clock leases are judged by. Default time.Now.
	Now func() time.Time
}

// Attribute names of a checkpoint item besides the partition key.
const (
	AttrCursor    = "cursor"
	AttrVersion   = "version"
	AttrWatermark = "watermark_ms"
	AttrUpdatedAt = "updated_at_ms"
	AttrOwner     = "owner"
	AttrLease     = "lease_expiration_ms"
)

// Defaults of DynamoDBConfig's zero fields.
const (
	DefaultPartitionKey = "id"
	DefaultKeyPrefix    = "checkpoint#"
)

// DynamoDBStore is a Store on a DynamoDB table: each operation is one
// conditional UpdateItem, fenced by the owner token like the idempotency
// records of pkg/idempotency.
type DynamoDBStore struct {
	client DynamoDBClient
	cfg    DynamoDBConfig
	names  map[string]string
}

var _ Store = (*DynamoDBStore)(nil)

// NewDynamoDBStore returns a store on cfg.Table through client. It fails,
// wrapping ErrConfig, when client is nil or Table is empty.
func NewDynamoDBStore(client DynamoDBClient, cfg DynamoDBConfig) (*DynamoDBStore, error) {
	if client == nil {
		return nil, fmt.Errorf("%w: NewDynamoDBStore: nil client", ErrConfig)
	}
	if cfg.Table == "" {
		return nil, fmt.Errorf("%w: NewDynamoDBStore: DynamoDBConfig.Table is empty", ErrConfig)
	}
	if cfg.PartitionKey == "" {
		cfg.PartitionKey = DefaultPartitionKey
	}
	if cfg.KeyPrefix == "" {
		cfg.KeyPrefix = DefaultKeyPrefix
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &DynamoDBStore{client: client, cfg: cfg, names: map[string]string{
		"#pk": cfg.PartitionKey, "#cursor": AttrCursor, "#ver": AttrVersion, "#wm": AttrWatermark,
		"#upd": AttrUpdatedAt, "#owner": AttrOwner, "#lease": AttrLease,
	}}, nil
}

// MustNewDynamoDBStore is NewDynamoDBStore that panics on a config error.
func MustNewDynamoDBStore(client DynamoDBClient, cfg DynamoDBConfig) *DynamoDBStore {
	s, err := NewDynamoDBStore(client, cfg)
	if err != nil {
		panic(err)
	}
	return s
}

func (s *DynamoDBStore) key(name string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{s.cfg.PartitionKey: &types.AttributeValueMemberS{Value: s.cfg.KeyPrefix + name}}
}

func num(n int64) *types.AttributeValueMemberN {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}

func str(v string) *types.AttributeValueMemberS { return &types.AttributeValueMemberS{Value: v} }

// names returns the expression attribute names an expression uses: DynamoDB
// refuses unused ones.
func (s *DynamoDBStore) namesFor(keys ...string) map[string]string {
	m := make(map[string]string, len(keys))
	for _, k := range keys {
		m[k] = s.names[k]
	}
	return m
}

// Acquire implements Store with one conditional UpdateItem that creates
// the item on first use; on conflict the holder comes back with the
// ConditionalCheckFailedException, with no second read.
func (s *DynamoDBStore) Acquire(ctx context.Context, name string, ttl time.Duration) (Lease, error) {
	now := s.cfg.Now()
	owner := newOwner()
	expiry := ms(now.Add(ttl))
	out, err := s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                aws.String(s.cfg.Table),
		Key:                      s.key(name),
		UpdateExpression:         aws.String("SET #owner = :owner, #lease = :lease, #ver = if_not_exists(#ver, :zero)"),
		ConditionExpression:      aws.String("attribute_not_exists(#pk) OR attribute_not_exists(#owner) OR #lease < :now"),
		ExpressionAttributeNames: s.namesFor("#pk", "#owner", "#lease", "#ver"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":owner": str(owner), ":lease": num(expiry.UnixMilli()), ":zero": num(0), ":now": num(now.UnixMilli()),
		},
		ReturnValues:                        types.ReturnValueAllNew,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if err != nil {
		var ccf *types.ConditionalCheckFailedException
		if !errors.As(err, &ccf) {
			return Lease{}, &StoreError{Op: "acquire", Err: err}
		}
		l, derr := s.decode(name, ccf.Item)
		if derr != nil {
			return Lease{}, &StoreError{Op: "acquire", Err: derr}
		}
		return Lease{}, &HeldError{Name: name, Owner: l.Owner, Expiry: l.Expiry}
	}
	l, err := s.decode(name, out.Attributes)
	if err != nil {
		return Lease{}, &StoreError{Op: "acquire", Err: err}
	}
	return l, nil
}

// Commit implements Store with one UpdateItem conditioned on the owner,
// the version read and a live lease.
func (s *DynamoDBStore) Commit(ctx context.Context, l Lease, next Position) (Lease, error) {
	now := ms(s.cfg.Now())
	update := "SET #cursor = :cursor, #ver = :next, #upd = :now"
	names := []string{"#cursor", "#ver", "#upd", "#owner", "#lease"}
	values := map[string]types.AttributeValue{
		":cursor": str(next.Cursor), ":next": num(l.Version + 1), ":now": num(now.UnixMilli()),
		":owner": str(l.Owner), ":ver": num(l.Version),
	}
	if !next.Watermark.IsZero() {
		update += ", #wm = :wm"
		names = append(names, "#wm")
		values[":wm"] = num(next.Watermark.UnixMilli())
	}
	out, err := s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(s.cfg.Table),
		Key:                       s.key(l.Name),
		UpdateExpression:          aws.String(update),
		ConditionExpression:       aws.String("#owner = :owner AND #ver = :ver AND #lease >= :now"),
		ExpressionAttributeNames:  s.namesFor(names...),
		ExpressionAttributeValues: values,
		ReturnValues:              types.ReturnValueAllNew,
	})
	if err != nil {
		var ccf *types.ConditionalCheckFailedException
		if errors.As(err, &ccf) {
			return Lease{}, ErrLeaseLost
		}
		return Lease{}, &StoreError{Op: "commit", Err: err}
	}
	nl, err := s.decode(l.Name, out.Attributes)
	if err != nil {
		return Lease{}, &StoreError{Op: "commit", Err: err}
	}
	return nl, nil
}

// Release implements Store with one UpdateItem conditioned on the owner.
func (s *DynamoDBStore) Release(ctx context.Context, l Lease) error {
	_, err := s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(s.cfg.Table),
		Key:                       s.key(l.Name),
		UpdateExpression:          aws.String("REMOVE #owner, #lease"),
		ConditionExpression:       aws.String("#owner = :owner"),
		ExpressionAttributeNames:  s.namesFor("#owner", "#lease"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":owner": str(l.Owner)},
	})
	if err != nil {
		var ccf *types.ConditionalCheckFailedException
		if errors.As(err, &ccf) {
			return ErrLeaseLost
		}
		return &StoreError{Op: "release", Err: err}
	}
	return nil
}

// Get implements Store with a consistent read.
func (s *DynamoDBStore) Get(ctx context.Context, name string) (Checkpoint, bool, error) {
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.cfg.Table), Key: s.key(name), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return Checkpoint{}, false, &StoreError{Op: "get", Err: err}
	}
	if len(out.Item) == 0 {
		return Checkpoint{}, false, nil
	}
	l, err := s.decode(name, out.Item)
	if err != nil {
		return Checkpoint{}, false, &StoreError{Op: "get", Err: err}
	}
	return l.Checkpoint, true, nil
}

// decode reads an item; absent attributes stay zero.
func (s *DynamoDBStore) decode(name string, item map[string]types.AttributeValue) (Lease, error) {
	if len(item) == 0 {
		return Lease{}, fmt.Errorf("checkpoint %s: the table returned no item", name)
	}
	var err error
	number := func(attr string) int64 {
		switch v := item[attr].(type) {
		case nil:
			return 0
		case *types.AttributeValueMemberN:
			n, perr := strconv.ParseInt(v.Value, 10, 64)
			if perr != nil && err == nil {
				err = fmt.Errorf("checkpoint %s: attribute %q: %w", name, attr, perr)
			}
			return n
		default:
			if err == nil {
				err = fmt.Errorf("checkpoint %s: attribute %q is %T, want N", name, attr, v)
			}
			return 0
		}
	}
	text := func(attr string) string {
		switch v := item[attr].(type) {
		case nil:
			return ""
		case *types.AttributeValueMemberS:
			return v.Value
		default:
			if err == nil {
				err = fmt.Errorf("checkpoint %s: attribute %q is %T, want S", name, attr, v)
			}
			return ""
		}
	}
	msTime := func(attr string) time.Time {
		if n := number(attr); n != 0 {
			return time.UnixMilli(n)
		}
		return time.Time{}
	}
	l := Lease{
		Checkpoint: Checkpoint{
			Name: name, Cursor: text(AttrCursor), Version: number(AttrVersion),
			Watermark: msTime(AttrWatermark), UpdatedAt: msTime(AttrUpdatedAt),
		},
		Owner:  text(AttrOwner),
		Expiry: msTime(AttrLease),
	}
	return l, err
}
