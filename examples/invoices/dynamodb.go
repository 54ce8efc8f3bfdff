package invoices

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Ledger is the Charger and Reporter of this example: charges and reports
// are items of one table (partition key "id"), so that a test can see
// what happened.
type Ledger struct {
	DB    *dynamodb.Client
	Table string
	Now   func() time.Time // nil: time.Now
}

// Charge records the charge under the invoice's id, counting charges in
// "times": a second charge of one invoice shows as 2, which is how the
// tests see a duplicate.
func (l Ledger) Charge(ctx context.Context, inv Invoice) error {
	_, err := l.DB.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:        aws.String(l.Table),
		Key:              map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: "charge#" + inv.ID}},
		UpdateExpression: aws.String("SET customer = :c, cents = :n, charged_at = :t ADD times :one"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":c":   &types.AttributeValueMemberS{Value: inv.Customer},
			":n":   &types.AttributeValueMemberN{Value: strconv.FormatInt(inv.Cents, 10)},
			":t":   &types.AttributeValueMemberS{Value: l.now().UTC().Format(time.RFC3339)},
			":one": &types.AttributeValueMemberN{Value: "1"},
		},
	})
	if err != nil {
		return fmt.Errorf("charge %s: %w", inv.ID, err)
	}
	return nil
}

// Report writes the day's report item.
func (l Ledger) Report(ctx context.Context, day time.Time) error {
	_, err := l.DB.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(l.Table),
		Item: map[string]types.AttributeValue{
			"id": &types.AttributeValueMemberS{Value: "report#" + day.Format(time.DateOnly)},
			"at": &types.AttributeValueMemberS{Value: l.now().UTC().Format(time.RFC3339)},
		},
	})
	if err != nil {
		return fmt.Errorf("report %s: %w", day.Format(time.DateOnly), err)
	}
	return nil
}

func (l Ledger) now() time.Time {
	if l.Now != nil {
		return l.Now()
	}
	return time.Now()
}
