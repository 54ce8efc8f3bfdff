package idempotency

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

// DynamoDBClient is the part of *dynamodb.Client that DynamoDBStore uses.
type DynamoDBClient interface {
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, optFns ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
}

var _ DynamoDBClient = (*dynamodb.Client)(nil)

// DynamoDBConfig says where and how records are kept. Only Table is required;
// the defaults match the record schema in the design and the SAM template.
type DynamoDBConfig struct {
	// Table is the table name. Required. Enable TTL on Attributes.Expiration
	// so that DynamoDB deletes dead records.
	Table string

	// PartitionKey is the table's partition key attribute (type S). It holds
	// the stored id. Default "id".
	PartitionKey string

	// SortKey is the table's sort key attribute (type S), for single-table
	// designs. Default "": the table has no sort key.
	//
	// The stored id stays in the partition key and the sort key holds the
	// constant SortKeyValue. (Powertools does the reverse, one constant
	// partition for all records; keeping the id in the partition key spreads
	// records over partitions instead of making one hot.)
	SortKey string

	// SortKeyValue is the sort key value of every record when SortKey is set.
	// Default "idempotency".
	SortKeyValue string

	// Attributes names the record's other attributes. Each empty field takes
	// its default.
	Attributes AttributeNames
}

// AttributeNames names the attributes of a record. The zero value of each
// field stands for the default given in its comment.
type AttributeNames struct {
	// Status holds INPROGRESS or COMPLETED. Default "status".
	Status string
	// Expiration holds the record's expiry in epoch seconds; make it the
	// table's TTL attribute. Default "expiration".
	Expiration string
	// LockExpiration holds the lock's expiry in epoch milliseconds. Default
	// "in_progress_expiration".
	LockExpiration string
	// Owner holds the claim's fencing token. Default "owner".
	Owner string
	// Data holds the JSON result (type S). Default "data".
	Data string
	// Validation holds the payload hash. Default "validation".
	Validation string
}

// Default attribute names.
const (
	DefaultPartitionKey       = "id"
	DefaultSortKeyValue       = "idempotency"
	DefaultStatusAttr         = "status"
	DefaultExpirationAttr     = "expiration"
	DefaultLockExpirationAttr = "in_progress_expiration"
	DefaultOwnerAttr          = "owner"
	DefaultDataAttr           = "data"
	DefaultValidationAttr     = "validation"
)

var defaultAttributeNamesLen = len(DefaultPartitionKey + DefaultStatusAttr + DefaultExpirationAttr +
	DefaultLockExpirationAttr + DefaultOwnerAttr + DefaultDataAttr + DefaultValidationAttr)

// DynamoDBStore is a Store on a DynamoDB table: a claim is one conditional
// PutItem that returns the blocking record on conflict, a completion one
// conditional UpdateItem, a release one conditional DeleteItem.
type DynamoDBStore struct {
	client DynamoDBClient
	cfg    DynamoDBConfig
	// namesLen is the total length of the attribute names and the constant
	// sort key value, for the size limit.
	namesLen int

	claimCond   string
	claimNames  map[string]string
	completeSet string // update expression with data
	completeNil string // update expression without data
	updateNames map[string]string
	ownerCond   string
	ownerNames  map[string]string
}

var _ TxStore = (*DynamoDBStore)(nil)

// Construction errors of NewDynamoDBStore. Both are deployment mistakes no
// retry can fix: return them from the function's cold start.
var (
	// ErrNilClient means NewDynamoDBStore got a nil client.
	ErrNilClient = errors.New("idempotency: NewDynamoDBStore: nil client")
	// ErrNoTable means DynamoDBConfig.Table is empty.
	ErrNoTable = errors.New("idempotency: NewDynamoDBStore: DynamoDBConfig.Table is empty")
)

