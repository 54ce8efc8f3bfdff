package producer

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/latchkit/latch/internal/batch"
)

// EventsClient is the part of *eventbridge.Client a Bus uses.
type EventsClient interface {
	PutEvents(ctx context.Context, in *eventbridge.PutEventsInput, optFns ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error)
}

var _ EventsClient = (*eventbridge.Client)(nil)

// DetailCorrelationKey is the top-level field of an event's detail that
// carries the sender's correlation id. EventBridge events have no
// attributes, so the id travels in the detail; a Go consumer decoding the
// detail into its own type ignores the field.
const DetailCorrelationKey = "correlation_id"

// BusConfig configures a Bus. Source and DetailType are required.
type BusConfig[T any] struct {
	// BusName is the event bus name or ARN. Default "" : the account's
	// default bus.
	BusName string
	// Source is every event's source ("com.example.orders"). Required.
	Source string
	// DetailType returns an event's detail type ("OrderAccepted").
	// Required.
	DetailType func(T) string
	// Encode turns a value into the event's detail, a JSON object. Default
	// json.Marshal.
	Encode func(T) ([]byte, error)
	// Resources returns an event's resource ARNs. Default none.
	Resources func(T) []string
	// Time returns an event's time. Default none: EventBridge stamps the
	// time it receives the event.
	Time func(T) time.Time
	// Retry bounds the retries of entries PutEvents did not accept
	// (FailedEntryCount). Its zero value is documented on RetryConfig.
	Retry RetryConfig
	// CorrelationID returns the correlation id to send with ctx, added to
	// the detail under DetailCorrelationKey unless the detail already has
	// that field. Default CorrelationID.
	CorrelationID func(ctx context.Context) string
}

// Bus puts values of type T on an EventBridge bus as events: typed,
// batched to PutEvents' limits (ten entries, 1 MiB), failed entries
// retried per entry, with the correlation id and the X-Ray trace header of
// the invocation that puts them. Safe for concurrent use.
type Bus[T any] struct {
	client EventsClient
	cfg    BusConfig[T]
}

// MustNewBus is NewBus that panics on a config error, for package-level
// wiring at cold start.
func MustNewBus[T any](client EventsClient, cfg BusConfig[T]) *Bus[T] {
	b, err := NewBus(client, cfg)
	if err != nil {
		panic(err)
	}
	return b
}

// NewBus returns a Bus putting events through client (usually an
// *eventbridge.Client). It fails, wrapping ErrConfig, when client, Source
// or DetailType is missing.
func NewBus[T any](client EventsClient, cfg BusConfig[T]) (*Bus[T], error) {
	switch {
	case client == nil:
		return nil, fmt.Errorf("%w: NewBus: nil client", ErrConfig)
	case cfg.Source == "":
		return nil, fmt.Errorf("%w: NewBus: empty Source", ErrConfig)
	case cfg.DetailType == nil:
		return nil, fmt.Errorf("%w: NewBus: nil DetailType", ErrConfig)
	}
	if cfg.Encode == nil {
		cfg.Encode = func(v T) ([]byte, error) { return json.Marshal(v) }
	}
	if cfg.CorrelationID == nil {
		cfg.CorrelationID = CorrelationID
	}
	cfg.Retry = cfg.Retry.withDefaults()
	return &Bus[T]{client: client, cfg: cfg}, nil
}

// Put puts one value. The error is the Result's Err.
func (b *Bus[T]) Put(ctx context.Context, v T) (Result, error) {
	res, _ := b.PutBatch(ctx, []T{v})
	return res[0], res[0].Err
}

// PutBatch puts values in as few PutEvents requests as EventBridge's
// limits allow, and retries the entries it did not accept by their class,
// with backoff. It returns one Result per value, in order (MessageID is
// the event id), and a *SendError (ErrNotSent) when any was not put.
func (b *Bus[T]) PutBatch(ctx context.Context, vs []T) ([]Result, error) {
	res := make([]Result, len(vs))
	corr := b.cfg.CorrelationID(ctx)
	trace := traceHeader(ctx)
	items := make([]pending[types.PutEventsRequestEntry], 0, len(vs))
	for i, v := range vs {
		e, err := b.entry(v, corr, trace)
		if err == nil {
			if n := batch.EventSize(e); n > batch.EventsMaxBatchBytes {
				err = &TooLargeError{Size: n, Max: batch.EventsMaxBatchBytes, Limit: "PutEvents request limit"}
			}
		}
		if err != nil {
			res[i].Err = err
			continue
		}
		items = append(items, pending[types.PutEventsRequestEntry]{i: i, entry: e})
	}
	deliver(ctx, b.cfg.Retry, false, items, batch.EventSize, batch.EventsLimits, b.call, res, nil)
	return res, summarise(res)
}

