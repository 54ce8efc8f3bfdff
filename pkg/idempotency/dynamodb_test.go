package idempotency_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/latchkit/latch/pkg/idempotency"
)

// NewDynamoDBStore refuses a configuration no retry can fix, at cold start.
// (Its behaviour on a table is tested against DynamoDB Local.)
func TestNewDynamoDBStorePanics(t *testing.T) {
	t.Parallel()
	client := dynamodb.NewFromConfig(aws.Config{Region: "us-east-1"})
	tests := []struct {
		name   string
		client idempotency.DynamoDBClient
		cfg    idempotency.DynamoDBConfig
		want   string
	}{
		{name: "nil client", cfg: idempotency.DynamoDBConfig{Table: "t"}, want: "nil client"},
		{name: "no table", client: client, want: "Table is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			defer func() {
				p, _ := recover().(string)
				if !strings.Contains(p, tt.want) {
					t.Errorf("panic %q, want one mentioning %q", p, tt.want)
				}
			}()
			idempotency.NewDynamoDBStore(tt.client, tt.cfg)
		})
	}
	if s := idempotency.NewDynamoDBStore(client, idempotency.DynamoDBConfig{Table: "t"}); s.Table() != "t" {
		t.Errorf("Table() = %q", s.Table())
	}
}
