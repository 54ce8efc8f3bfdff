package emulator

import (
	"os"
	"testing"
)

// BackendVar is the environment variable naming the emulator backend the
// endpoints point at; `latch emulators env` and `latch emulators exec` set
// it.
const BackendVar = "LATCH_BACKEND"

// Backend returns the emulator backend of the environment: "default"
// (DynamoDB Local + moto), "localstack", or "" when LATCH_BACKEND is unset
// (real AWS, or endpoints set by hand).
func Backend() string { return os.Getenv(BackendVar) }

// Gap is a known way in which an emulator backend differs from AWS that a
// test cannot work around. Each has a test of its own that asserts the gap
// is still there, so that an emulator that fixes it is noticed and the
// skips go.
type Gap struct {
	// Name is the Gap's Go name, for the skip message.
	Name string
	// Backend is the backend that has it.
	Backend string
	// What says what the emulator does wrong.
	What string
}

// The known gaps.
var (
	// GapFIFOInFlight: LocalStack 4.14 hands out a FIFO message group's
	// later messages while an earlier one of the group is still in flight
	// (received, not yet deleted or visible again); SQS holds the group
	// back until it is settled.
	GapFIFOInFlight = Gap{
		Name: "GapFIFOInFlight", Backend: "localstack",
		What: "LocalStack 4.14 returns a FIFO group's later messages while an earlier one is still in flight",
	}
	// GapStreamARN: DynamoDB Local 3.3 names a table's stream
	// arn:aws:dynamodb:ddblocal:000000000000:table/..., whatever the
	// client's region and account, and so do the stream records' event
	// source ARNs the local mapping delivers; AWS uses the table's region
	// and account. Code that reads a region or account from
	// eventSourceARN gets "ddblocal" locally.
	GapStreamARN = Gap{
		Name: "GapStreamARN", Backend: "default",
		What: "DynamoDB Local 3.3 puts region ddblocal and account 000000000000 in a table's stream ARN",
	}
	// GapKinesisSequenceNumbers: moto 5.2's Kinesis numbers a shard's
	// records 1, 2, 3, ...; AWS's sequence numbers are 56-digit decimal
	// strings. Both rise, so order and restarts at a reported sequence
	// number work (latch compares them for equality only), but code that
	// orders them as fixed-width strings ("10" < "9") breaks locally.
	GapKinesisSequenceNumbers = Gap{
		Name: "GapKinesisSequenceNumbers", Backend: "default",
		What: "moto 5.2's Kinesis sequence numbers are short counters, not 56-digit numbers",
	}
	// GapEventBridge256KiB: LocalStack 4.14 refuses a PutEvents request
	// over 256 KiB (ValidationException), EventBridge's limit before it
	// rose to 1 MiB on 2026-01-29.
	GapEventBridge256KiB = Gap{
		Name: "GapEventBridge256KiB", Backend: "localstack",
		What: "LocalStack 4.14 refuses PutEvents entries over 256 KiB; EventBridge takes 1 MiB",
	}
)

// Present reports whether the environment's backend has the gap.
func (g Gap) Present() bool { return Backend() == g.Backend }

// SkipOnGap skips the test when the environment's backend has the gap,
// naming it; elsewhere the test runs.
func SkipOnGap(t testing.TB, g Gap) {
	t.Helper()
	if g.Present() {
		t.Skipf("emulator: skipped on the %s backend, known emulator gap %s: %s", g.Backend, g.Name, g.What)
	}
}
