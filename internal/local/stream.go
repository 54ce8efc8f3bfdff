package local

import (
	"context"
	"fmt"
	"os"
	"sort"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/latchkit/latch/internal/esm"
	"github.com/latchkit/latch/internal/template"
)

// streamMapping is one Kinesis or DynamoDB event source of a function.
type streamMapping struct {
	event string
	kind  string // "Kinesis" or "DynamoDB"
	cfg   esm.StreamConfig
	// onFailure is the URL of the SQS queue of DestinationConfig.OnFailure,
	// "" for none.
	onFailure         string
	reportItemFailure bool
}

// readStreamEvent reads a Kinesis or DynamoDB event's properties (already
// resolved) into a mapping. Settings Lambda applies that the local mapping
// does not are an error, never ignored.
func (s *Stack) readStreamEvent(path, name, kind string, props map[string]any) (streamMapping, bool, error) {
	var unknown []string
	for k := range props {
		switch k {
		case "Stream", "StartingPosition", "BatchSize", "MaximumRetryAttempts", "MaximumRecordAgeInSeconds",
			"BisectBatchOnFunctionError", "DestinationConfig", "FunctionResponseTypes", "Enabled",
			"MaximumBatchingWindowInSeconds", "ParallelizationFactor", "MetricsConfig":
		default:
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return streamMapping{}, false, fmt.Errorf("%s.%s is not supported by latch local", path, unknown[0])
	}
	m := streamMapping{event: name, kind: kind}
	var ok bool
	if m.cfg.StreamARN, ok = template.AsString(props["Stream"]); !ok || m.cfg.StreamARN == "" {
		return m, false, fmt.Errorf("%s.Stream must resolve to a stream ARN", path)
	}
	if m.cfg.StartingPosition, ok = template.AsString(props["StartingPosition"]); !ok ||
		(m.cfg.StartingPosition != esm.TrimHorizon && m.cfg.StartingPosition != esm.Latest) {
		return m, false, fmt.Errorf("%s.StartingPosition must be TRIM_HORIZON or LATEST", path)
	}
	num := func(key string, lo int) (int, bool, error) {
		v, set := props[key]
		if !set {
			return 0, false, nil
		}
		n, ok := template.AsInt(v)
		if !ok || n < lo {
			return 0, false, fmt.Errorf("%s.%s must be a number of at least %d", path, key, lo)
		}
		return n, true, nil
	}
	if n, set, err := num("BatchSize", 1); err != nil {
		return m, false, err
	} else if set {
		m.cfg.BatchSize = n
	}
	if n, set, err := num("MaximumRetryAttempts", -1); err != nil {
		return m, false, err
	} else if set {
		m.cfg.MaximumRetryAttempts = aws.Int(n)
	}
	if n, set, err := num("MaximumRecordAgeInSeconds", -1); err != nil {
		return m, false, err
	} else if set && n > 0 {
		m.cfg.MaximumRecordAge = time.Duration(n) * time.Second
	}
	if _, _, err := num("MaximumBatchingWindowInSeconds", 0); err != nil {
		return m, false, err
	}
	if n, set, err := num("ParallelizationFactor", 1); err != nil {
		return m, false, err
	} else if set && n != 1 {
		return m, false, fmt.Errorf("%s.ParallelizationFactor %d: latch local reads each shard with one reader", path, n)
	}
	if v, set := props["BisectBatchOnFunctionError"]; set {
		if m.cfg.BisectBatchOnFunctionError, ok = template.AsBool(v); !ok {
			return m, false, fmt.Errorf("%s.BisectBatchOnFunctionError must be true or false", path)
		}
	}
	if v, set := props["FunctionResponseTypes"]; set {
		list, _ := template.AsList(v)
		for _, t := range list {
			if ts, _ := template.AsString(t); ts != "ReportBatchItemFailures" {
				return m, false, fmt.Errorf("%s.FunctionResponseTypes: %v is not ReportBatchItemFailures", path, t)
			}
			m.reportItemFailure = true
		}
	}
	if v, set := props["DestinationConfig"]; set {
		dc, _ := template.AsMap(v)
		of, _ := template.AsMap(dc["OnFailure"])
		dest, _ := template.AsString(of["Destination"])
		url, ok := s.queueURL[dest]
		if !ok {
			return m, false, fmt.Errorf("%s.DestinationConfig.OnFailure.Destination %q is not a queue of the template (latch local sends to SQS only)", path, dest)
		}
		m.onFailure = url
	}
	if on, set := props["Enabled"]; set {
		if b, ok := template.AsBool(on); ok && !b {
			return m, false, nil
		}
	}
	return m, true, nil
}

// startStreams starts every Kinesis and DynamoDB event source mapping: a
// reader per shard that invokes the function with each batch and waits
// for it, as Lambda's do.
func (s *Stack) startStreams(ctx context.Context) {
	for _, id := range s.Functions() {
		f := s.funcs[id]
		for _, m := range f.streams {
			cfg := m.cfg
			cfg.FunctionARN = f.arn
			cfg.Logger = s.log.With("function", id, "event", m.event)
			if m.onFailure != "" {
				url := m.onFailure
				cfg.OnFailure = func(ctx context.Context, body []byte) error {
					_, err := s.sqs.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(string(body))})
					return err
				}
			}
			invoke := func(ctx context.Context, event []byte) ([]byte, error) {
				out, err := f.proc.Invoke(ctx, event)
				if err != nil || !m.reportItemFailure {
					// Without ReportBatchItemFailures Lambda reads no answer:
					// the batch succeeds or fails as a whole.
					return nil, err
				}
				return out, nil
			}
			s.log.Info("reading stream", "function", id, "event", m.event, "type", m.kind, "stream", cfg.StreamARN,
				"batch_size", cfg.BatchSize, "bisect", cfg.BisectBatchOnFunctionError, "report_batch_item_failures", m.reportItemFailure)
			s.wg.Go(func() {
				var err error
				if m.kind == "Kinesis" {
					err = esm.RunKinesis(ctx, kinesis.NewFromConfig(s.aws), cfg, invoke)
				} else {
					err = esm.RunDynamoDBStream(ctx, dynamoDBStreams(s.aws), cfg, invoke)
				}
				if err != nil {
					s.log.Error("event source mapping stopped", "function", id, "event", m.event, "error", err)
				}
			})
		}
	}
}

// dynamoDBStreams is a DynamoDB Streams client on the stack's endpoint: its
// own variable, else DynamoDB's, where DynamoDB Local (and a stack started
// before the streams variable existed) serves streams.
func dynamoDBStreams(cfg aws.Config) *dynamodbstreams.Client {
	return dynamodbstreams.NewFromConfig(cfg, func(o *dynamodbstreams.Options) {
		if os.Getenv("AWS_ENDPOINT_URL_DYNAMODB_STREAMS") == "" && os.Getenv("AWS_ENDPOINT_URL") == "" {
			if u := os.Getenv("AWS_ENDPOINT_URL_DYNAMODB"); u != "" {
				o.BaseEndpoint = aws.String(u)
			}
		}
	})
}
