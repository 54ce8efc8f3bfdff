package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/latchkit/latch/internal/dlq"
)

func init() {
	register(&Command{
		Name:  "dlq",
		Short: "inspect and redrive dead-letter queues",
		Long: `Inspects and redrives the dead-letter queues latch's SQS processor writes
to. QUEUE is a queue URL, ARN or name. The AWS SDK's usual configuration
applies: AWS_ENDPOINT_URL_SQS (or AWS_ENDPOINT_URL) points it at the local
emulator. Without an AWS_ENDPOINT_URL* variable the commands refuse to run
unless given --aws.`,
		Subcommands: []*Command{
			{
				Name:  "ls",
				Args:  "QUEUE",
				Short: "list dead-lettered messages with latch's reason",
				Long: `Lists the messages of a dead-letter queue, oldest failure first, with the
reason latch recorded: the message's original id (the id in the queue it
failed in, which the outcome logs show), the error, its class, the attempt,
the source queue and the time. A message dead-lettered more than once is
listed once, with its number of copies: a redelivered message (SQS
delivers at least once) when its function has no SQSConfig.Idempotency,
else only a process that died between the DLQ send and the claim's
completion, or a send on the last attempt while the store was down. Messages stay in the queue: each is received and made visible
again at once (SQS has no other way to read a message, so its receive count
goes up by one). On a FIFO queue a message group shows at most its first ten
messages.`,
				Setup: func(fs *flag.FlagSet) Runner {
					max := fs.Int("max", 0, "list at most this many messages (0: all)")
					asJSON := fs.Bool("json", false, "print one JSON object per message, with body and attributes")
					allowAWS := awsFlag(fs)
					return func(ctx context.Context, env *Env, args []string) error {
						if err := needArgs(args, 1, 1); err != nil {
							return err
						}
						client, url, err := sqsQueue(ctx, env, *allowAWS, args[0])
						if err != nil {
							return err
						}
						l, err := dlq.List(ctx, client, url, *max)
						if err != nil {
							return err
						}
						if *asJSON {
							return printJSON(env.Stdout, l.Messages)
						}
						printTable(env.Stdout, l.Messages)
						fmt.Fprintf(env.Stdout, "%d message(s) in %s\n", len(l.Messages), url)
						if l.Copies > 0 {
							fmt.Fprintf(env.Stdout, "%d extra cop(ies) of listed messages (dead-lettered more than once: see 'latch dlq ls --help'); redrive moves each message once and deletes them\n", l.Copies)
						}
						if l.Hidden > 0 {
							fmt.Fprintf(env.Stderr, "latch: %d more message(s) are behind the listed ones in their FIFO groups\n", l.Hidden)
						}
						return nil
					}
				},
			},
			{
				Name:  "redrive",
				Args:  "QUEUE",
				Short: "move dead-lettered messages back to their source queue",
				Long: `Moves the messages of a dead-letter queue back to the queue each came from
(latch's source-queue attribute, or SQS's DeadLetterQueueSourceArn), or to
the queue given with --to. A message is deleted from the dead-letter queue
only after its destination accepted it, so none is lost; latch's reason
attributes are dropped on the way back. A message that cannot be moved stays
in the dead-letter queue and makes the command exit non-zero.

Each message that was in the queue when the command started moves once:
extra copies of one original message are deleted after it moved, and a
message the consumer dead-letters again while the redrive runs stays in
the queue, so the command ends and never makes copies. --id and --class
pick messages by original (or dead-letter) id and by error class.`,
				Setup: func(fs *flag.FlagSet) Runner {
					to := fs.String("to", "", "move every message to this queue (URL, ARN or name) instead of its source")
					max := fs.Int("max", 0, "move at most this many messages (0: all)")
					dry := fs.Bool("dry-run", false, "show where each message would go; move nothing")
					var ids idFlags
					fs.Var(&ids, "id", "move only the message with this original or dead-letter `ID` (repeatable, or comma-separated)")
					class := fs.String("class", "", "move only messages latch dead-lettered with this error class (permanent, retryable, ...)")
					allowAWS := awsFlag(fs)
					return func(ctx context.Context, env *Env, args []string) error {
						if err := needArgs(args, 1, 1); err != nil {
							return err
						}
						client, url, err := sqsQueue(ctx, env, *allowAWS, args[0])
						if err != nil {
							return err
						}
						res, err := dlq.Redrive(ctx, client, url, dlq.RedriveOptions{To: *to, Max: *max, DryRun: *dry, IDs: ids, Class: *class})
						if res != nil {
							printRedrive(env, url, res, *dry)
						}
						if err != nil {
							return err
						}
						return res.Err()
					}
				},
			},
		},
	})
}

// sqsQueue makes an SQS client from the SDK's default configuration
// (refusing real AWS unless allowAWS) and resolves the queue.
func sqsQueue(ctx context.Context, env *Env, allowAWS bool, queue string) (*sqs.Client, string, error) {
	s, err := discover(env, allowAWS, sessionFilter{})
	if err != nil {
		return nil, "", err
	}
	if name, ok := s.queue(queue); ok {
		queue = name
	}
	cfg, err := awsConfig(ctx, env, allowAWS)
	if err != nil {
		return nil, "", err
	}
	client := sqs.NewFromConfig(cfg)
	url, err := dlq.QueueURL(ctx, client, queue)
	if err != nil {
		return nil, "", err
	}
	return client, url, nil
}

