//go:build emulators

package emulators_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/latchkit/latch/internal/emulators"
)

// TestRestartKeepsDynamoDBData kills DynamoDB Local with SIGKILL and
// restarts it: with Config.DynamoDBDir its table and item come back on the
// same endpoint; moto cannot come back with its data.
func TestRestartKeepsDynamoDBData(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cfg := emulators.Config{StateDir: t.TempDir(), DynamoDBDir: t.TempDir()}
	st, err := emulators.Up(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := emulators.Down(cfg); err != nil {
			t.Error(err)
		}
	})
	endpoint, _ := st.Lookup("AWS_ENDPOINT_URL_DYNAMODB")
	awsCfg, err := config.LoadDefaultConfig(ctx, config.WithRegion("us-east-1"),
		config.WithCredentialsProvider(aws.AnonymousCredentials{}), config.WithRetryMaxAttempts(1))
	if err != nil {
		t.Fatal(err)
	}
	db := dynamodb.NewFromConfig(awsCfg, func(o *dynamodb.Options) {
		o.BaseEndpoint = aws.String(endpoint)
		o.Credentials = aws.NewCredentialsCache(staticCreds{})
	})
	if _, err := db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String("restart"),
		BillingMode:          ddbtypes.BillingModePayPerRequest,
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: ddbtypes.KeyTypeHash}},
	}); err != nil {
		t.Fatal(err)
	}
	key := map[string]ddbtypes.AttributeValue{"id": &ddbtypes.AttributeValueMemberS{Value: "kept"}}
	if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("restart"), Item: key}); err != nil {
		t.Fatal(err)
	}

	if err := emulators.Kill(cfg, "dynamodb"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("restart"), Key: key}); err == nil {
		t.Fatal("GetItem answered after Kill")
	}
	if _, err := emulators.Status(cfg); !errors.Is(err, emulators.ErrNotRunning) {
		t.Errorf("Status after Kill: %v, want ErrNotRunning", err)
	}
	if err := emulators.Restart(ctx, cfg, "dynamodb"); err != nil {
		t.Fatal(err)
	}
	out, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("restart"), Key: key, ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatalf("GetItem after Restart: %v", err)
	}
	if out.Item == nil {
		t.Error("the item is gone after Restart")
	}
	if _, err := emulators.Status(cfg); err != nil {
		t.Errorf("Status after Restart: %v", err)
	}
	if err := emulators.Restart(ctx, cfg, "moto"); !errors.Is(err, emulators.ErrNoRestart) {
		t.Errorf("Restart(moto) = %v, want ErrNoRestart", err)
	}
}

type staticCreds struct{}

func (staticCreds) Retrieve(context.Context) (aws.Credentials, error) {
	return aws.Credentials{AccessKeyID: "test", SecretAccessKey: "test", Source: "test"}, nil
}
