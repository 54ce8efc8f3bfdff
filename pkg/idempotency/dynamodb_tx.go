package idempotency

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Cancellation reason codes of TransactWriteItems that CommitTx tells apart.
const (
	reasonConditionFailed = "ConditionalCheckFailed"
	reasonConflict        = "TransactionConflict"
)

// CommitTx implements TxStore with one TransactWriteItems call: the record,
// first, is a Put under the claim's condition that asks for the old item on
// failure (ReturnValuesOnConditionCheckFailure=ALL_OLD), so a duplicate
// reads the stored record from the cancellation reasons of its own call.
func (s *DynamoDBStore) CommitTx(ctx context.Context, c TxCommit) (*Record, error) {
	items := make([]types.TransactWriteItem, 0, len(c.Writes)+1)
	first := 0 // index of c.Writes[0] in items
	if c.KeyHash != "" {
		if limit := s.dataLimit(c.KeyHash); len(c.Data) > limit {
			return nil, tooLargeForRecord(len(c.Data), limit)
		}
		if i := s.onRecord(c.KeyHash, c.Writes); i >= 0 {
			return nil, &InvalidTransactionError{Index: i, Reason: "operates on the idempotency record's own item"}
		}
		items = append(items, types.TransactWriteItem{Put: s.recordPut(c)})
		first = 1
	}
	items = append(items, c.Writes...)
	if len(items) == 0 {
		return nil, nil
	}
	in := &dynamodb.TransactWriteItemsInput{TransactItems: items}
	if c.Token != "" {
		in.ClientRequestToken = aws.String(c.Token)
	}
	_, err := s.client.TransactWriteItems(ctx, in)
	if err == nil {
		return nil, nil
	}
	var tce *types.TransactionCanceledException
	if !errors.As(err, &tce) {
		return nil, &StoreError{Op: "commit_tx", Err: err}
	}
	code := func(i int) string {
		if i < len(tce.CancellationReasons) {
			return aws.ToString(tce.CancellationReasons[i].Code)
		}
		return ""
	}
	if first == 1 && code(0) == reasonConditionFailed {
		item := tce.CancellationReasons[0].Item
		if len(item) == 0 {
			// As in Claim: only an emulator that ignores ALL_OLD gets here.
			return nil, &StoreError{Op: "commit_tx", Err: fmt.Errorf("record %s is held but the table returned no item: %w", c.KeyHash, err)}
		}
		r, derr := s.decode(item)
		if derr != nil {
			return nil, &StoreError{Op: "commit_tx", Err: derr}
		}
		return &r, nil
	}
	for i := range c.Writes {
		if code(first+i) == reasonConditionFailed {
			return nil, &ConditionFailedError{Index: i, Item: tce.CancellationReasons[first+i].Item, Err: err}
		}
	}
	for i := range items {
		if code(i) == reasonConflict {
			return nil, &StoreError{Op: "commit_tx", Err: fmt.Errorf("%w: %w", ErrTransactionConflict, err)}
		}
	}
	return nil, &StoreError{Op: "commit_tx", Err: err}
}

// recordPut is the record of c as a conditional Put.
func (s *DynamoDBStore) recordPut(c TxCommit) *types.Put {
	a := &s.cfg.Attributes
	item := s.key(c.KeyHash)
	item[a.Status] = &types.AttributeValueMemberS{Value: string(StatusCompleted)}
	item[a.Expiration] = num(c.Expiry.Unix())
	item[a.Owner] = &types.AttributeValueMemberS{Value: c.Owner}
	if c.Validation != "" {
		item[a.Validation] = &types.AttributeValueMemberS{Value: c.Validation}
	}
	if c.Data != nil {
		item[a.Data] = &types.AttributeValueMemberS{Value: string(c.Data)}
	}
	return &types.Put{
		TableName:                           aws.String(s.cfg.Table),
		Item:                                item,
		ConditionExpression:                 aws.String(s.claimCond),
		ExpressionAttributeNames:            s.claimNames,
		ExpressionAttributeValues:           claimValues(c.Now),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}
}

// onRecord returns the index of the first write that operates on the record
// of key, or -1.
func (s *DynamoDBStore) onRecord(key string, writes []types.TransactWriteItem) int {
	rk := s.key(key)
	for i, w := range writes {
		table, k, _ := operation(w)
		if table != s.cfg.Table {
			continue
		}
		if w.Put != nil {
			k = w.Put.Item
		}
		if holds(k, rk) {
			return i
		}
	}
	return -1
}
