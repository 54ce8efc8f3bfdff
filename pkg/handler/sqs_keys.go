package handler

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/latchkit/latch/pkg/idempotency"
	"github.com/latchkit/latch/pkg/retry"
)

// KeyFunc derives the idempotency key of an SQS record: what makes two
// records "the same request". An empty Key.ID is a missing key (the guard
// fails it with idempotency.ErrNoKey unless AllowMissingKey); an error
// fails the record and is classified like any other (the helpers' errors
// are permanent: the record will not change). Set Key.Payload to have the
// guard check that records under one key carry the same request.
type KeyFunc func(m events.SQSMessage) (idempotency.Key, error)

// WithDisplay names f's keys for people: format, with the key's ID for its
// one verb, becomes Key.Display ("order %s" → "order o-17"), which outcome
// lines (idempotency_key) and errors such as a payload mismatch carry while
// the table keeps only the hash. Keys are not in logs by default because an
// ID taken from a body may be data its owner would not log; WithDisplay is
// the choice to. A missing key stays missing.
func (f KeyFunc) WithDisplay(format string) KeyFunc {
	return func(m events.SQSMessage) (idempotency.Key, error) {
		k, err := f(m)
		if err == nil && k.ID != "" {
			k.Display = fmt.Sprintf(format, k.ID)
		}
		return k, err
	}
}

// KeyMessageID keys a record by its SQS message id: it suppresses SQS's
// own redeliveries of one message, not a producer sending the same request
// twice (each send gets a new id).
func KeyMessageID(m events.SQSMessage) (idempotency.Key, error) {
	return idempotency.Key{ID: m.MessageId}, nil
}

// KeyBodyHash keys a record by the SHA-256 of its body: two messages with
// byte-identical bodies are the same request, whoever sent them. Bodies
// that carry a timestamp or a trace id are never identical; use
// KeyJSONField for those.
func KeyBodyHash(m events.SQSMessage) (idempotency.Key, error) {
	sum := sha256.Sum256([]byte(m.Body))
	return idempotency.Key{ID: "sha256:" + hex.EncodeToString(sum[:])}, nil
}

// KeyJSONField keys a record by a field of its JSON body, the business id
// of the request: KeyJSONField("order_id"), or a nested one with a path,
// KeyJSONField("order", "id"). The field must be a string or a number (a
// number keys by its literal text); a missing or null field is a missing
// key; a body that is not a JSON object, or a field of another type, is a
// permanent error.
func KeyJSONField(path ...string) KeyFunc {
	name := strings.Join(path, ".")
	return func(m events.SQSMessage) (idempotency.Key, error) {
		raw := json.RawMessage(m.Body)
		for _, field := range path {
			var obj map[string]json.RawMessage
			if err := json.Unmarshal(raw, &obj); err != nil {
				return idempotency.Key{}, retry.Permanent(fmt.Errorf("handler: idempotency key %s: body is not a JSON object with that path: %w", name, err))
			}
			v, ok := obj[field]
			if !ok {
				return idempotency.Key{}, nil
			}
			raw = v
		}
		raw = bytes.TrimSpace(raw)
		switch {
		case len(raw) == 0 || string(raw) == "null":
			return idempotency.Key{}, nil
		case raw[0] == '"':
			var s string
			if err := json.Unmarshal(raw, &s); err != nil {
				return idempotency.Key{}, retry.Permanent(fmt.Errorf("handler: idempotency key %s: %w", name, err))
			}
			return idempotency.Key{ID: s}, nil
		case raw[0] == '-' || (raw[0] >= '0' && raw[0] <= '9'):
			return idempotency.Key{ID: string(raw)}, nil
		default:
			return idempotency.Key{}, retry.Permanent(fmt.Errorf("handler: idempotency key %s: %.40s is not a string or a number", name, raw))
		}
	}
}
