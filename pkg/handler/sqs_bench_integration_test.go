//go:build integration

package handler_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/latchkit/latch/internal/latency"
	"github.com/latchkit/latch/pkg/checkpoint"
	"github.com/latchkit/latch/pkg/handler"
	"github.com/latchkit/latch/pkg/idempotency"
	"github.com/latchkit/latch/pkg/latchtest/emulator"
)

// BenchmarkSQSDynamoDB runs batches through the processor in both forms
// with the idempotency records in DynamoDB Local, behind the latency proxy
// at each of latency.Delays, and a record whose effect is one ≤ 1 KB item:
// NewSQS (Do: claim, PutItem, complete) and NewSQSTx (Transact: one
// TransactWriteItems). Cases: one record alone; ten new records one by one
// and ten at once (the default concurrency); ten redelivered records whose
// effect is committed already (ApproximateReceiveCount 2), handled by a
// processor of another container.
func BenchmarkSQSDynamoDB(b *testing.B) {
	env := emulator.New(b)
	idemTable := env.Table(b)
	effects := env.Table(b)
	q := env.Queue(b, emulator.QueueSpec{})
	var n atomic.Int64
	fresh := func(m events.SQSMessage) (idempotency.Key, error) {
		return idempotency.Key{ID: m.MessageId + "/" + strconv.FormatInt(n.Add(1), 10)}, nil
	}
	byMessage := func(m events.SQSMessage) (idempotency.Key, error) {
		return idempotency.Key{ID: m.MessageId}, nil
	}
	note := strings.Repeat("x", 512)
	item := func(m handler.Message[order]) map[string]ddbtypes.AttributeValue {
		return map[string]ddbtypes.AttributeValue{
			"id":     &ddbtypes.AttributeValueMemberS{Value: fmt.Sprint(m.Body.ID, "/", n.Add(1))},
			"amount": &ddbtypes.AttributeValueMemberN{Value: strconv.Itoa(m.Body.Amount)},
			"note":   &ddbtypes.AttributeValueMemberS{Value: note},
		}
	}
	// form builds the processor of one form on client.
	type form struct {
		name string
		make func(client *dynamodb.Client, g *idempotency.Guard, key handler.KeyFunc, concurrency int) handler.Func[events.SQSEvent, events.SQSEventResponse]
	}
	forms := []form{
		{"Do", func(client *dynamodb.Client, g *idempotency.Guard, key handler.KeyFunc, c int) handler.Func[events.SQSEvent, events.SQSEventResponse] {
			return handler.MustNewSQS(func(ctx context.Context, m handler.Message[order]) error {
				_, err := client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(effects), Item: item(m)})
				return err
			}, handler.SQSConfig{Client: env.SQS, Idempotency: g, Key: key, Concurrency: c, Logger: discard})
		}},
		{"Transact", func(_ *dynamodb.Client, g *idempotency.Guard, key handler.KeyFunc, c int) handler.Func[events.SQSEvent, events.SQSEventResponse] {
			return handler.MustNewSQSTx(func(_ context.Context, m handler.Message[order]) (idempotency.Tx[string], error) {
				return idempotency.Tx[string]{Value: "ok", Writes: []ddbtypes.TransactWriteItem{{Put: &ddbtypes.Put{TableName: aws.String(effects), Item: item(m)}}}}, nil
			}, nil, handler.SQSConfig{Client: env.SQS, Idempotency: g, Key: key, Concurrency: c, Logger: discard})
		}},
	}
	var tally commitTally
	guard := func(b *testing.B, client *dynamodb.Client) *idempotency.Guard {
		store := &tallied{DynamoDBStore: idempotency.MustNewDynamoDBStore(client, idempotency.DynamoDBConfig{Table: idemTable}), tally: &tally}
		return idempotency.MustNewGuard(idempotency.Config{Store: store, Namespace: emulator.UniqueName(b, "ns")})
	}
	batch := func(records, attempt int) events.SQSEvent {
		var msgs []msg
		for i := range records {
			msgs = append(msgs, msg{id: fmt.Sprint("m", i), body: body(fmt.Sprint("o-", i)), attempt: attempt})
		}
		ev := sqsEvent("orders", msgs...)
		for i := range ev.Records {
			// The processor reads a source queue's redrive policy on its
			// first batch: point it at a real one.
			ev.Records[i].EventSourceARN = q.ARN
		}
		return ev
	}
	run := func(b *testing.B, h handler.Func[events.SQSEvent, events.SQSEventResponse], ev events.SQSEvent) {
		b.Helper()
		resp, err := h(context.Background(), ev)
		if err != nil || len(resp.BatchItemFailures) != 0 {
			b.Fatal(err, resp)
		}
	}
	// DynamoDB Local is a JVM: its first few hundred requests run slower
	// while the JIT warms up. Warm both forms before measuring anything.
	for _, f := range forms {
		h := f.make(env.DynamoDB, guard(b, env.DynamoDB), fresh, 10)
		for range 100 {
			run(b, h, batch(10, 1))
		}
	}
	for _, d := range latency.Delays {
		client := latency.DynamoDB(b, env, d)
		for _, f := range forms {
			for _, tc := range []struct {
				name                 string
				records, concurrency int
			}{
				{name: "records=1", records: 1, concurrency: 1},
				{name: "records=10/concurrency=1", records: 10, concurrency: 1},
				{name: "records=10/concurrency=10", records: 10, concurrency: 10},
			} {
				b.Run(d.String()+"/"+tc.name+"/"+f.name, func(b *testing.B) {
					h := f.make(client, guard(b, client), fresh, tc.concurrency)
					ev := batch(tc.records, 1)
					tally.reset()
					for b.Loop() {
						run(b, h, ev)
					}
					tally.report(b)
				})
			}
			b.Run(d.String()+"/records=10/redelivered/"+f.name, func(b *testing.B) {
				// Committed by one processor, redelivered to another (a
				// guard that has not seen the keys, as another container).
				g := guard(b, client)
				run(b, f.make(client, g, byMessage, 10), batch(10, 1))
				other := idempotency.MustNewGuard(idempotency.Config{Store: idempotency.MustNewDynamoDBStore(client, idempotency.DynamoDBConfig{Table: idemTable}), Namespace: g.Namespace()})
				h := f.make(client, other, byMessage, 10)
				ev := batch(10, 2)
				for b.Loop() {
					run(b, h, ev)
				}
			})
		}
	}
}

