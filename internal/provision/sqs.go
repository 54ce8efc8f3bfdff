package provision

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/latchkit/latch/internal/template"
)

// queueSpec is a queue as the template declares it.
type queueSpec struct {
	name  string
	attrs map[string]string // SQS attribute name → value
	tags  map[string]string
}

// queueAttrs maps the CloudFormation properties that are plain SQS
// attributes to the attribute names.
var queueAttrs = []struct {
	prop, attr string
	kind       byte // 'i' integer, 'b' boolean, 's' string
}{
	{"VisibilityTimeout", "VisibilityTimeout", 'i'},
	{"MessageRetentionPeriod", "MessageRetentionPeriod", 'i'},
	{"DelaySeconds", "DelaySeconds", 'i'},
	{"MaximumMessageSize", "MaximumMessageSize", 'i'},
	{"ReceiveMessageWaitTimeSeconds", "ReceiveMessageWaitTimeSeconds", 'i'},
	{"ContentBasedDeduplication", "ContentBasedDeduplication", 'b'},
	{"DeduplicationScope", "DeduplicationScope", 's'},
	{"FifoThroughputLimit", "FifoThroughputLimit", 's'},
}

func readQueue(rs *template.Resource, r *template.Resolver, notes *[]Note) (queueSpec, error) {
	p := newProps(rs, r, nil, notes)
	spec := queueSpec{attrs: map[string]string{}}
	fifo, _, err := p.bool("FifoQueue")
	if err != nil {
		return spec, err
	}
	name, named, err := p.str("QueueName")
	if err != nil {
		return spec, err
	}
	if !named {
		suffix := ""
		if fifo {
			suffix = ".fifo"
		}
		name = physicalName(r.Pseudo().StackName, rs.LogicalID, suffix, 80)
	}
	if fifo != strings.HasSuffix(name, ".fifo") {
		return spec, p.errorf("QueueName", "a FIFO queue's name ends in .fifo, and only a FIFO queue's (%q)", name)
	}
	spec.name = name
	if fifo {
		spec.attrs["FifoQueue"] = "true"
	}
	for _, a := range queueAttrs {
		var v string
		var ok bool
		switch a.kind {
		case 'i':
			var n int
			n, ok, err = p.int(a.prop)
			v = strconv.Itoa(n)
		case 'b':
			var b bool
			b, ok, err = p.bool(a.prop)
			v = strconv.FormatBool(b)
		default:
			v, ok, err = p.str(a.prop)
		}
		if err != nil {
			return spec, err
		}
		if ok {
			spec.attrs[a.attr] = v
		}
	}
	if policy, ok, err := p.get("RedrivePolicy"); err != nil {
		return spec, err
	} else if ok {
		doc, err := redrivePolicy(policy)
		if err != nil {
			return spec, p.errorf("RedrivePolicy", "%v", err)
		}
		spec.attrs["RedrivePolicy"] = doc
	}
	if doc, ok, err := p.jsonDoc("RedriveAllowPolicy"); err != nil {
		return spec, err
	} else if ok {
		spec.attrs["RedriveAllowPolicy"] = doc
	}
	if sse, ok, err := p.bool("SqsManagedSseEnabled"); err != nil {
		return spec, err
	} else if ok {
		*notes = append(*notes, Note{LogicalID: rs.LogicalID, Property: "SqsManagedSseEnabled", Reason: fmt.Sprintf("SQS-managed encryption (%v) is not applied by the emulator", sse)})
	}
	p.notApplied("no KMS locally: messages are stored unencrypted", "KmsMasterKeyId", "KmsDataKeyReusePeriodSeconds")
	if spec.tags, err = p.tags("Tags"); err != nil {
		return spec, err
	}
	return spec, p.done()
}

