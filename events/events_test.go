// Package events_test checks the sample events in this directory: each one
// decodes into its aws-lambda-go type and encodes back without losing or
// changing anything, and each is shaped like what AWS really delivers
// (checksums, FIFO attributes, the EventBridge envelope inside SQS bodies).
// They are the files `sam local invoke -e` and the function tests use.
package events_test

import (
	"bytes"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"
)

// sample is one file of this directory and the checks it must pass beyond
// the round trip.
type sample struct {
	name  string
	file  string
	into  func() any // a pointer to the file's aws-lambda-go type
	check func(t *testing.T, data []byte)
}

var samples = []sample{
	{
		name:  "order-worker SQS batch",
		file:  "sqs-orders.json",
		into:  func() any { return new(events.SQSEvent) },
		check: checkOrdersBatch,
	},
	{
		name:  "ledger SQS FIFO batch",
		file:  "sqs-ledger-fifo.json",
		into:  func() any { return new(events.SQSEvent) },
		check: checkLedgerBatch,
	},
	{
		name:  "daily-report schedule rule tick",
		file:  "schedule-daily-report.json",
		into:  func() any { return new(events.EventBridgeEvent) },
		check: checkScheduledEvent,
	},
	{
		name:  "feed-poller schedule rule tick",
		file:  "schedule-feed-poller.json",
		into:  func() any { return new(events.EventBridgeEvent) },
		check: checkScheduledEvent,
	},
	{
		name:  "OrderAccepted on the orders bus",
		file:  "eventbridge-order-accepted.json",
		into:  func() any { return new(events.EventBridgeEvent) },
		check: checkOrderAccepted,
	},
	{
		name:  "customer-totals orders table stream batch",
		file:  "dynamodb-orders-stream.json",
		into:  func() any { return new(events.DynamoDBEvent) },
		check: checkOrdersStream,
	},
}

// checkOrdersStream: what the DynamoDB Streams processor checks (event
// source, id, sequence number), each INSERT carrying the item whose key
// it names, sequence numbers rising as a shard's do.
func checkOrdersStream(t *testing.T, data []byte) {
	var ev events.DynamoDBEvent
	if err := json.Unmarshal(data, &ev); err != nil {
		t.Fatal(err)
	}
	prev := ""
	for i, r := range ev.Records {
		c := r.Change
		if r.EventSource != "aws:dynamodb" || r.EventID == "" || c.SequenceNumber == "" || r.EventName != "INSERT" {
			t.Errorf("record %d: source %q, id %q, sequence %q, name %q", i, r.EventSource, r.EventID, c.SequenceNumber, r.EventName)
		}
		if c.NewImage["orderId"].String() != c.Keys["orderId"].String() {
			t.Errorf("record %d: image of %s under key %s", i, c.NewImage["orderId"].String(), c.Keys["orderId"].String())
		}
		if len(c.SequenceNumber) != len(prev) && prev != "" || c.SequenceNumber <= prev {
			t.Errorf("record %d: sequence number %s does not follow %s", i, c.SequenceNumber, prev)
		}
		prev = c.SequenceNumber
	}
}

func TestEveryFileHasASample(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("*.json")
	if err != nil {
		t.Fatal(err)
	}
	covered := map[string]bool{}
	for _, s := range samples {
		covered[s.file] = true
	}
	for _, f := range files {
		if !covered[f] {
			t.Errorf("%s has no entry in samples: add its Go type and checks", f)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	for _, s := range samples {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(s.file)
			if err != nil {
				t.Fatal(err)
			}
			assertRoundTrip(t, data, s.into())
			s.check(t, data)
		})
	}
}

// assertRoundTrip decodes data into v (strictly: a field v does not have is
// an error), encodes v again and compares both as JSON values. The Go types
// always emit some fields (md5OfMessageAttributes, say) that AWS leaves out
// when they are empty, so a field that is absent from data may come back
// holding its zero value; anything else must come back unchanged.
func assertRoundTrip(t *testing.T, data []byte, v any) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("decode into %T: %v", v, err)
	}
	out, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("encode %T: %v", v, err)
	}
	var want, got any
	if err := json.Unmarshal(data, &want); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	got = dropAddedZeros(want, got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("round trip through %T changed the event (-file +re-encoded):\n%s", v, diff)
	}
}

