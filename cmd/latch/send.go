package main

import (
	"context"
	"encoding/base64"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// attrFlags collects repeated --attr flags into SQS message attributes.
type attrFlags map[string]types.MessageAttributeValue

func (a attrFlags) String() string {
	names := make([]string, 0, len(a))
	for k := range a {
		names = append(names, k)
	}
	sort.Strings(names)
	return strings.Join(names, ",")
}

// Set parses NAME=VALUE (a String attribute) or NAME:TYPE=VALUE, TYPE one
// of SQS's String, Number or Binary (VALUE in base64), optionally with a
// custom suffix such as Number.int.
func (a attrFlags) Set(s string) error {
	key, value, ok := strings.Cut(s, "=")
	if !ok || key == "" {
		return fmt.Errorf("want NAME=VALUE or NAME:TYPE=VALUE, got %q", s)
	}
	name, typ, typed := strings.Cut(key, ":")
	if !typed {
		typ = "String"
	}
	if name == "" {
		return fmt.Errorf("attribute %q has no name", s)
	}
	v := types.MessageAttributeValue{DataType: aws.String(typ)}
	base, _, _ := strings.Cut(typ, ".")
	switch base {
	case "String", "Number":
		if value == "" {
			return fmt.Errorf("attribute %s: SQS refuses an empty value", name)
		}
		v.StringValue = aws.String(value)
	case "Binary":
		b, err := base64.StdEncoding.DecodeString(value)
		if err != nil {
			return fmt.Errorf("attribute %s: Binary values are base64: %v", name, err)
		}
		v.BinaryValue = b
	default:
		return fmt.Errorf("attribute %s: type %q is not String, Number or Binary", name, typ)
	}
	a[name] = v
	return nil
}

func init() {
	register(&Command{
		Name:  "send",
		Args:  "QUEUE [BODY | @FILE | -]",
		Short: "send one message to a queue",
		Long: `Sends one message to an SQS queue (a URL, ARN or name) and prints its
message id. The body is the argument, the contents of FILE when the
argument is @FILE, or standard input when it is - or missing. A FIFO queue
needs --group; its deduplication id is --dedup-id, or the queue's
content-based deduplication when it has it.

Examples:
  latch send orders '{"id":"o-17","amount_cents":1200}'
  latch send orders @order.json --attr tenant=acme --attr priority:Number=3
  latch send ledger.fifo --group customer-7 --dedup-id o-17 < event.json`,
		Setup: func(fs *flag.FlagSet) Runner {
			attrs := attrFlags{}
			fs.Var(attrs, "attr", "message attribute `NAME=VALUE` or NAME:TYPE=VALUE (String, Number, Binary as base64; repeatable)")
			group := fs.String("group", "", "FIFO message group id")
			dedup := fs.String("dedup-id", "", "FIFO deduplication id")
			allowAWS := awsFlag(fs)
			return func(ctx context.Context, env *Env, args []string) error {
				if err := needArgs(args, 1, 2); err != nil {
					return err
				}
				fifo := strings.HasSuffix(args[0], ".fifo")
				switch {
				case fifo && *group == "":
					return usagef("%s is a FIFO queue: --group is required", args[0])
				case !fifo && (*group != "" || *dedup != ""):
					return usagef("--group and --dedup-id are for FIFO queues (names ending in .fifo)")
				}
				body, err := readBody(env, args[1:])
				if err != nil {
					return err
				}
				client, url, err := sqsQueue(ctx, env, *allowAWS, args[0])
				if err != nil {
					return err
				}
				in := &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(body)}
				if len(attrs) > 0 {
					in.MessageAttributes = attrs
				}
				if *group != "" {
					in.MessageGroupId = aws.String(*group)
				}
				if *dedup != "" {
					in.MessageDeduplicationId = aws.String(*dedup)
				}
				out, err := client.SendMessage(ctx, in)
				if err != nil {
					return fmt.Errorf("send to %s: %w", url, err)
				}
				fmt.Fprintln(env.Stdout, aws.ToString(out.MessageId))
				return nil
			}
		},
	})
}

// maxBody is SQS's message size limit (body and attributes together).
const maxBody = 1 << 20

// readBody takes the body from the argument, @FILE, or stdin.
func readBody(env *Env, args []string) (string, error) {
	var (
		b   []byte
		err error
		src = "the argument"
	)
	switch {
	case len(args) == 0 || args[0] == "-":
		src = "standard input"
		if env.Stdin == nil {
			return "", usagef("no body: give it as an argument, @FILE, or on standard input")
		}
		b, err = io.ReadAll(io.LimitReader(env.Stdin, maxBody+1))
	case strings.HasPrefix(args[0], "@"):
		src = args[0][1:]
		b, err = os.ReadFile(src)
	default:
		b = []byte(args[0])
	}
	if err != nil {
		return "", fmt.Errorf("read the body: %w", err)
	}
	switch {
	case len(b) == 0:
		return "", fmt.Errorf("the body from %s is empty, and SQS refuses an empty message", src)
	case len(b) > maxBody:
		return "", fmt.Errorf("the body from %s is over SQS's limit of %d bytes", src, maxBody)
	}
	return string(b), nil
}
