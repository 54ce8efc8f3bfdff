//go:build integration

package idempotency_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/latchkit/latch/internal/latency"
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

// BenchmarkRecord compares, in one run against DynamoDB Local, a record
// whose effect is one ≤ 1 KB DynamoDB item written with Do (claim, the
// effect's PutItem, complete: three round trips) and with Transact (one
// TransactWriteItems), behind the latency proxy at each of latency.Delays
// (D is the one-way delay added to every request and response):
//
//   - first: a new key each call;
//   - duplicate: a key the same guard handled before, no cache (Do: a
//     refused claim; Transact: the predicted duplicate's GetItem);
//   - duplicate-unpredicted: a key handled before by another guard, as in
//     another container without a redelivery mark (Transact: a cancelled
//     transaction that returns the record).
//
// make bench-transact runs it with the SQS and poller benchmarks of
// pkg/handler and prints the ratios docs/transact.md shows.
func BenchmarkRecord(b *testing.B) {
	stack := emulator.New(b)
	table := stack.Table(b)
	fx := stack.TableWith(b, emulator.TableSpec{TTLAttribute: "-"})
	ctx := context.Background()
	item := func(id string) map[string]types.AttributeValue {
		return map[string]types.AttributeValue{
			"id":     &types.AttributeValueMemberS{Value: id},
			"amount": &types.AttributeValueMemberN{Value: "5"},
			"note":   &types.AttributeValueMemberS{Value: strings.Repeat("x", 512)},
		}
	}
	type form struct {
		name string
		call func(g *idempotency.Guard, client *dynamodb.Client, id string) (idempotency.Result[string], error)
	}
	forms := []form{
		{"Do", func(g *idempotency.Guard, client *dynamodb.Client, id string) (idempotency.Result[string], error) {
			return idempotency.Do(ctx, g, idempotency.Key{ID: id}, func(ctx context.Context) (string, error) {
				_, err := client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(fx), Item: item(id)})
				return "ok", err
			})
		}},
		{"Transact", func(g *idempotency.Guard, _ *dynamodb.Client, id string) (idempotency.Result[string], error) {
			return idempotency.Transact(ctx, g, idempotency.Key{ID: id}, func(context.Context) (idempotency.Tx[string], error) {
				return idempotency.Tx[string]{Value: "ok", Writes: []types.TransactWriteItem{{Put: &types.Put{TableName: aws.String(fx), Item: item(id)}}}}, nil
			})
		}},
	}
	warmUp(b, stack, table, forms[0].call, forms[1].call)
	for _, d := range latency.Delays {
		client := latency.DynamoDB(b, stack, d)
		store := idempotency.MustNewDynamoDBStore(client, idempotency.DynamoDBConfig{Table: table})
		guard := func(b *testing.B) *idempotency.Guard {
			return guardOn(b, store, nil, idempotency.Config{Namespace: emulator.UniqueName(b, "ns")})
		}
		for _, f := range forms {
			b.Run(d.String()+"/first/"+f.name, func(b *testing.B) {
				g := guard(b)
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					res, err := f.call(g, client, "first-"+strconv.Itoa(i))
					if err != nil || res.Replayed {
						b.Fatal(res, err)
					}
					i++
				}
			})
			b.Run(d.String()+"/duplicate/"+f.name, func(b *testing.B) {
				g := guard(b)
				if _, err := f.call(g, client, "dup"); err != nil {
					b.Fatal(err)
				}
				b.ReportAllocs()
				for b.Loop() {
					res, err := f.call(g, client, "dup")
					if err != nil || !res.Replayed {
						b.Fatal(res, err)
					}
				}
			})
		}
		b.Run(d.String()+"/duplicate-unpredicted/Transact", func(b *testing.B) {
			g := guard(b)
			if _, err := forms[1].call(g, client, "dup"); err != nil {
				b.Fatal(err)
			}
			// A guard of its own per call: one that has not seen the key.
			cfg := idempotency.Config{Store: store, Namespace: g.Namespace()}
			b.ReportAllocs()
			for b.Loop() {
				res, err := forms[1].call(idempotency.MustNewGuard(cfg), client, "dup")
				if err != nil || !res.Replayed {
					b.Fatal(res, err)
				}
			}
		})
	}
}

// warmUp sends a few hundred records of each form straight to DynamoDB
// Local: a JVM runs its first requests slower while the JIT compiles them,
// and whichever form ran first would pay for it.
func warmUp(b *testing.B, stack *emulator.Env, table string, calls ...func(*idempotency.Guard, *dynamodb.Client, string) (idempotency.Result[string], error)) {
	b.Helper()
	store := idempotency.MustNewDynamoDBStore(stack.DynamoDB, idempotency.DynamoDBConfig{Table: table})
	g := guardOn(b, store, nil, idempotency.Config{Namespace: emulator.UniqueName(b, "warm")})
	for i := range 300 {
		for j, call := range calls {
			id := "warm-" + strconv.Itoa(i%200) + "-" + strconv.Itoa(j) // the last 100 are duplicates
			if _, err := call(g, stack.DynamoDB, id); err != nil {
				b.Fatal(err)
			}
		}
	}
}
