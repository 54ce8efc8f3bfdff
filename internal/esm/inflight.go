package esm

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// VisibilityClient is the call InFlight needs besides Client's: it hands
// held-back messages back to the queue. *sqs.Client satisfies it.
type VisibilityClient interface {
	ChangeMessageVisibilityBatch(ctx context.Context, in *sqs.ChangeMessageVisibilityBatchInput, optFns ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityBatchOutput, error)
}

var _ VisibilityClient = (*sqs.Client)(nil)

// InFlight is a FIFO mapping's memory of the messages it received and has
// not deleted, and it enforces FIFO order with it: a message group whose
// earlier message is still out (in flight, or due back and not yet
// received again) gets none of its later messages.
//
// SQS itself never returns a group's later messages while an earlier one is
// in flight, so against SQS InFlight never intervenes. moto (and
// LocalStack) can: after a function was killed mid-batch, a receive
// returned one record of the killed batch and nine newer ones of the same
// group while four older ones were still invisible, and the ledger recorded
// two customers out of order; and once the killed batch is visible again,
// moto can return its later records (or newer messages) before its first.
// With an InFlight, Poll hands such messages back to the queue until the
// earlier ones have come back, and invokes a group's messages in the order
// they were first received, so FIFO order holds whatever the emulator does.
//
// A message counts as out from its receive until it is deleted or received
// again. One that does not come back within a second visibility timeout
// after it was due (the queue moved it to its dead-letter queue, or another
// consumer took it) is forgotten, so a lost message holds its group back
// for at most that long. One InFlight serves all pollers of one queue.
type InFlight struct {
	// now is the clock; tests set it.
	now func() time.Time

	mu         sync.Mutex
	visibility time.Duration // the queue's, once known
	msgs       map[string]inFlightMsg
	batches    int    // receives admitted so far, numbering batches
	seq        uint64 // first-receive order of messages
}

type inFlightMsg struct {
	group string
	until time.Time // when the queue makes it visible again
	grace time.Duration
	batch int
	seq   uint64
}

// NewInFlight returns an empty InFlight.
func NewInFlight() *InFlight {
	return &InFlight{now: time.Now, msgs: map[string]inFlightMsg{}}
}

// Len is how many messages are out now.
func (f *InFlight) Len() int {
	n, _, _ := f.Stats()
	return n
}

// Due returns when the last message out now becomes visible again; the
// zero time when none is out.
func (f *InFlight) Due() time.Time {
	_, _, due := f.Stats()
	return due
}

// Stats says how many messages are out now (in flight, or due back and
// not received again yet), from how many batches, and when the last of
// them becomes visible again (zero when none is out). A function that
// changed a message's visibility (a retry delay) moves that time; InFlight
// cannot see that and counts from the receive.
func (f *InFlight) Stats() (messages, batches int, due time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.expire(f.now())
	seen := map[int]bool{}
	for _, m := range f.msgs {
		if m.until.After(due) {
			due = m.until
		}
		seen[m.batch] = true
	}
	return len(f.msgs), len(seen), due
}

func (f *InFlight) expire(now time.Time) {
	for id, m := range f.msgs {
		if now.After(m.until.Add(m.grace)) {
			delete(f.msgs, id)
		}
	}
}

// admit splits a receive into the messages to invoke, in the order to
// invoke them, which it records as in flight, and those to hand back
// because an earlier message of their group is out.
func (f *InFlight) admit(msgs []types.Message, visibility time.Duration) (take, hold []types.Message) {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := f.now()
	f.expire(now)
	type cand struct {
		m     types.Message
		seq   uint64
		known bool
	}
	cands := make([]cand, len(msgs))
	inBatch := map[string]bool{}
	for i, m := range msgs {
		id := aws.ToString(m.MessageId)
		inBatch[id] = true
		e, known := f.msgs[id]
		cands[i] = cand{m: m, seq: e.seq, known: known}
		if !known {
			cands[i].seq = math.MaxUint64 // newer than all known; receive order among new ones
		}
	}
	// The earliest message of each group that is out and not in this batch.
	earliest := map[string]uint64{}
	for id, e := range f.msgs {
		if inBatch[id] {
			continue
		}
		if o, ok := earliest[e.group]; !ok || e.seq < o {
			earliest[e.group] = e.seq
		}
	}
	sort.SliceStable(cands, func(i, j int) bool { return cands[i].seq < cands[j].seq })
	f.batches++
	for _, c := range cands {
		g := groupOf(c.m)
		id := aws.ToString(c.m.MessageId)
		if o, ok := earliest[g]; ok && o < c.seq {
			hold = append(hold, c.m)
			if c.known {
				// Handed back: visible again now, and still out.
				e := f.msgs[id]
				e.until = now
				f.msgs[id] = e
			}
			continue
		}
		seq := c.seq
		if !c.known {
			f.seq++
			seq = f.seq
		}
		f.msgs[id] = inFlightMsg{group: g, until: now.Add(visibility), grace: visibility, batch: f.batches, seq: seq}
		take = append(take, c.m)
	}
	return take, hold
}

