package latchtest

import (
	"strings"
	"testing"
)

// AssertDeadLettered fails the test unless a dead-letter queue received a
// message with this body (any body when body is empty) whose latch.error
// reason contains reason, and returns the first such message.
func (f *SQS) AssertDeadLettered(t testing.TB, body, reason string) Sent {
	t.Helper()
	dead := f.DeadLettered()
	if s, ok := findSent(dead, body, reason); ok {
		return s
	}
	t.Fatalf("latchtest: no dead-lettered message with body %q and a reason containing %q; dead-lettered: %s", body, reason, describe(dead))
	return Sent{}
}

// AssertNoDeadLetters fails the test if any message went to a dead-letter
// queue, naming them.
func (f *SQS) AssertNoDeadLetters(t testing.TB) {
	t.Helper()
	if dead := f.DeadLettered(); len(dead) > 0 {
		t.Fatalf("latchtest: %d message(s) dead-lettered: %s", len(dead), describe(dead))
	}
}

func findSent(sent []Sent, body, reason string) (Sent, bool) {
	for _, s := range sent {
		if (body == "" || s.Body == body) && strings.Contains(s.Error, reason) {
			return s, true
		}
	}
	return Sent{}, false
}

func describe(sent []Sent) string {
	if len(sent) == 0 {
		return "none"
	}
	var b strings.Builder
	for i, s := range sent {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(s.Body + " (" + s.Class + ": " + s.Error + ")")
	}
	return b.String()
}
