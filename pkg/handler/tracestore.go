package handler

import (
	"context"

	"github.com/latchkit/latch/pkg/idempotency"
)

// TraceStore returns store with every call in a span of its own, named
// SpanIdempotencyStore plus the operation ("## idempotency.claim") and
// annotated with the operation, so a trace shows what idempotency cost each
// record. With the store's AWS client instrumented by the same tracer, the
// DynamoDB call appears inside that span. A nil tracer returns store as is.
//
//	store, err := idempotency.NewDynamoDBStore(...)
//	guard, err := idempotency.NewGuard(idempotency.Config{Store: handler.TraceStore(store, tel.Tracer())})
func TraceStore(store idempotency.Store, tracer Tracer) idempotency.Store {
	if tracer == nil {
		return store
	}
	if _, ok := tracer.(NopTracer); ok {
		return store
	}
	t := tracedStore{store: store, tracer: tracer}
	if _, ok := store.(idempotency.TxStore); ok {
		// Keep Transact working through the decorator.
		return tracedTxStore{t}
	}
	return t
}

// Store operations, as span name suffixes and AnnotationOperation values.
const (
	StoreOpClaim    = "claim"
	StoreOpComplete = "complete"
	StoreOpRelease  = "release"
	StoreOpCommitTx = "commit_tx"
	StoreOpGet      = "get"
)

type tracedStore struct {
	store  idempotency.Store
	tracer Tracer
}

var _ idempotency.Store = tracedStore{}

func (s tracedStore) span(ctx context.Context, op string) (context.Context, Span) {
	ctx, span := s.tracer.Start(ctx, SpanIdempotencyStore+"."+op)
	span.Annotate(AnnotationOperation, op)
	return ctx, span
}

func (s tracedStore) Claim(ctx context.Context, c idempotency.Claim) (*idempotency.Record, error) {
	ctx, span := s.span(ctx, StoreOpClaim)
	rec, err := s.store.Claim(ctx, c)
	if rec != nil {
		// The key was taken: say by what, for the duplicate or the wait.
		span.Annotate(AnnotationHeldBy, string(rec.Status))
	}
	span.End(err)
	return rec, err
}

func (s tracedStore) Complete(ctx context.Context, c idempotency.Completion) error {
	ctx, span := s.span(ctx, StoreOpComplete)
	err := s.store.Complete(ctx, c)
	span.End(err)
	return err
}

func (s tracedStore) Release(ctx context.Context, keyHash, owner string) error {
	ctx, span := s.span(ctx, StoreOpRelease)
	err := s.store.Release(ctx, keyHash, owner)
	span.End(err)
	return err
}

// tracedTxStore is tracedStore on a store that also commits transactions.
type tracedTxStore struct{ tracedStore }

var _ idempotency.TxStore = tracedTxStore{}

func (s tracedTxStore) CommitTx(ctx context.Context, c idempotency.TxCommit) (*idempotency.Record, error) {
	ctx, span := s.span(ctx, StoreOpCommitTx)
	rec, err := s.store.(idempotency.TxStore).CommitTx(ctx, c)
	if rec != nil {
		span.Annotate(AnnotationHeldBy, string(rec.Status))
	}
	span.End(err)
	return rec, err
}

func (s tracedTxStore) Get(ctx context.Context, keyHash string) (idempotency.Record, bool, error) {
	ctx, span := s.span(ctx, StoreOpGet)
	rec, ok, err := s.store.(idempotency.TxStore).Get(ctx, keyHash)
	if ok {
		span.Annotate(AnnotationHeldBy, string(rec.Status))
	}
	span.End(err)
	return rec, ok, err
}
