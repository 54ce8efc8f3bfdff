package emulator

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// TableSpec describes a test table. The zero value is the idempotency
// table's shape: partition key "id" (string), TTL on "expiration".
type TableSpec struct {
	PartitionKey string // default "id"
	SortKey      string // default none
	TTLAttribute string // default "expiration"; "-" for no TTL
}

// Table creates a uniquely named table of the default shape.
func (e *Env) Table(t testing.TB) string {
	t.Helper()
	return e.TableWith(t, TableSpec{})
}

// TableWith creates a uniquely named on-demand table and deletes it at
// cleanup. Keys are strings.
func (e *Env) TableWith(t testing.TB, spec TableSpec) string {
	t.Helper()
	if spec.PartitionKey == "" {
		spec.PartitionKey = "id"
	}
	if spec.TTLAttribute == "" {
		spec.TTLAttribute = "expiration"
	}
	attrs := []types.AttributeDefinition{{AttributeName: aws.String(spec.PartitionKey), AttributeType: types.ScalarAttributeTypeS}}
	keys := []types.KeySchemaElement{{AttributeName: aws.String(spec.PartitionKey), KeyType: types.KeyTypeHash}}
	if spec.SortKey != "" {
		attrs = append(attrs, types.AttributeDefinition{AttributeName: aws.String(spec.SortKey), AttributeType: types.ScalarAttributeTypeS})
		keys = append(keys, types.KeySchemaElement{AttributeName: aws.String(spec.SortKey), KeyType: types.KeyTypeRange})
	}
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	name := e.CreateTable(t, &dynamodb.CreateTableInput{
		AttributeDefinitions: attrs,
		KeySchema:            keys,
		BillingMode:          types.BillingModePayPerRequest,
	})
	if spec.TTLAttribute != "-" {
		if _, err := e.DynamoDB.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
			TableName:               aws.String(name),
			TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: aws.String(spec.TTLAttribute), Enabled: aws.Bool(true)},
		}); err != nil {
			t.Fatalf("emulator: enable TTL on %s: %v", name, err)
		}
	}
	return name
}

// CreateTable creates the table in describes under a unique name (in's
// TableName is replaced), waits until it is active, deletes it at cleanup,
// and returns its name: for the shapes TableSpec does not cover, such as
// number keys and secondary indexes.
func (e *Env) CreateTable(t testing.TB, in *dynamodb.CreateTableInput) string {
	t.Helper()
	name := UniqueName(t, "tbl")
	in.TableName = aws.String(name)
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	if _, err := e.DynamoDB.CreateTable(ctx, in); err != nil {
		t.Fatalf("emulator: create table %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := cleanupCtx()
		defer cancel()
		if _, err := e.DynamoDB.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(name)}); err != nil {
			t.Logf("emulator: delete table %s: %v", name, err)
		}
	})
	if err := dynamodb.NewTableExistsWaiter(e.DynamoDB).Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)}, 20*time.Second,
		func(o *dynamodb.TableExistsWaiterOptions) {
			o.MinDelay = 50 * time.Millisecond
			o.MaxDelay = 500 * time.Millisecond
		}); err != nil {
		t.Fatalf("emulator: table %s not active: %v", name, err)
	}
	return name
}

// Items returns every item of the table, read consistently, all pages: what
// a test asserts on after the code under test has written.
func (e *Env) Items(t testing.TB, table string) []map[string]types.AttributeValue {
	t.Helper()
	var items []map[string]types.AttributeValue
	p := dynamodb.NewScanPaginator(e.DynamoDB, &dynamodb.ScanInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true)})
	for p.HasMorePages() {
		out, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatalf("emulator: scan %s: %v", table, err)
		}
		items = append(items, out.Items...)
	}
	return items
}

// Scalar returns the text of a string or number attribute, and false for
// any other type or a missing attribute.
func Scalar(v types.AttributeValue) (string, bool) {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return v.Value, true
	case *types.AttributeValueMemberN:
		return v.Value, true
	}
	return "", false
}
