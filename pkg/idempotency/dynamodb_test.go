package idempotency_test

import (
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/latchkit/latch/pkg/idempotency"
)

// NewDynamoDBStore refuses a configuration no retry can fix with an error
// the cold start can return; MustNewDynamoDBStore panics with the same one.
// (Its behaviour on a table is tested against DynamoDB Local.)
func TestNewDynamoDBStore(t *testing.T) {
	t.Parallel()
	client := dynamodb.NewFromConfig(aws.Config{Region: "us-east-1"})
	tests := []struct {
		name   string
		client idempotency.DynamoDBClient
		cfg    idempotency.DynamoDBConfig
		want   error
	}{
		{name: "nil client", cfg: idempotency.DynamoDBConfig{Table: "t"}, want: idempotency.ErrConfig},
		{name: "no table", client: client, want: idempotency.ErrConfig},
		{name: "valid", client: client, cfg: idempotency.DynamoDBConfig{Table: "t"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, err := idempotency.NewDynamoDBStore(tt.client, tt.cfg)
			if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Fatalf("NewDynamoDBStore error %v, want %v", err, tt.want)
			}
			if tt.want == nil && s.Table() != tt.cfg.Table {
				t.Errorf("Table() = %q, want %q", s.Table(), tt.cfg.Table)
			}
			defer func() {
				p := recover()
				if perr, _ := p.(error); !errors.Is(perr, tt.want) || (tt.want == nil && p != nil) {
					t.Errorf("MustNewDynamoDBStore panicked with %v, want %v", p, tt.want)
				}
			}()
			idempotency.MustNewDynamoDBStore(tt.client, tt.cfg)
		})
	}
}
