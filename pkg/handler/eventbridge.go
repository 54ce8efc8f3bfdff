package handler

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/latchkit/latch/pkg/idempotency"
)

// Event is an EventBridge event whose detail is decoded into T.
type Event[T any] struct {
	// ID, DetailType, Source, Account, Time, Region and Resources are the
	// envelope's fields of the same names ("detail-type", "account").
	ID         string
	DetailType string
	Source     string
	Account    string
	Time       time.Time
	Region     string
	Resources  []string
	// Detail is the event's detail decoded from JSON; T's zero value when
	// the event has none.
	Detail T
	// Raw is the event as delivered, detail undecoded.
	Raw events.EventBridgeEvent
}

// EventBridgeConfig configures NewEventBridge. The zero value runs every
// delivery, returns every failure and observes nothing.
type EventBridgeConfig[T any] struct {
	// Idempotency runs each event at most once across deliveries. Default
	// nil: no idempotency. EventBridge delivers at least once.
	Idempotency *idempotency.Guard
	// Key derives an event's idempotency key. Default: the event id, with
	// the raw detail as the payload that must match on a replay. Use a key
	// from the detail (an order id) when the same business event can be put
	// on the bus more than once under different ids. It has the shape of
	// every key function of latch (KeyFunc, StreamConfig.Key,
	// idempotency.Wrap's): an error fails the event and is classified like
	// any other (retry.Permanent for a detail that will never have a key).
	Key func(Event[T]) (idempotency.Key, error)
	// CorrelationID derives the record's correlation id. Default: the
	// detail's top-level "correlation_id" string (CorrelationIDAttribute;
	// what producer.Bus sends), else the event id.
	CorrelationID func(Event[T]) string
	// FailureQueue receives events that failed permanently (a detail that
	// does not decode, say), with the reason; the invocation then succeeds.
	// Default none: permanent failures are returned to Lambda.
	FailureQueue FailureQueue
	// Observer is told about every event. Default NopObserver.
	Observer Observer
	// Logger receives recovered panics with their stack. Default: the
	// Observer's logger when it has one (a *telemetry.Telemetry has), else
	// slog.Default().
	Logger *slog.Logger
	// Now is the clock for durations and failure timestamps. Default
	// time.Now.
	Now func() time.Time
}

// EventDecodeError says that an event's detail does not decode into the
// handler's type. It is permanent: the same event fails the same way every time. Its
// name is stable.
type EventDecodeError struct {
	// EventID is the event's id, or the SQS message id when the body is
	// not an event at all.
	EventID string
	// Type is the Go type the detail was decoded into.
	Type string
	// Err is the JSON error.
	Err error
}

func (e *EventDecodeError) Error() string {
	return fmt.Sprintf("handler: event %s: decode detail into %s: %v", e.EventID, e.Type, e.Err)
}

// Unwrap returns the JSON error.
func (e *EventDecodeError) Unwrap() error { return e.Err }

// Permanent reports true.
func (e *EventDecodeError) Permanent() bool { return true }

// Is matches any *EventDecodeError.
func (e *EventDecodeError) Is(target error) bool {
	_, ok := target.(*EventDecodeError)
	return ok
}

// DecodeEvent decodes ev's detail into T. A failure is an
// *EventDecodeError. An absent or null detail leaves T's zero value.
func DecodeEvent[T any](ev events.EventBridgeEvent) (Event[T], error) {
	e := Event[T]{
		ID: ev.ID, DetailType: ev.DetailType, Source: ev.Source, Account: ev.AccountID,
		Time: ev.Time, Region: ev.Region, Resources: ev.Resources, Raw: ev,
	}
	if d := bytes.TrimSpace(ev.Detail); len(d) > 0 && !bytes.Equal(d, []byte("null")) {
		if err := json.Unmarshal(d, &e.Detail); err != nil {
			return e, &EventDecodeError{EventID: ev.ID, Type: fmt.Sprintf("%T", e.Detail), Err: err}
		}
	}
	return e, nil
}

// NewEventBridge returns a Lambda handler for custom events delivered by an
// EventBridge rule with the function as its target. Each event's detail is
// decoded into T (a decode failure is permanent) and fn runs on it, once
// per event across deliveries with cfg.Idempotency.
//
// Rule targets invoke asynchronously; what the invocation answers is the
// same as for Schedule: success and duplicates succeed, a permanent failure
// goes to cfg.FailureQueue (when set) and succeeds, and everything else,
// panics included, is returned for Lambda to retry.
//
// An unusable config or a nil fn is an error here (ErrConfig).
func NewEventBridge[T any](fn func(ctx context.Context, e Event[T]) error, cfg EventBridgeConfig[T]) (Func[events.EventBridgeEvent, struct{}], error) {
	if err := asyncConfigError("EventBridgeConfig", fn == nil, "event", cfg.FailureQueue); err != nil {
		return nil, err
	}
	runner := newAsyncRunner(cfg.Observer, cfg.FailureQueue, cfg.Logger, cfg.Now)
	return func(ctx context.Context, ev events.EventBridgeEvent) (struct{}, error) {
		e, derr := DecodeEvent[T](ev)
		rec := Delivery{Source: ev.Source, ID: ev.ID, CorrelationID: detailCorrelationID(ev), Body: string(ev.Detail)}
		if derr == nil && cfg.CorrelationID != nil {
			rec.CorrelationID = cfg.CorrelationID(e)
		}
		payload, merr := json.Marshal(ev)
		if merr != nil {
			payload = ev.Detail // not reached: a decoded event marshals
		}
		err := runner.run(ctx, rec, func() []byte { return payload }, func(ctx context.Context, rep *Report) (bool, error) {
			if derr != nil {
				return false, derr
			}
			replayed, keyHash, err := runEvent(ctx, fn, cfg, e)
			rep.KeyHash = keyHash
			return replayed, err
		})
		return struct{}{}, err
	}, nil
}

