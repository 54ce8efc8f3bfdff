package handler_test

import (
	"errors"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"

	"github.com/latchkit/latch/pkg/handler"
	"github.com/latchkit/latch/pkg/idempotency"
	"github.com/latchkit/latch/pkg/retry"
)

func TestKeyFuncs(t *testing.T) {
	t.Parallel()
	m := func(body string) events.SQSMessage { return events.SQSMessage{MessageId: "id-1", Body: body} }
	tests := []struct {
		name      string
		key       handler.KeyFunc
		msg       events.SQSMessage
		want      idempotency.Key
		permanent bool
	}{
		{name: "message id", key: handler.KeyMessageID, msg: m("x"), want: idempotency.Key{ID: "id-1"}},
		{name: "body hash", key: handler.KeyBodyHash, msg: m("hello"),
			want: idempotency.Key{ID: "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"}},
		{name: "json string field", key: handler.KeyJSONField("order_id"), msg: m(`{"order_id":"o-7","amount":3}`), want: idempotency.Key{ID: "o-7"}},
		{name: "json number field keeps its text", key: handler.KeyJSONField("order_id"), msg: m(`{"order_id": 1e3}`), want: idempotency.Key{ID: "1e3"}},
		{name: "negative number", key: handler.KeyJSONField("n"), msg: m(`{"n":-4}`), want: idempotency.Key{ID: "-4"}},
		{name: "nested path", key: handler.KeyJSONField("order", "id"), msg: m(`{"order":{"id":"o-8"}}`), want: idempotency.Key{ID: "o-8"}},
		{name: "escaped string", key: handler.KeyJSONField("k"), msg: m(`{"k":"a\"b"}`), want: idempotency.Key{ID: `a"b`}},
		{name: "missing field is a missing key", key: handler.KeyJSONField("order_id"), msg: m(`{"id":"o-7"}`), want: idempotency.Key{}},
		{name: "null field is a missing key", key: handler.KeyJSONField("order_id"), msg: m(`{"order_id":null}`), want: idempotency.Key{}},
		{name: "missing parent is a missing key", key: handler.KeyJSONField("order", "id"), msg: m(`{}`), want: idempotency.Key{}},
		{name: "object field", key: handler.KeyJSONField("order"), msg: m(`{"order":{"id":1}}`), permanent: true},
		{name: "bool field", key: handler.KeyJSONField("ok"), msg: m(`{"ok":true}`), permanent: true},
		{name: "not JSON", key: handler.KeyJSONField("order_id"), msg: m(`order 7`), permanent: true},
		{name: "JSON array", key: handler.KeyJSONField("order_id"), msg: m(`[1,2]`), permanent: true},
		{name: "display names the key", key: handler.KeyJSONField("order_id").WithDisplay("order %s"), msg: m(`{"order_id":"o-7"}`),
			want: idempotency.Key{ID: "o-7", Display: "order o-7"}},
		{name: "display leaves a missing key missing", key: handler.KeyJSONField("order_id").WithDisplay("order %s"), msg: m(`{}`), want: idempotency.Key{}},
		{name: "display keeps the key's error", key: handler.KeyJSONField("order_id").WithDisplay("order %s"), msg: m(`[1]`), permanent: true},
		{name: "parent is not an object", key: handler.KeyJSONField("order", "id"), msg: m(`{"order":"o-1"}`), permanent: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := tt.key(tt.msg)
			if tt.permanent {
				if err == nil || retry.Classify(err) != retry.ClassPermanent {
					t.Fatalf("key %+v, error %v; want a permanent error", got, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("key (-want +got):\n%s", diff)
			}
		})
	}
	if _, err := handler.KeyJSONField("x")(m("nope")); !errors.Is(err, &retry.PermanentError{}) {
		t.Errorf("error %v is not a *retry.PermanentError", err)
	}
}
