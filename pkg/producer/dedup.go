package producer

import (
	"crypto/sha256"
	"encoding/hex"
)

// DeduplicationID derives a FIFO deduplication id from an idempotency key
// (an order id, say): the hex SHA-256 of the key, 64 characters, always
// within SQS's 128 characters and its alphabet whatever the key holds. A
// handler that sent, failed and runs again sends the same id, and SQS
// drops the second copy if it arrives within its five-minute
// deduplication window.
func DeduplicationID(idempotencyKey string) string {
	sum := sha256.Sum256([]byte(idempotencyKey))
	return hex.EncodeToString(sum[:])
}
