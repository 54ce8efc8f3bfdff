package customertotals_test

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/latchkit/latch/functions/customer-totals/customertotals"
	"github.com/latchkit/latch/pkg/handler"
	"github.com/latchkit/latch/pkg/retry"
)

func TestCount(t *testing.T) {
	t.Parallel()
	tot, err := customertotals.New("totals", 0)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	o := &customertotals.Order{OrderID: "o-1", CustomerID: "c-1", AmountCents: 250}
	tx, err := tot.Count(ctx, handler.Change[customertotals.Order]{Name: handler.ChangeInsert, New: o})
	if err != nil || tx.Value != 250 || len(tx.Writes) != 1 || aws.ToString(tx.Writes[0].Update.TableName) != "totals" {
		t.Errorf("insert: %+v, %v", tx, err)
	}
	tx, err = tot.Count(ctx, handler.Change[customertotals.Order]{Name: handler.ChangeModify, New: o, Old: o})
	if err != nil || len(tx.Writes) != 0 {
		t.Errorf("modify counts nothing: %+v, %v", tx, err)
	}
	_, err = tot.Count(ctx, handler.Change[customertotals.Order]{Name: handler.ChangeInsert, New: &customertotals.Order{OrderID: "o-2"}})
	if !errors.Is(err, customertotals.ErrInvalidOrder) || retry.Classify(err) != retry.ClassPermanent {
		t.Errorf("order without customer: %v, want a permanent ErrInvalidOrder", err)
	}
}

func TestFailEvery(t *testing.T) {
	t.Parallel()
	tot, err := customertotals.New("totals", 2)
	if err != nil {
		t.Fatal(err)
	}
	var fails []int
	for i := 1; i <= 4; i++ {
		_, err := tot.Count(context.Background(), handler.Change[customertotals.Order]{
			Name: handler.ChangeInsert, New: &customertotals.Order{OrderID: "o", CustomerID: "c", AmountCents: 1},
		})
		if errors.Is(err, customertotals.ErrInjected) && retry.Classify(err) != retry.ClassPermanent {
			fails = append(fails, i)
		}
	}
	if len(fails) != 2 || fails[0] != 2 || fails[1] != 4 {
		t.Errorf("injected failures at %v, want 2 and 4", fails)
	}
	if _, err := customertotals.New("", 0); err == nil {
		t.Error("New without a table succeeded")
	}
}
