//go:build integration

package idempotency_test

import (
	"context"
	"strconv"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/latchkit/latch/pkg/idempotency"
	"github.com/latchkit/latch/pkg/latchtest/emulator"
)

// BenchmarkDoDynamoDB measures wall time per call against DynamoDB Local:
// "first" is claim + complete (two round trips), "duplicate" one claim that
// returns the stored record, "cached" the local cache (no round trip).
func BenchmarkDoDynamoDB(b *testing.B) {
	stack := emulator.New(b)
	store, _ := dynamoStore(b, stack, idempotency.DynamoDBConfig{})
	ctx := context.Background()
	fn := func(context.Context) (string, error) { return "ok", nil }

	b.Run("first", func(b *testing.B) {
		g := guardOn(b, store, nil, idempotency.Config{Namespace: emulator.UniqueName(b, "first")})
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			res, err := idempotency.Do(ctx, g, idempotency.Key{ID: strconv.Itoa(i)}, fn)
			if err != nil || res.Replayed {
				b.Fatal(res, err)
			}
			i++
		}
	})
	for _, bc := range []struct {
		name  string
		cache int
	}{{"duplicate", 0}, {"cached", 16}} {
		b.Run(bc.name, func(b *testing.B) {
			g := guardOn(b, store, nil, idempotency.Config{Namespace: emulator.UniqueName(b, bc.name), CacheSize: bc.cache})
			key := idempotency.Key{ID: "order-1", Payload: []byte(`{"amount":5}`)}
			if _, err := idempotency.Do(ctx, g, key, fn); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				res, err := idempotency.Do(ctx, g, key, fn)
				if err != nil || !res.Replayed {
					b.Fatal(res, err)
				}
			}
		})
	}
}

// BenchmarkEffectDynamoDB compares, in one run against DynamoDB Local, a
// record whose effect is one DynamoDB item written with Do (claim, the
// effect's PutItem, complete: three round trips) and with Transact (one
// TransactWriteItems), for a first call and for a duplicate (one call each).
func BenchmarkEffectDynamoDB(b *testing.B) {
	stack := emulator.New(b)
	store, _ := dynamoStore(b, stack, idempotency.DynamoDBConfig{})
	fx := stack.TableWith(b, emulator.TableSpec{TTLAttribute: "-"})
	ctx := context.Background()
	item := func(id string) map[string]types.AttributeValue {
		return map[string]types.AttributeValue{
			"id":     &types.AttributeValueMemberS{Value: id},
			"amount": &types.AttributeValueMemberN{Value: "5"},
		}
	}
	do := func(g *idempotency.Guard, id string) (idempotency.Result[string], error) {
		return idempotency.Do(ctx, g, idempotency.Key{ID: id}, func(ctx context.Context) (string, error) {
			_, err := stack.DynamoDB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(fx), Item: item(id)})
			return "ok", err
		})
	}
	transact := func(g *idempotency.Guard, id string) (idempotency.Result[string], error) {
		return idempotency.Transact(ctx, g, idempotency.Key{ID: id}, func(context.Context) (idempotency.Tx[string], error) {
			return idempotency.Tx[string]{Value: "ok", Writes: []types.TransactWriteItem{{Put: &types.Put{TableName: aws.String(fx), Item: item(id)}}}}, nil
		})
	}
	for _, mode := range []struct {
		name string
		call func(*idempotency.Guard, string) (idempotency.Result[string], error)
	}{{"do", do}, {"transact", transact}} {
		b.Run("first/"+mode.name, func(b *testing.B) {
			g := guardOn(b, store, nil, idempotency.Config{Namespace: emulator.UniqueName(b, "first")})
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				res, err := mode.call(g, mode.name+"-"+strconv.Itoa(i))
				if err != nil || res.Replayed {
					b.Fatal(res, err)
				}
				i++
			}
		})
		b.Run("duplicate/"+mode.name, func(b *testing.B) {
			g := guardOn(b, store, nil, idempotency.Config{Namespace: emulator.UniqueName(b, "dup")})
			id := mode.name + "-dup"
			if _, err := mode.call(g, id); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				res, err := mode.call(g, id)
				if err != nil || !res.Replayed {
					b.Fatal(res, err)
				}
			}
		})
	}
}