// NewDynamoDBStore returns a store on cfg.Table through client (usually a
// *dynamodb.Client). It fails with ErrNilClient or ErrNoTable, so that a
// function's cold start can report a bad deployment instead of sending every
// record to a retry loop.
func NewDynamoDBStore(client DynamoDBClient, cfg DynamoDBConfig) (*DynamoDBStore, error) {
	if client == nil {
		return nil, ErrNilClient
	}
	if cfg.Table == "" {
		return nil, ErrNoTable
	}
	def := func(s *string, d string) {
		if *s == "" {
			*s = d
		}
	}
	def(&cfg.PartitionKey, DefaultPartitionKey)
	if cfg.SortKey != "" {
		def(&cfg.SortKeyValue, DefaultSortKeyValue)
	} else {
		cfg.SortKeyValue = ""
	}
	a := &cfg.Attributes
	def(&a.Status, DefaultStatusAttr)
	def(&a.Expiration, DefaultExpirationAttr)
	def(&a.LockExpiration, DefaultLockExpirationAttr)
	def(&a.Owner, DefaultOwnerAttr)
	def(&a.Data, DefaultDataAttr)
	def(&a.Validation, DefaultValidationAttr)

	return &DynamoDBStore{
		client: client,
		cfg:    cfg,
		namesLen: len(cfg.PartitionKey) + len(cfg.SortKey) + len(cfg.SortKeyValue) +
			len(a.Status) + len(a.Expiration) + len(a.LockExpiration) + len(a.Owner) + len(a.Data) + len(a.Validation),

		// A claim wins over no record, a dead record, or a dead lock. The
		// times are the claimer's, so the condition and Record.Live agree.
		claimCond: "attribute_not_exists(#pk) OR #exp < :now OR (#status = :inprogress AND #lock < :now_ms)",
		claimNames: map[string]string{
			"#pk": cfg.PartitionKey, "#exp": a.Expiration, "#status": a.Status, "#lock": a.LockExpiration,
		},
		completeSet: "SET #status = :completed, #exp = :exp, #data = :data REMOVE #lock",
		completeNil: "SET #status = :completed, #exp = :exp REMOVE #lock, #data",
		updateNames: map[string]string{
			"#status": a.Status, "#exp": a.Expiration, "#data": a.Data, "#lock": a.LockExpiration, "#owner": a.Owner,
		},
		ownerCond:  "#owner = :owner",
		ownerNames: map[string]string{"#owner": a.Owner},
	}, nil
}

// MustNewDynamoDBStore is NewDynamoDBStore for package-level initialisation;
// it panics on a construction error.
func MustNewDynamoDBStore(client DynamoDBClient, cfg DynamoDBConfig) *DynamoDBStore {
	s, err := NewDynamoDBStore(client, cfg)
	if err != nil {
		panic(err)
	}
	return s
}

// Table returns the table name.
func (s *DynamoDBStore) Table() string { return s.cfg.Table }

func (s *DynamoDBStore) key(id string) map[string]types.AttributeValue {
	k := map[string]types.AttributeValue{s.cfg.PartitionKey: &types.AttributeValueMemberS{Value: id}}
	if s.cfg.SortKey != "" {
		k[s.cfg.SortKey] = &types.AttributeValueMemberS{Value: s.cfg.SortKeyValue}
	}
	return k
}

func num(n int64) *types.AttributeValueMemberN {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}

// claimValues are the values claimCond compares with, for a claimer whose
// clock reads now. Claim and a transaction's record Put both use them, so
// that the two win over the same records.
func claimValues(now time.Time) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		":now":        num(now.Unix()),
		":now_ms":     num(now.UnixMilli()),
		":inprogress": &types.AttributeValueMemberS{Value: string(StatusInProgress)},
	}
}

// Claim implements Store with one conditional PutItem. On conflict DynamoDB
// returns the old item with the ConditionalCheckFailedException
// (ReturnValuesOnConditionCheckFailure=ALL_OLD): no second read.
func (s *DynamoDBStore) Claim(ctx context.Context, c Claim) (*Record, error) {
	a := &s.cfg.Attributes
	item := s.key(c.KeyHash)
	item[a.Status] = &types.AttributeValueMemberS{Value: string(StatusInProgress)}
	item[a.Expiration] = num(c.Expiry.Unix())
	item[a.LockExpiration] = num(c.LockExpiry.UnixMilli())
	item[a.Owner] = &types.AttributeValueMemberS{Value: c.Owner}
	if c.Validation != "" {
		item[a.Validation] = &types.AttributeValueMemberS{Value: c.Validation}
	}
	_, err := s.client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                           aws.String(s.cfg.Table),
		Item:                                item,
		ConditionExpression:                 aws.String(s.claimCond),
		ExpressionAttributeNames:            s.claimNames,
		ExpressionAttributeValues:           claimValues(c.Now),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if err == nil {
		return nil, nil
	}
	var ccf *types.ConditionalCheckFailedException
	if !errors.As(err, &ccf) {
		return nil, &StoreError{Op: "claim", Err: err}
	}
	if len(ccf.Item) == 0 {
		// Only an emulator that ignores ReturnValuesOnConditionCheckFailure
		// gets here; DynamoDB always returns the item that failed the check.
		return nil, &StoreError{Op: "claim", Err: fmt.Errorf("conflict on %s but the table returned no item: %w", c.KeyHash, err)}
	}
	r, err := s.decode(ccf.Item)
	if err != nil {
		return nil, &StoreError{Op: "claim", Err: err}
	}
	return &r, nil
}