// done forgets deleted messages.
func (f *InFlight) done(ids []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, id := range ids {
		delete(f.msgs, id)
	}
}

func groupOf(m types.Message) string {
	if g, ok := m.Attributes[string(types.MessageSystemAttributeNameMessageGroupId)]; ok {
		return g
	}
	return aws.ToString(m.MessageId)
}

// queueVisibility is the queue's visibility timeout, asked once.
func (f *InFlight) queueVisibility(ctx context.Context, cfg Config) (time.Duration, error) {
	if cfg.VisibilityTimeout > 0 {
		return cfg.VisibilityTimeout.Truncate(time.Second), nil
	}
	f.mu.Lock()
	v := f.visibility
	f.mu.Unlock()
	if v > 0 {
		return v, nil
	}
	out, err := cfg.Client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl:       aws.String(cfg.QueueURL),
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameVisibilityTimeout},
	})
	if err != nil {
		return 0, fmt.Errorf("esm: visibility timeout of %s: %w", cfg.QueueURL, err)
	}
	secs, err := strconv.Atoi(out.Attributes[string(types.QueueAttributeNameVisibilityTimeout)])
	if err != nil || secs <= 0 {
		secs = 30 // SQS's default
	}
	v = time.Duration(secs) * time.Second
	f.mu.Lock()
	f.visibility = v
	f.mu.Unlock()
	return v, nil
}

// handBack makes held messages visible again at once. Not later: moto
// counts a received message as pending, holding back its whole group, until
// a receive finds it visible, and then delivers the group's last visible
// message first; a message handed back with a delay stays pending, and the
// group's earlier messages would never come first. Run pauses briefly after
// a poll that only held messages back, so an emulator that keeps offering
// them does not make it spin.
func handBack(ctx context.Context, cfg Config, hold []types.Message) error {
	vc, ok := cfg.Client.(VisibilityClient)
	if !ok {
		return fmt.Errorf("esm: Config.Client %T cannot change message visibility, which Config.InFlight needs", cfg.Client)
	}
	for i := 0; i < len(hold); i += MaxReceive {
		in := &sqs.ChangeMessageVisibilityBatchInput{QueueUrl: aws.String(cfg.QueueURL)}
		for j, m := range hold[i:min(i+MaxReceive, len(hold))] {
			in.Entries = append(in.Entries, types.ChangeMessageVisibilityBatchRequestEntry{
				Id: aws.String(strconv.Itoa(j)), ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 0,
			})
		}
		out, err := vc.ChangeMessageVisibilityBatch(ctx, in)
		if err != nil {
			return fmt.Errorf("esm: hand back held messages to %s: %w", cfg.QueueURL, err)
		}
		if len(out.Failed) > 0 {
			return fmt.Errorf("esm: hand back held messages to %s: %s", cfg.QueueURL, aws.ToString(out.Failed[0].Message))
		}
	}
	return nil
}

// hold admits msgs and hands back the held ones.
func (f *InFlight) hold(ctx context.Context, cfg Config, msgs []types.Message) (take, hold []types.Message, err error) {
	vis, err := f.queueVisibility(ctx, cfg)
	if err != nil {
		// The messages are in flight with nobody to invoke them: they
		// come back after the visibility timeout, like any failed batch.
		return nil, msgs, err
	}
	take, hold = f.admit(msgs, vis)
	if len(hold) == 0 {
		return take, nil, nil
	}
	if err := handBack(ctx, cfg, hold); err != nil {
		return take, hold, err
	}
	return take, hold, nil
}
