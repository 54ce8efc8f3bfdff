package idempotency

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
)

// Key identifies one logical request.
type Key struct {
	// ID is the idempotency key: whatever makes two deliveries "the same
	// request" (an order id, a message's business id, a schedule name plus
	// its tick time). Empty means no key: ErrNoKey, or no idempotency at all
	// with Config.AllowMissingKey. It is hashed before it is stored.
	ID string

	// Payload, optional, holds the request fields that must match on a
	// replay, in any stable encoding the caller chooses (say, the JSON of
	// the fields that matter). Its SHA-256 is stored with the record; a later
	// call under the same ID whose payload hashes differently gets
	// ErrPayloadMismatch instead of the stored result. Nil skips the check;
	// the check also passes when either side has no payload hash, so that
	// turning validation on does not reject records written before.
	Payload []byte

	// Display, optional, is how errors, Result.KeyDisplay and handler.Report.KeyDisplay name this key to
	// people: "order o-17", say. It is never stored (the table keeps only
	// the hash of ID), so choose a form that may appear in logs and
	// dead-letter attributes. Empty: errors name the key by its hash.
	Display string
}

// keyName is how an error names a key: its display form, quoted, when the
// caller gave one, else its stored id.
func keyName(display, hash string) string {
	if display != "" {
		return strconv.Quote(display)
	}
	return hash
}

// hashHex returns the lowercase hex SHA-256 of b.
func hashHex(b []byte) string {
	sum := hexSum(b)
	return string(sum[:])
}

// keyHash returns "<prefix><hex sha256 of id>", prefix being "<namespace>#".
// It concatenates the array rather than hashHex's string so that a stored id
// costs one allocation: it is computed for every record.
func keyHash(prefix, id string) string {
	sum := hexSum([]byte(id))
	return prefix + string(sum[:])
}

// hexSum returns the lowercase hex SHA-256 of b, in an array.
func hexSum(b []byte) [2 * sha256.Size]byte {
	sum := sha256.Sum256(b)
	var buf [2 * sha256.Size]byte
	hex.Encode(buf[:], sum[:])
	return buf
}
