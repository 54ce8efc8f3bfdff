package idempotency

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// TxStore is a Store that can write a COMPLETED record and other writes in
// one atomic step: what Transact needs. DynamoDBStore implements it with one
// TransactWriteItems call, MemoryStore under its lock. It is a separate
// interface so that Store stays three methods; a decorator that wants to
// keep Transact working forwards CommitTx and Get too.
type TxStore interface {
	Store

	// CommitTx writes c.Writes and a COMPLETED record for c.KeyHash (owned by
	// c.Owner, holding c.Data until c.Expiry) together, unless a live record
	// holds the key (the condition of Claim, judged at c.Now). Either all
	// of it is written or none.
	//
	// On success it returns (nil, nil). When a live record holds the key it
	// returns that record and a nil error, read in the same round trip. A
	// failed condition of one of c.Writes is a *ConditionFailedError (its
	// Index counts in c.Writes); a concurrent change of one of the items is
	// a *StoreError matching ErrTransactionConflict; a transaction the store
	// refuses before any call (too large, a write on the record's own item)
	// is an *InvalidTransactionError; anything else a *StoreError.
	//
	// An empty c.KeyHash writes c.Writes alone, with no record: the form
	// Config.AllowMissingKey needs.
	CommitTx(ctx context.Context, c TxCommit) (*Record, error)

	// Get reads the record stored under keyHash, expired or not, with a read
	// that sees every commit made before it (DynamoDB: a consistent
	// GetItem). Transact calls it before computing when a duplicate is
	// likely, so that a held key is answered by the cheapest call there is.
	Get(ctx context.Context, keyHash string) (Record, bool, error)
}

// TxCommit is a request to commit writes together with a COMPLETED record.
type TxCommit struct {
	// Key is the stored id; empty for no record.
	KeyHash string
	// Owner is the fresh random token of this call, kept in the record so
	// that a retried commit recognises its own earlier success.
	Owner string
	// Token makes retries of this one request idempotent on the server
	// (DynamoDB's ClientRequestToken, at most 36 characters).
	Token string
	// Now is the time the condition is judged at (the Guard's clock).
	Now time.Time
	// Expiry is when the completed record dies.
	Expiry time.Time
	// Validation is the hex SHA-256 of the payload, empty without one.
	Validation string
	// Data is the JSON result.
	Data []byte
	// Writes are the function's own writes, checked by checkWrites already.
	Writes []types.TransactWriteItem
}