// dropAddedZeros removes from got the object keys that want lacks and that
// hold a zero value ("", null, 0, false, {} or []), recursively.
func dropAddedZeros(want, got any) any {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return got
		}
		out := make(map[string]any, len(g))
		for k, gv := range g {
			wv, present := w[k]
			if !present && isZero(gv) {
				continue
			}
			out[k] = dropAddedZeros(wv, gv)
		}
		return out
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return got
		}
		out := make([]any, len(g))
		for i := range g {
			out[i] = dropAddedZeros(w[i], g[i])
		}
		return out
	default:
		return got
	}
}

func isZero(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return x == ""
	case float64:
		return x == 0
	case bool:
		return !x
	case map[string]any:
		return len(x) == 0
	case []any:
		return len(x) == 0
	}
	return false
}

func decodeSQS(t *testing.T, data []byte) events.SQSEvent {
	t.Helper()
	var e events.SQSEvent
	if err := json.Unmarshal(data, &e); err != nil {
		t.Fatal(err)
	}
	if len(e.Records) == 0 {
		t.Fatal("no records")
	}
	return e
}

// checkSQSRecord holds for every record Lambda hands over from SQS.
func checkSQSRecord(t *testing.T, i int, r events.SQSMessage) {
	t.Helper()
	sum := md5.Sum([]byte(r.Body))
	if got, want := r.Md5OfBody, hex.EncodeToString(sum[:]); got != want {
		t.Errorf("record %d: md5OfBody %s, want %s (the MD5 of its body)", i, got, want)
	}
	if r.EventSource != "aws:sqs" {
		t.Errorf("record %d: eventSource %q, want aws:sqs", i, r.EventSource)
	}
	if !strings.HasPrefix(r.EventSourceARN, "arn:aws:sqs:"+r.AWSRegion+":") {
		t.Errorf("record %d: eventSourceARN %q is not an SQS queue in %s", i, r.EventSourceARN, r.AWSRegion)
	}
	if r.MessageId == "" || r.ReceiptHandle == "" {
		t.Errorf("record %d: no messageId or receiptHandle", i)
	}
	for _, a := range []string{"ApproximateReceiveCount", "SentTimestamp", "ApproximateFirstReceiveTimestamp", "SenderId"} {
		if r.Attributes[a] == "" {
			t.Errorf("record %d: no %s attribute", i, a)
		}
	}
	if n, err := strconv.Atoi(r.Attributes["ApproximateReceiveCount"]); err != nil || n < 1 {
		t.Errorf("record %d: ApproximateReceiveCount %q is not a count", i, r.Attributes["ApproximateReceiveCount"])
	}
}

// order is the part of an order message these checks look at; the full
// type and its validation live in functions/order-worker.
type order struct {
	OrderID     string `json:"orderId"`
	CustomerID  string `json:"customerId"`
	AmountCents int64  `json:"amountCents"`
	Currency    string `json:"currency"`
}

// checkOrdersBatch: a standard-queue batch with a duplicate order (same
// order id, another message) and an order that cannot be valid.
func checkOrdersBatch(t *testing.T, data []byte) {
	e := decodeSQS(t, data)
	byOrder := map[string][]string{} // order id -> message ids
	invalid := 0
	for i, r := range e.Records {
		checkSQSRecord(t, i, r)
		if strings.HasSuffix(r.EventSourceARN, ".fifo") {
			t.Errorf("record %d: from a FIFO queue; order-worker reads a standard queue", i)
		}
		if _, ok := r.Attributes["MessageGroupId"]; ok {
			t.Errorf("record %d: a standard queue's message has no MessageGroupId", i)
		}
		var o order
		if err := json.Unmarshal([]byte(r.Body), &o); err != nil {
			t.Errorf("record %d: body is not an order: %v", i, err)
			continue
		}
		byOrder[o.OrderID] = append(byOrder[o.OrderID], r.MessageId)
		if o.OrderID == "" || o.CustomerID == "" || o.AmountCents <= 0 || len(o.Currency) != 3 {
			invalid++
		}
	}
	dup := false
	for id, msgs := range byOrder {
		if len(msgs) > 1 && msgs[0] != msgs[1] {
			dup = true
			t.Logf("order %s arrives in %d messages", id, len(msgs))
		}
	}
	if !dup {
		t.Error("no order arrives twice in distinct messages")
	}
	if invalid == 0 {
		t.Error("no invalid order")
	}
}