// Complete implements Store with one conditional UpdateItem.
func (s *DynamoDBStore) Complete(ctx context.Context, c Completion) error {
	values := map[string]types.AttributeValue{
		":completed": &types.AttributeValueMemberS{Value: string(StatusCompleted)},
		":exp":       num(c.Expiry.Unix()),
		":owner":     &types.AttributeValueMemberS{Value: c.Owner},
	}
	update := s.completeNil
	var tooLarge error
	if limit := s.dataLimit(c.KeyHash); len(c.Data) > limit {
		// Checked here rather than left to DynamoDB's ValidationException so
		// that the record is marked COMPLETED in this same round trip.
		tooLarge = &ResultTooLargeError{KeyHash: c.KeyHash, Size: len(c.Data), Limit: limit}
	} else if c.Data != nil {
		values[":data"] = &types.AttributeValueMemberS{Value: string(c.Data)}
		update = s.completeSet
	}
	_, err := s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(s.cfg.Table),
		Key:                       s.key(c.KeyHash),
		UpdateExpression:          aws.String(update),
		ConditionExpression:       aws.String(s.ownerCond),
		ExpressionAttributeNames:  s.updateNames,
		ExpressionAttributeValues: values,
	})
	if err != nil {
		var ccf *types.ConditionalCheckFailedException
		if errors.As(err, &ccf) {
			return ErrLockLost
		}
		return &StoreError{Op: "complete", Err: err}
	}
	return tooLarge
}

// Release implements Store with one conditional DeleteItem.
func (s *DynamoDBStore) Release(ctx context.Context, keyHash, owner string) error {
	_, err := s.client.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:                 aws.String(s.cfg.Table),
		Key:                       s.key(keyHash),
		ConditionExpression:       aws.String(s.ownerCond),
		ExpressionAttributeNames:  s.ownerNames,
		ExpressionAttributeValues: map[string]types.AttributeValue{":owner": &types.AttributeValueMemberS{Value: owner}},
	})
	if err != nil {
		var ccf *types.ConditionalCheckFailedException
		if errors.As(err, &ccf) {
			return ErrLockLost
		}
		return &StoreError{Op: "release", Err: err}
	}
	return nil
}

// Get reads the record stored under key (the stored id, as in
// Result.KeyHash) with a consistent read, expired or not: one GetItem, one
// read capacity unit for a record up to 4 KB. Transact calls it first when
// a duplicate is likely (see ExpectDuplicate); tests, tools and inspection
// may call it too.
func (s *DynamoDBStore) Get(ctx context.Context, key string) (Record, bool, error) {
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.cfg.Table),
		Key:            s.key(key),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return Record{}, false, &StoreError{Op: "get", Err: err}
	}
	if len(out.Item) == 0 {
		return Record{}, false, nil
	}
	r, err := s.decode(out.Item)
	if err != nil {
		return Record{}, false, &StoreError{Op: "get", Err: err}
	}
	return r, true, nil
}

// dataLimit is the largest data attribute a record under key can hold.
func (s *DynamoDBStore) dataLimit(key string) int {
	return maxDataSize(s.namesLen + len(key))
}

// decode reads a record item. Missing optional attributes stay zero; a
// missing or malformed required one is an error.
func (s *DynamoDBStore) decode(item map[string]types.AttributeValue) (Record, error) {
	a := &s.cfg.Attributes
	var r Record
	var err error
	str := func(name string, required bool) string {
		switch v := item[name].(type) {
		case *types.AttributeValueMemberS:
			return v.Value
		case nil:
			if required && err == nil {
				err = fmt.Errorf("record lacks attribute %q", name)
			}
		default:
			if err == nil {
				err = fmt.Errorf("record attribute %q is %T, want S", name, v)
			}
		}
		return ""
	}
	number := func(name string) int64 {
		switch v := item[name].(type) {
		case *types.AttributeValueMemberN:
			n, perr := strconv.ParseInt(v.Value, 10, 64)
			if perr != nil && err == nil {
				err = fmt.Errorf("record attribute %q: %w", name, perr)
			}
			return n
		case nil:
			return 0
		default:
			if err == nil {
				err = fmt.Errorf("record attribute %q is %T, want N", name, v)
			}
			return 0
		}
	}
	r.KeyHash = str(s.cfg.PartitionKey, true)
	r.Status = Status(str(a.Status, true))
	if _, ok := item[a.Expiration]; !ok && err == nil {
		err = fmt.Errorf("record lacks attribute %q", a.Expiration)
	}
	r.Expiry = time.Unix(number(a.Expiration), 0)
	if ms := number(a.LockExpiration); ms != 0 {
		r.LockExpiry = time.UnixMilli(ms)
	}
	r.Owner = str(a.Owner, false)
	r.Validation = str(a.Validation, false)
	if d := str(a.Data, false); d != "" {
		r.Data = []byte(d)
	}
	if err == nil && r.Status != StatusInProgress && r.Status != StatusCompleted {
		err = fmt.Errorf("record status %q is neither %s nor %s", r.Status, StatusInProgress, StatusCompleted)
	}
	return r, err
}