// MustNewEventBridge is NewEventBridge for package-level initialisation: it
// panics on the error NewEventBridge would return.
func MustNewEventBridge[T any](fn func(ctx context.Context, e Event[T]) error, cfg EventBridgeConfig[T]) Func[events.EventBridgeEvent, struct{}] {
	h, err := NewEventBridge(fn, cfg)
	if err != nil {
		panic(err)
	}
	return h
}

// EventBridgeSQS returns a record function for the SQS processor, for
// EventBridge events that reach a queue through a rule's SQS target (the
// message body is the event's JSON):
//
//	handler.NewSQS(handler.EventBridgeSQS(fn), handler.SQSConfig{
//		Client:      sqsClient,
//		Idempotency: guard,
//		Key:         handler.KeyEventID, // or handler.KeyEvent(func(e handler.Event[Order]) ...)
//	})
//
// The typed handling is EventBridge's: the detail is decoded into T, and a
// decode failure is permanent, so the record goes to the dead-letter queue
// at once with the reason. Idempotency, retries, dead letters and
// observation are the SQS processor's, which reports a redelivered event
// as a duplicate.
func EventBridgeSQS[T any](fn func(ctx context.Context, e Event[T]) error) func(ctx context.Context, m Message[events.EventBridgeEvent]) error {
	return func(ctx context.Context, m Message[events.EventBridgeEvent]) error {
		if fn == nil {
			return configError("the event function given to EventBridgeSQS is nil")
		}
		e, err := DecodeEvent[T](m.Body)
		if err != nil {
			return err
		}
		return fn(ctx, e)
	}
}

// KeyEventID keys an SQS record that carries an EventBridge event by the
// event's id, with the detail as the payload that must match on a replay:
// the key EventBridge handles get by default, for SQSConfig.Key. A body
// that is not an event is a permanent error.
func KeyEventID(m events.SQSMessage) (idempotency.Key, error) {
	ev, err := eventOfRecord(m)
	if err != nil {
		return idempotency.Key{}, err
	}
	return eventIDKey(ev), nil
}

// KeyEvent returns an SQSConfig.Key for records that carry EventBridge
// events: the body decoded into an Event[T] (a failure is permanent) and
// keyed by key, typically a business id from the detail.
func KeyEvent[T any](key func(Event[T]) (idempotency.Key, error)) KeyFunc {
	return func(m events.SQSMessage) (idempotency.Key, error) {
		ev, err := eventOfRecord(m)
		if err != nil {
			return idempotency.Key{}, err
		}
		e, err := DecodeEvent[T](ev)
		if err != nil {
			return idempotency.Key{}, err
		}
		return key(e)
	}
}

// eventOfRecord reads an SQS record's body as an EventBridge event. A body
// that is not one fails with an *EventDecodeError naming the message: it is
// permanent, because the body will not change.
func eventOfRecord(m events.SQSMessage) (events.EventBridgeEvent, error) {
	var ev events.EventBridgeEvent
	if err := json.Unmarshal([]byte(m.Body), &ev); err != nil {
		return ev, &EventDecodeError{EventID: m.MessageId, Type: "events.EventBridgeEvent", Err: err}
	}
	return ev, nil
}

// eventIDKey is the default key of an event: its id, with the detail as the
// payload that must match on a replay.
func eventIDKey(ev events.EventBridgeEvent) idempotency.Key {
	return idempotency.Key{ID: ev.ID, Payload: compactJSON(ev.Detail)}
}

// runEvent runs fn on e, under idempotency when configured.
func runEvent[T any](ctx context.Context, fn func(context.Context, Event[T]) error, cfg EventBridgeConfig[T], e Event[T]) (bool, string, error) {
	if cfg.Idempotency == nil {
		return false, "", fn(ctx, e)
	}
	key := eventIDKey(e.Raw)
	if cfg.Key != nil {
		var err error
		if key, err = cfg.Key(e); err != nil {
			return false, "", err
		}
	}
	res, err := idempotency.Do(ctx, cfg.Idempotency, key,
		func(ctx context.Context) (struct{}, error) { return struct{}{}, fn(ctx, e) })
	return res.Replayed, res.KeyHash, err
}

// compactJSON returns detail without insignificant whitespace, so that the
// payload hash of an event does not depend on how it was serialised (a
// redrive from the failure queue re-encodes it).
func compactJSON(detail json.RawMessage) []byte {
	var b bytes.Buffer
	if err := json.Compact(&b, detail); err != nil {
		return detail
	}
	return b.Bytes()
}

// detailCorrelationID is the correlation id a sender put in the detail
// (EventBridge events have no attributes to carry it), else the event id.
func detailCorrelationID(ev events.EventBridgeEvent) string {
	var d struct {
		CorrelationID string `json:"correlation_id"`
	}
	if json.Unmarshal(ev.Detail, &d) == nil && d.CorrelationID != "" {
		return d.CorrelationID
	}
	return ev.ID
}