func (b *Bus[T]) entry(v T, corr, trace string) (types.PutEventsRequestEntry, error) {
	detail, err := b.cfg.Encode(v)
	if err != nil {
		return types.PutEventsRequestEntry{}, &permanentError{fmt.Errorf("producer: encode event detail: %w", err)}
	}
	if corr != "" {
		if detail, err = withCorrelation(detail, corr); err != nil {
			return types.PutEventsRequestEntry{}, &permanentError{err}
		}
	}
	e := types.PutEventsRequestEntry{
		Source:     aws.String(b.cfg.Source),
		DetailType: aws.String(b.cfg.DetailType(v)),
		Detail:     aws.String(string(detail)),
	}
	if b.cfg.BusName != "" {
		e.EventBusName = aws.String(b.cfg.BusName)
	}
	if b.cfg.Resources != nil {
		e.Resources = b.cfg.Resources(v)
	}
	if b.cfg.Time != nil {
		e.Time = aws.Time(b.cfg.Time(v))
	}
	if trace != "" {
		e.TraceHeader = aws.String(trace)
	}
	return e, nil
}

// withCorrelation adds DetailCorrelationKey to a detail object that lacks
// it. EventBridge details are JSON objects; anything else is refused.
func withCorrelation(detail []byte, corr string) ([]byte, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(detail, &fields); err != nil || fields == nil {
		return nil, errors.New("producer: an event detail must encode as a JSON object")
	}
	if _, ok := fields[DetailCorrelationKey]; ok {
		return detail, nil
	}
	v, _ := json.Marshal(corr) // a string always encodes
	// Splice rather than re-encode the map: the detail keeps its own field
	// order and formatting.
	obj := bytes.TrimSpace(detail)
	inner := bytes.TrimSpace(obj[1 : len(obj)-1])
	out := make([]byte, 0, len(obj)+len(DetailCorrelationKey)+len(v)+4)
	out = append(out, '{')
	out = append(out, inner...)
	if len(inner) > 0 {
		out = append(out, ',')
	}
	out = append(out, '"')
	out = append(out, DetailCorrelationKey...)
	out = append(out, '"', ':')
	out = append(out, v...)
	out = append(out, '}')
	return out, nil
}

// call puts one batch and reads PutEvents' per-entry answer: entries come
// back in request order, a failed one with an ErrorCode.
func (b *Bus[T]) call(ctx context.Context, entries []types.PutEventsRequestEntry) ([]sent, error) {
	out, err := b.client.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: entries})
	if err != nil {
		return nil, fmt.Errorf("producer: PutEvents: %w", err)
	}
	if len(out.Entries) != len(entries) {
		return nil, fmt.Errorf("producer: PutEvents answered %d entries for %d", len(out.Entries), len(entries))
	}
	res := make([]sent, len(entries))
	for k, e := range out.Entries {
		if e.ErrorCode != nil {
			res[k] = sent{err: eventError(aws.ToString(e.ErrorCode), aws.ToString(e.ErrorMessage))}
			continue
		}
		res[k] = sent{id: aws.ToString(e.EventId)}
	}
	return res, nil
}

// eventError classifies a PutEvents entry failure. EventBridge reports
// throttling and internal failures, which pass, and malformed entries,
// which do not; its entry codes carry no fault, so the known malformed
// ones are named here.
func eventError(code, msg string) error {
	err := fmt.Errorf("producer: event refused: %s: %s", code, msg)
	switch code {
	case "MalformedDetail", "InvalidArgument", "ValidationException", "InvalidEventPatternException":
		return &permanentError{err}
	case "NotAuthorizedForSourceException", "AccessDeniedException":
		// A policy fix makes it pass; but not within this send.
		return &permanentError{err}
	}
	return err
}