// orderAccepted is the detail of an OrderAccepted event.
type orderAccepted struct {
	OrderID     string `json:"orderId"`
	CustomerID  string `json:"customerId"`
	AmountCents int64  `json:"amountCents"`
	Currency    string `json:"currency"`
	AcceptedAt  string `json:"acceptedAt"`
}

func checkOrderAcceptedEvent(t *testing.T, where string, e events.EventBridgeEvent) {
	t.Helper()
	if e.Source != "latch.orders" || e.DetailType != "OrderAccepted" {
		t.Errorf("%s: source %q, detail-type %q; want latch.orders / OrderAccepted", where, e.Source, e.DetailType)
	}
	if e.Version != "0" || e.ID == "" || e.AccountID == "" || e.Region == "" || e.Time.IsZero() {
		t.Errorf("%s: incomplete EventBridge envelope: %+v", where, e)
	}
	var d orderAccepted
	dec := json.NewDecoder(bytes.NewReader(e.Detail))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		t.Errorf("%s: detail is not an OrderAccepted: %v", where, err)
		return
	}
	if d.OrderID == "" || d.CustomerID == "" || d.AmountCents <= 0 || d.AcceptedAt == "" {
		t.Errorf("%s: detail misses a field: %+v", where, d)
	}
}

// checkLedgerBatch: a FIFO batch as EventBridge delivers OrderAccepted to the
// ledger queue: one message group, content-based deduplication ids, rising
// sequence numbers, EventBridge events as bodies, and an order delivered twice
// in two events (order-worker published it again after a retry).
func checkLedgerBatch(t *testing.T, data []byte) {
	e := decodeSQS(t, data)
	var lastSeq string
	orders := map[string]int{}
	for i, r := range e.Records {
		checkSQSRecord(t, i, r)
		if !strings.HasSuffix(r.EventSourceARN, ".fifo") {
			t.Errorf("record %d: eventSourceARN %q is not a FIFO queue", i, r.EventSourceARN)
		}
		if r.Attributes["MessageGroupId"] == "" {
			t.Errorf("record %d: no MessageGroupId", i)
		}
		sum := sha256.Sum256([]byte(r.Body))
		if got, want := r.Attributes["MessageDeduplicationId"], hex.EncodeToString(sum[:]); got != want {
			t.Errorf("record %d: MessageDeduplicationId %s, want %s (content-based: SHA-256 of the body)", i, got, want)
		}
		seq := r.Attributes["SequenceNumber"]
		if seq == "" || (lastSeq != "" && !(len(seq) > len(lastSeq) || len(seq) == len(lastSeq) && seq > lastSeq)) {
			t.Errorf("record %d: SequenceNumber %q does not follow %q", i, seq, lastSeq)
		}
		lastSeq = seq
		var ev events.EventBridgeEvent
		assertRoundTrip(t, []byte(r.Body), &ev)
		checkOrderAcceptedEvent(t, "record "+strconv.Itoa(i), ev)
		var d orderAccepted
		if err := json.Unmarshal(ev.Detail, &d); err == nil {
			orders[d.OrderID]++
		}
	}
	twice := false
	for _, n := range orders {
		twice = twice || n > 1
	}
	if !twice {
		t.Error("no order is delivered twice")
	}
}

// checkScheduledEvent: what a schedule rule sends its target.
func checkScheduledEvent(t *testing.T, data []byte) {
	var e events.EventBridgeEvent
	if err := json.Unmarshal(data, &e); err != nil {
		t.Fatal(err)
	}
	if e.Source != "aws.events" || e.DetailType != "Scheduled Event" {
		t.Errorf("source %q, detail-type %q; want aws.events / Scheduled Event", e.Source, e.DetailType)
	}
	if len(e.Resources) != 1 || !strings.Contains(e.Resources[0], ":rule/") {
		t.Errorf("resources %q: want the one rule's ARN", e.Resources)
	}
	if e.Time.IsZero() || e.Time.Second() != 0 || e.Time.Nanosecond() != 0 {
		t.Errorf("time %v: a tick is on a whole minute", e.Time)
	}
	if string(bytes.TrimSpace(e.Detail)) != "{}" {
		t.Errorf("detail %s: a schedule rule sends {}", e.Detail)
	}
}

func checkOrderAccepted(t *testing.T, data []byte) {
	var e events.EventBridgeEvent
	if err := json.Unmarshal(data, &e); err != nil {
		t.Fatal(err)
	}
	checkOrderAcceptedEvent(t, "event", e)
}