// BenchmarkPollDynamoDB is one poller tick on DynamoDB Local behind the
// latency proxy: acquire the checkpoint's lease, one page of ten new items
// each under Do, commit, release; checkpoints and records share one table,
// as in the template.
func BenchmarkPollDynamoDB(b *testing.B) {
	env := emulator.New(b)
	table := env.Table(b)
	for _, d := range latency.Delays {
		b.Run(d.String(), func(b *testing.B) {
			client := latency.DynamoDB(b, env, d)
			name := emulator.UniqueName(b, "feed")
			p, err := handler.NewPoller[string](&endless{}, handler.PollConfig[string]{
				Checkpoints: checkpoint.MustNewDynamoDBStore(client, checkpoint.DynamoDBConfig{Table: table}), Name: name,
				MaxPages: 1, Logger: quiet,
				Idempotency: idempotency.MustNewGuard(idempotency.Config{
					Store: idempotency.MustNewDynamoDBStore(client, idempotency.DynamoDBConfig{Table: table}), Namespace: name,
				}),
				Key:    itemKey,
				Handle: func(context.Context, string) error { return nil },
			})
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				if res, err := p.Poll(context.Background()); err != nil || res.Held {
					b.Fatal(res, err)
				}
			}
		})
	}
}

// endless is a feed whose every page is ten new items.
type endless struct{ n int }

func (e *endless) Fetch(_ context.Context, _ string) (handler.Page[string], error) {
	items := make([]string, 10)
	for i := range items {
		items[i] = "i" + strconv.Itoa(e.n)
		e.n++
	}
	return handler.Page[string]{Items: items, Next: strconv.Itoa(e.n)}, nil
}

// tallied counts the transactions a DynamoDBStore sends and how many
// DynamoDB cancels for a conflict: what a concurrent batch's transactions
// cost beyond one each.
type tallied struct {
	*idempotency.DynamoDBStore
	tally *commitTally
}

type commitTally struct{ commits, conflicts atomic.Int64 }

func (t *tallied) CommitTx(ctx context.Context, c idempotency.TxCommit) (*idempotency.Record, error) {
	t.tally.commits.Add(1)
	held, err := t.DynamoDBStore.CommitTx(ctx, c)
	if errors.Is(err, idempotency.ErrTransactionConflict) {
		t.tally.conflicts.Add(1)
	}
	return held, err
}

func (t *commitTally) reset() { t.commits.Store(0); t.conflicts.Store(0) }

// report adds the counts per batch to b's results, for the transactional
// form (the other sends none).
func (t *commitTally) report(b *testing.B) {
	if n := t.commits.Load(); n > 0 {
		b.ReportMetric(float64(n)/float64(b.N), "tx/op")
		b.ReportMetric(float64(t.conflicts.Load())/float64(b.N), "conflicts/op")
	}
}