// redrivePolicy normalises a RedrivePolicy, given as an object or a JSON
// string, to the JSON SQS stores: {"deadLetterTargetArn": ..., "maxReceiveCount": N}.
func redrivePolicy(v any) (string, error) {
	var m map[string]any
	switch x := v.(type) {
	case map[string]any:
		m = x
	case string:
		if err := json.Unmarshal([]byte(x), &m); err != nil {
			return "", fmt.Errorf("not a JSON object: %v", err)
		}
	default:
		return "", fmt.Errorf("must be an object")
	}
	arn, ok := m["deadLetterTargetArn"].(string)
	if !ok || arn == "" {
		return "", fmt.Errorf("deadLetterTargetArn is missing")
	}
	n, ok := template.AsInt(m["maxReceiveCount"])
	if !ok || n < 1 || n > 1000 {
		return "", fmt.Errorf("maxReceiveCount must be an integer 1-1000, not %v", m["maxReceiveCount"])
	}
	for k := range m {
		if k != "deadLetterTargetArn" && k != "maxReceiveCount" {
			return "", fmt.Errorf("unknown key %q", k)
		}
	}
	b, err := json.Marshal(map[string]any{"deadLetterTargetArn": arn, "maxReceiveCount": n})
	return string(b), err
}

func (p *Provisioner) queue(ctx context.Context, rs *template.Resource, r *template.Resolver, res *Result) (Resource, error) {
	spec, err := readQueue(rs, r, &res.Notes)
	if err != nil {
		return Resource{}, err
	}
	out := Resource{LogicalID: rs.LogicalID, Type: rs.Type, Name: spec.name}
	url, err := p.queueURL(ctx, spec.name)
	if err != nil {
		return out, err
	}
	if url == "" {
		created, err := p.SQS.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(spec.name), Attributes: spec.attrs, Tags: spec.tags})
		if err != nil {
			return out, fmt.Errorf("create queue %s: %w", spec.name, err)
		}
		url, out.Action = aws.ToString(created.QueueUrl), Created
	} else {
		if out.Action, err = p.updateQueue(ctx, url, spec); err != nil {
			return out, err
		}
	}
	got, err := p.SQS.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(url), AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameQueueArn},
	})
	if err != nil {
		return out, fmt.Errorf("queue %s: %w", spec.name, err)
	}
	arn := got.Attributes[string(types.QueueAttributeNameQueueArn)]
	out.Physical = template.Physical{Ref: url, Attrs: map[string]string{"Arn": arn, "QueueName": spec.name, "QueueUrl": url}}
	return out, nil
}

// queueURL returns the URL of the named queue, or "" when it does not exist.
func (p *Provisioner) queueURL(ctx context.Context, name string) (string, error) {
	out, err := p.SQS.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(name)})
	var missing *types.QueueDoesNotExist
	switch {
	case errors.As(err, &missing):
		return "", nil
	case err != nil:
		return "", fmt.Errorf("look up queue %s: %w", name, err)
	}
	return aws.ToString(out.QueueUrl), nil
}

// updateQueue brings an existing queue's attributes in line with spec.
func (p *Provisioner) updateQueue(ctx context.Context, url string, spec queueSpec) (Action, error) {
	cur, err := p.SQS.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(url), AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameAll},
	})
	if err != nil {
		return "", fmt.Errorf("queue %s: %w", spec.name, err)
	}
	changed := map[string]string{}
	var names []string
	for k, want := range spec.attrs {
		if k == "FifoQueue" {
			continue // part of the name: it cannot differ
		}
		if !sameAttr(k, cur.Attributes[k], want) {
			changed[k] = want
			names = append(names, k)
		}
	}
	if len(changed) == 0 {
		return Unchanged, nil
	}
	sort.Strings(names)
	if _, err := p.SQS.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: aws.String(url), Attributes: changed}); err != nil {
		return "", fmt.Errorf("update queue %s (%s): %w", spec.name, strings.Join(names, ", "), err)
	}
	return Updated, nil
}

// sameAttr compares attribute values as SQS means them: policies as JSON
// (key order and number formatting aside), booleans case-insensitively.
func sameAttr(name, have, want string) bool {
	if have == want {
		return true
	}
	switch name {
	case "RedrivePolicy", "RedriveAllowPolicy":
		var a, b any
		if json.Unmarshal([]byte(have), &a) != nil || json.Unmarshal([]byte(want), &b) != nil {
			return false
		}
		return fmt.Sprint(normalise(a)) == fmt.Sprint(normalise(b))
	case "ContentBasedDeduplication", "FifoQueue":
		return strings.EqualFold(have, want)
	}
	return false
}

// normalise turns numbers held as strings into numbers so that
// {"maxReceiveCount":"5"} equals {"maxReceiveCount":5}.
func normalise(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = normalise(e)
		}
		return out
	case string:
		if f, err := strconv.ParseFloat(x, 64); err == nil {
			return f
		}
	}
	return v
}
