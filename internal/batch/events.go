package batch

import "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

// EventsLimits are PutEvents' limits: ten entries and 1 MiB (1,048,576
// bytes) for the entries of one request together. EventBridge raised the
// limit from 256 KiB on 2026-01-29, with SQS and asynchronous Lambda
// invocations; a bus that still refuses more is the caller's to split.
var EventsLimits = Limits{MaxEntries: DefaultMaxEntries, MaxBytes: EventsMaxBatchBytes}

// EventsMaxBatchBytes is the most bytes EventBridge accepts in one PutEvents
// request, counted as EventSize counts them.
const EventsMaxBatchBytes = 1 << 20

// eventTimeBytes is what a set Time counts for, by EventBridge's rule.
const eventTimeBytes = 14

// EventSize is a PutEvents entry's size by EventBridge's documented rule
// ("Calculating PutEvents event entry size"): 14 bytes when Time is set,
// plus the UTF-8 bytes of Source, DetailType, Detail and each of
// Resources. The bus name and the trace header do not count.
func EventSize(e types.PutEventsRequestEntry) int {
	n := 0
	if e.Time != nil {
		n += eventTimeBytes
	}
	for _, s := range []*string{e.Source, e.DetailType, e.Detail} {
		if s != nil {
			n += len(*s)
		}
	}
	for _, r := range e.Resources {
		n += len(r)
	}
	return n
}