func queueName(arnOrURL string) string {
	if a, err := arn.Parse(arnOrURL); err == nil {
		return a.Resource
	}
	if i := strings.LastIndex(arnOrURL, "/"); i >= 0 {
		return arnOrURL[i+1:]
	}
	return arnOrURL
}

// oneLine keeps a table cell on one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

func printTable(w io.Writer, msgs []dlq.Message) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ORIGINAL ID\tFAILED AT\tCLASS\tATTEMPT\tSOURCE\tCOPIES\tERROR")
	for _, m := range msgs {
		at, class, attempt, source, reason := "-", "-", "-", "-", "(no latch reason: moved by the queue's own redrive, or sent directly)"
		if !m.FailedAt.IsZero() {
			at = m.FailedAt.UTC().Format(time.RFC3339)
		} else if !m.SentAt.IsZero() {
			at = m.SentAt.UTC().Format(time.RFC3339)
		}
		if m.ByLatch() {
			class, reason = m.ErrorClass, oneLine(m.Error)
			if m.Attempts > 0 {
				attempt = fmt.Sprint(m.Attempts)
			}
		}
		if m.SourceQueue != "" {
			source = queueName(m.SourceQueue)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\n", m.SourceID, at, class, attempt, source, 1+len(m.CopyIDs), reason)
	}
	tw.Flush()
}

// jsonMessage is the --json shape of a message.
type jsonMessage struct {
	ID          string            `json:"id"`
	SourceID    string            `json:"source_message_id"`
	CopyIDs     []string          `json:"copy_ids,omitempty"`
	Body        string            `json:"body"`
	GroupID     string            `json:"group_id,omitempty"`
	SentAt      *time.Time        `json:"sent_at,omitempty"`
	Error       string            `json:"error,omitempty"`
	ErrorClass  string            `json:"error_class,omitempty"`
	Attempt     int               `json:"attempt,omitempty"`
	SourceQueue string            `json:"source_queue,omitempty"`
	FailedAt    *time.Time        `json:"failed_at,omitempty"`
	Attributes  map[string]string `json:"attributes,omitempty"`
}

func printJSON(w io.Writer, msgs []dlq.Message) error {
	enc := json.NewEncoder(w)
	for _, m := range msgs {
		j := jsonMessage{ID: m.ID, SourceID: m.SourceID, CopyIDs: m.CopyIDs, Body: m.Body, GroupID: m.GroupID, Error: m.Error, ErrorClass: m.ErrorClass,
			Attempt: m.Attempts, SourceQueue: m.SourceQueue}
		if !m.SentAt.IsZero() {
			j.SentAt = &m.SentAt
		}
		if !m.FailedAt.IsZero() {
			j.FailedAt = &m.FailedAt
		}
		for k, v := range m.Attributes {
			if j.Attributes == nil {
				j.Attributes = map[string]string{}
			}
			if v.StringValue != nil {
				j.Attributes[k] = aws.ToString(v.StringValue)
			} else {
				j.Attributes[k] = fmt.Sprintf("(%s, %d bytes)", aws.ToString(v.DataType), len(v.BinaryValue))
			}
		}
		if err := enc.Encode(j); err != nil {
			return err
		}
	}
	return nil
}

func printRedrive(env *Env, from string, res *dlq.RedriveResult, dry bool) {
	counts := map[string]int{}
	for _, m := range res.Moved {
		if dry {
			fmt.Fprintf(env.Stdout, "would move %s to %s\n", m.Message.SourceID, m.To)
		}
		counts[m.To]++
	}
	dests := make([]string, 0, len(counts))
	for d := range counts {
		dests = append(dests, d)
	}
	sort.Strings(dests)
	verb := "moved"
	if dry {
		verb = "would move"
	}
	for _, d := range dests {
		fmt.Fprintf(env.Stdout, "%s %d message(s) from %s to %s\n", verb, counts[d], queueName(from), d)
	}
	if n := len(res.Copies); n > 0 {
		verb := "deleted"
		if dry {
			verb = "would delete"
		}
		fmt.Fprintf(env.Stdout, "%s %d extra cop(ies) of moved messages\n", verb, n)
	}
	if res.Skipped > 0 {
		fmt.Fprintf(env.Stdout, "left %d message(s) that --id/--class did not pick\n", res.Skipped)
	}
	if res.Returned > 0 {
		fmt.Fprintf(env.Stdout, "%d moved message(s) failed again and are back in %s; they stay there\n", res.Returned, queueName(from))
	}
	if len(res.Moved) == 0 && len(res.Failed) == 0 && res.Skipped == 0 {
		fmt.Fprintf(env.Stdout, "no messages in %s\n", from)
	}
	for _, f := range res.Failed {
		fmt.Fprintf(env.Stderr, "latch: not moved: %s: %v\n", f.Message.SourceID, f.Err)
	}
}

// idFlags collects --id values, repeated or comma-separated.
type idFlags []string

func (f *idFlags) String() string { return strings.Join(*f, ",") }

func (f *idFlags) Set(s string) error {
	for _, id := range strings.Split(s, ",") {
		if id = strings.TrimSpace(id); id != "" {
			*f = append(*f, id)
		}
	}
	return nil
}
