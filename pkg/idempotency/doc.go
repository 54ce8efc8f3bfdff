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
//     Lambda's remaining time) or after Config.MaxLock, whichever is first;
//     without a deadline (outside Lambda) after Config.LockWithoutDeadline,
//     one minute by default, so a crashed holder blocks its key that long.
//  3. Complete (conditional UpdateItem) or, on failure, release (conditional
//     DeleteItem) — both conditional on the owner token. A call whose lock
//     died and was taken over gets ErrLockLost and cannot overwrite or delete
//     the new holder's record: the fence Powertools lacks.
//
// A local LRU cache of COMPLETED records (Config.CacheSize) answers repeated
// duplicates in a warm container with no round trip at all.
//
// Do is at least once at one edge: if the completion write fails after the
// function's side effect, the record stays INPROGRESS and, once the lock
// dies, the next delivery runs the effect again.
//
// # Transact: the effect and the record in one transaction
//
// When the effect is DynamoDB writes, Transact closes that edge and saves
// two round trips. The function returns its writes (types.TransactWriteItem:
// Put, Update, Delete, ConditionCheck, on any tables) and its result
// without performing them, and latch commits them in one TransactWriteItems
// with the record written COMPLETED under the claim's condition. A first
// call costs one round trip; a duplicate one too: a predicted one (a
// context marked with ExpectDuplicate, as handler.NewSQSTx marks
// redeliveries, or a key the guard committed or found held before) is
// answered by one consistent read of the record, without running the
// function; an unpredicted one by its cancelled transaction, which hands
// back the stored record. A cached duplicate costs none. The function may
// run on any call the cache or that read does not answer, so it must only
// read and compute. Concurrent first calls all compute and one commits;
// the others return its result.
//
// The price is write capacity: transactional writes cost twice the WCU of
// plain ones. Per record with one effect item of at most 1 KB:
//
//	                        Do: calls  units   Transact: calls  units
//	first call                    3    3 WCU                 1  4 WCU
//	duplicate, predicted          1    1 WCU                 1  1 RCU
//	duplicate, unpredicted        1    1 WCU                 1  ≤4 WCU
//	cached duplicate              0    0                     0  0
//	function fails                2    2 WCU                 0  0
//
// A failed condition of the function's own writes commits nothing and is a
// *ConditionFailedError, retryable unless Tx.ConditionFailed says otherwise;
// writes DynamoDB would refuse (over 100 items with the record, over 4 MB,
// two operations on one item) fail before any call with a permanent
// *InvalidTransactionError. The store must implement TxStore, as both of
// this package's stores do.
//
// # Errors
//
// Errors are made for errors.Is and errors.As, and for pkg/retry, which
// classifies them by method set without importing this package:
// *InProgressError has RetryAt (the lock's expiry); *PayloadMismatchError
// and *ResultTooLargeError are Permanent; a missing key (ErrNoKey) is
// permanent too; *StoreError wraps the SDK's error, or the context's when it
// was done before the first call, and is retryable. Key.Display names a key
// in errors and Result.Key ("order o-17"); the table keeps only its hash. A
// result too large for an item leaves the record COMPLETED without data,
// because the side effect happened and must not happen again.
//
// # Stores
//
// DynamoDBStore is the production Store. MemoryStore has the same semantics
// in process memory for unit tests; a shared test suite holds both to the
// same contract. Store has three methods, so a decorator (a trace
// subsegment per call, say) is a few lines; TxStore adds CommitTx for
// Transact. The memory store does not evaluate DynamoDB expressions: it
// hands a transaction's writes to a TxApplier the test supplies.
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
