package producer

import (
	"errors"
	"fmt"
	"unicode/utf8"
)

// ErrInvalidText is matched by an *InvalidTextError: a body or String
// attribute SQS would alter or refuse, so it was not sent.
var ErrInvalidText = errors.New("producer: text SQS would alter or refuse")

// InvalidTextError says that an entry's body or a String attribute value
// holds something SQS does not take as is: bytes that are not UTF-8 (the
// SDK's JSON encoding sends U+FFFD in their place, SQS stores that, and the
// consumer gets another body) or a character outside the set SQS allows
// (#x9, #xA, #xD, #x20 to #xD7FF, #xE000 to #xFFFD, #x10000 to #x10FFFF),
// which SQS refuses. It is permanent: the same value fails every time.
// Encode binary data (base64) or strip the characters before sending.
type InvalidTextError struct {
	// Entry is the entry's index in the values given to Send or SendBatch.
	Entry int
	// Field is "body" or `attribute "<name>"`.
	Field string
	// Offset is the byte offset of the first offending byte in the field.
	Offset int
	// Rune is the offending character; utf8.RuneError for a byte that is
	// not UTF-8.
	Rune rune
}

// Error names the entry, the field, the byte and what is wrong with it.
func (e *InvalidTextError) Error() string {
	if e.Rune == utf8.RuneError {
		return fmt.Sprintf("producer: entry %d: %s: byte %d is not valid UTF-8 (SQS would store U+FFFD in its place)", e.Entry, e.Field, e.Offset)
	}
	return fmt.Sprintf("producer: entry %d: %s: %U at byte %d is outside the characters SQS allows", e.Entry, e.Field, e.Rune, e.Offset)
}

// Is matches ErrInvalidText.
func (e *InvalidTextError) Is(target error) bool { return target == ErrInvalidText }

// Permanent reports true: pkg/retry classifies it as permanent.
func (e *InvalidTextError) Permanent() bool { return true }

// checkText returns the offset and rune of the first thing in s that SQS
// would alter or refuse, and ok when there is none.
func checkText(s string) (offset int, r rune, ok bool) {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size <= 1 || !sqsAllowed(r) {
			return i, r, false
		}
		i += size
	}
	return 0, 0, true
}

// sqsAllowed reports whether SQS takes r in a message body or attribute
// value (its documented character set, XML's Char less the surrogates).
func sqsAllowed(r rune) bool {
	switch {
	case r == 0x9, r == 0xA, r == 0xD:
		return true
	case r >= 0x20 && r <= 0xD7FF:
		return true
	case r >= 0xE000 && r <= 0xFFFD:
		return true
	default:
		return r >= 0x10000 && r <= 0x10FFFF
	}
}

// AlteredError says that SQS took an entry but answered the checksum of
// another body: the message is in the queue (MessageID) with a body that
// is not the one sent. It is permanent, and the entry is not sent again:
// that would be a second copy, not a retry. It only happens to a body the
// text check let through, which would be a bug here or a change at SQS.
type AlteredError struct {
	// MessageID is the id SQS gave the altered message.
	MessageID string
	// Sent and Stored are the MD5 checksums of the body sent and of the one
	// SQS says it stored.
	Sent, Stored string
}

// Error says the message was sent, altered.
func (e *AlteredError) Error() string {
	return fmt.Sprintf("producer: sent as message %s, but SQS stored another body (MD5 %s, sent %s): not retried, it is in the queue", e.MessageID, e.Stored, e.Sent)
}

// Permanent reports true: retrying would send a second copy.
func (e *AlteredError) Permanent() bool { return true }
