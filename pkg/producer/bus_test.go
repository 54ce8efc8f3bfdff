package producer_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/google/go-cmp/cmp"

	"github.com/latchkit/latch/pkg/handler"
	"github.com/latchkit/latch/pkg/producer"
	"github.com/latchkit/latch/pkg/retry"
)

type accepted struct {
	OrderID string `json:"order_id"`
	Pad     string `json:"pad,omitempty"`
}

func newBus(t *testing.T, f *fakeEvents, w *waits) *producer.Bus[accepted] {
	t.Helper()
	b, err := producer.NewBus(f, producer.BusConfig[accepted]{
		Source: "shop", DetailType: func(accepted) string { return "OrderAccepted" },
		Retry: producer.RetryConfig{Sleep: w.wait},
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestBusPutBatch(t *testing.T) {
	t.Parallel()
	pad := strings.Repeat("p", 300_000)
	orders := func(n int, pad string) []accepted {
		var o []accepted
		for i := range n {
			o = append(o, accepted{OrderID: fmt.Sprint(i), Pad: pad})
		}
		return o
	}
	tests := []struct {
		name        string
		values      []accepted
		fail        func(detail string, seen int) string
		wantBatches []int
		wantFailed  []int
		wantPerm    []int
		wantWaits   int
	}{
		{name: "count limit", values: orders(21, ""), wantBatches: []int{10, 10, 1}},
		{name: "1 MiB limit: three 300 KB events a request", values: orders(7, pad), wantBatches: []int{3, 3, 1}},
		{name: "a 1 MB event fits; 100 KB more does not", values: []accepted{{OrderID: "mb", Pad: strings.Repeat("m", 1_000_000)}, {OrderID: "next", Pad: strings.Repeat("p", 100_000)}}, wantBatches: []int{1, 1}},
		{
			name: "FailedEntryCount entries retried alone", values: orders(4, ""),
			fail: func(d string, seen int) string {
				if strings.Contains(d, `"order_id":"2"`) && seen < 2 {
					return "ThrottlingException"
				}
				return ""
			},
			wantBatches: []int{4, 1, 1}, wantWaits: 2,
		},
		{
			name: "malformed detail is permanent", values: orders(2, ""),
			fail: func(d string, _ int) string {
				if strings.Contains(d, `"order_id":"0"`) {
					return "MalformedDetail"
				}
				return ""
			},
			wantBatches: []int{2}, wantFailed: []int{0}, wantPerm: []int{0},
		},
		{
			name: "too large alone: refused before any request", values: []accepted{{OrderID: "big", Pad: strings.Repeat("p", 1<<20)}, {OrderID: "ok"}},
			wantBatches: []int{1}, wantFailed: []int{0}, wantPerm: []int{0},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := &fakeEvents{fail: tt.fail}
			w := &waits{}
			res, err := newBus(t, f, w).PutBatch(context.Background(), tt.values)
			var sizes []int
			for _, c := range f.calls {
				sizes = append(sizes, len(c.Entries))
			}
			if diff := cmp.Diff(tt.wantBatches, sizes); diff != "" {
				t.Errorf("entries per request (-want +got):\n%s", diff)
			}
			var failed, perm []int
			for i, r := range res {
				if r.Err != nil {
					failed = append(failed, i)
					if retry.Classify(r.Err) == retry.ClassPermanent {
						perm = append(perm, i)
					}
				} else if r.MessageID == "" {
					t.Errorf("result %d: put without an event id", i)
				}
			}
			if diff := cmp.Diff(tt.wantFailed, failed); diff != "" {
				t.Errorf("failed entries (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantPerm, perm); diff != "" {
				t.Errorf("permanent entries (-want +got):\n%s", diff)
			}
			if (len(failed) > 0) != errors.Is(err, producer.ErrNotSent) {
				t.Errorf("PutBatch err = %v with failed %v", err, failed)
			}
			if len(f.put)+len(failed) != len(tt.values) {
				t.Errorf("%d put + %d failed != %d values", len(f.put), len(failed), len(tt.values))
			}
			if len(w.d) != tt.wantWaits {
				t.Errorf("waited %d times, want %d", len(w.d), tt.wantWaits)
			}
		})
	}
}

func TestBusPropagatesCorrelationAndTrace(t *testing.T) {
	t.Parallel()
	const trace = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
	f := &fakeEvents{}
	ctx := handler.ContextWithInvocation(context.Background(), handler.Invocation{RequestID: "req-9", TraceHeader: trace})
	if _, err := newBus(t, f, &waits{}).Put(ctx, accepted{OrderID: "o1"}); err != nil {
		t.Fatal(err)
	}
	e := f.put[0]
	var detail map[string]string
	if err := json.Unmarshal([]byte(aws.ToString(e.Detail)), &detail); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"order_id": "o1", producer.DetailCorrelationKey: "req-9"}
	if diff := cmp.Diff(want, detail); diff != "" {
		t.Errorf("detail (-want +got):\n%s", diff)
	}
	if got := aws.ToString(e.TraceHeader); got != trace {
		t.Errorf("trace header %q, want %q", got, trace)
	}
	// The consumer's outcome carries the sender's correlation id, not the
	// event id.
	var got string
	consume := handler.MustNewEventBridge(func(ctx context.Context, _ handler.Event[accepted]) error {
		d, _ := handler.DeliveryFromContext(ctx)
		got = d.CorrelationID
		return nil
	}, handler.EventBridgeConfig[accepted]{})
	ev := events.EventBridgeEvent{ID: "ev-1", Source: aws.ToString(e.Source), DetailType: aws.ToString(e.DetailType), Detail: json.RawMessage(aws.ToString(e.Detail))}
	if _, err := consume(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	if got != "req-9" {
		t.Errorf("consumer's correlation id %q, want the producer's req-9", got)
	}
}

func TestBusDetailMustBeObject(t *testing.T) {
	t.Parallel()
	f := &fakeEvents{}
	b, err := producer.NewBus(f, producer.BusConfig[string]{Source: "s", DetailType: func(string) string { return "T" }})
	if err != nil {
		t.Fatal(err)
	}
	ctx := handler.ContextWithInvocation(context.Background(), handler.Invocation{RequestID: "r"})
	_, err = b.Put(ctx, "a string")
	if err == nil || retry.Classify(err) != retry.ClassPermanent || len(f.calls) != 0 {
		t.Errorf("Put of a non-object detail: err = %v, %d requests; want a permanent error and none", err, len(f.calls))
	}
}

func TestNewBusConfigErrors(t *testing.T) {
	t.Parallel()
	dt := func(accepted) string { return "T" }
	tests := []struct {
		name   string
		client producer.EventsClient
		cfg    producer.BusConfig[accepted]
	}{
		{name: "nil client", cfg: producer.BusConfig[accepted]{Source: "s", DetailType: dt}},
		{name: "no source", client: &fakeEvents{}, cfg: producer.BusConfig[accepted]{DetailType: dt}},
		{name: "no detail type", client: &fakeEvents{}, cfg: producer.BusConfig[accepted]{Source: "s"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := producer.NewBus(tt.client, tt.cfg); !errors.Is(err, producer.ErrConfig) {
				t.Errorf("err = %v, want ErrConfig", err)
			}
		})
	}
}
