// Package idempotency makes a function safe to call more than once: an SQS
// message delivered twice, a schedule tick fired twice, a client that
// retries. The first call under a key runs the function and records its
// result; every later call under that key, in any Lambda container, gets the
// recorded result back and the function does not run again.
//
// # The record
//
// Each key has one record in a DynamoDB table (TTL enabled on its expiration
// attribute). The key itself never reaches the table: the record's id is
// "<namespace>#<hex SHA-256 of the key>", the namespace defaulting to the
// Lambda function's name. A record is INPROGRESS while a call holds its lock,
// then COMPLETED with the result as JSON until its TTL (default one hour).
//
// # The protocol
//
// A first call costs two round trips, a duplicate one:
//
//  1. Claim: one conditional PutItem writes an INPROGRESS record with a fresh
//     random owner token, unless a live record holds the key. On conflict
//     DynamoDB hands back the existing record in the same answer
//     (ReturnValuesOnConditionCheckFailure=ALL_OLD): a COMPLETED one is
//     replayed, an INPROGRESS one yields ErrInProgress carrying the moment its
//     lock dies, so the caller can retry exactly then.
//  2. Run the function, under a lock that dies at the context deadline (a
//     Lambda's remaining time) or after Config.MaxLock, whichever is first.
//  3. Complete (conditional UpdateItem) or, on failure, release (conditional
//     DeleteItem) — both conditional on the owner token. A call whose lock
//     died and was taken over gets ErrLockLost and cannot overwrite or delete
//     the new holder's record: the fence Powertools lacks.
//
// A local LRU cache of COMPLETED records (Config.CacheSize) answers repeated
// duplicates in a warm container with no round trip at all.
//
// # Errors
//
// Errors are made for errors.Is and errors.As, and for pkg/retry, which
// classifies them by method set without importing this package:
// *InProgressError has RetryAt (the lock's expiry); *PayloadMismatchError
// and *ResultTooLargeError are Permanent; a missing key (ErrNoKey) is
// permanent too; *StoreError wraps the SDK's error and is retryable. A
// result too large for an item leaves the record COMPLETED without data,
// because the side effect happened and must not happen again.
//
// # Stores
//
// DynamoDBStore is the production Store. MemoryStore has the same semantics
// in process memory for unit tests; a shared test suite holds both to the
// same contract. Store has three methods, so a decorator (a trace
// subsegment per call, say) is a few lines.
//
// # Example
//
//	store, err := idempotency.NewDynamoDBStore(dynamodb.NewFromConfig(cfg), idempotency.DynamoDBConfig{Table: os.Getenv("IDEMPOTENCY_TABLE")})
//	if err != nil {
//		return err
//	}
//	guard := idempotency.MustNewGuard(idempotency.Config{Store: store, CacheSize: 256})
//
//	key := idempotency.Key{ID: order.ID, Payload: fmt.Appendf(nil, "%s/%d", order.Currency, order.Amount)}
//	res, err := idempotency.Do(ctx, guard, key, func(ctx context.Context) (Receipt, error) {
//		return charge(ctx, order)
//	})
//	// res.Replayed: the charge happened before and res.Value is its receipt.
package idempotency
