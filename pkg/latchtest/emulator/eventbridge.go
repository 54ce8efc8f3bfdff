package emulator

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// Bus names a created event bus.
type Bus struct {
	Name string
	ARN  string
}

// Bus creates a uniquely named custom event bus, deleted at cleanup after
// its rules.
func (e *Env) Bus(t testing.TB) Bus {
	t.Helper()
	name := UniqueName(t, "bus")
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	out, err := e.EventBridge.CreateEventBus(ctx, &eventbridge.CreateEventBusInput{Name: aws.String(name)})
	if err != nil {
		t.Fatalf("emulator: create bus %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := cleanupCtx()
		defer cancel()
		if _, err := e.EventBridge.DeleteEventBus(ctx, &eventbridge.DeleteEventBusInput{Name: aws.String(name)}); err != nil {
			t.Logf("emulator: delete bus %s: %v", name, err)
		}
	})
	return Bus{Name: name, ARN: aws.ToString(out.EventBusArn)}
}

// RuleToQueue creates a rule on bus with the event pattern and one SQS
// target, the queue (its ARN, URL or name: a Queue's, or one a template
// created), and returns the rule's name. For a FIFO queue, groupID is the
// target's MessageGroupId; EventBridge rule targets take a literal group id
// (unlike Pipes, they cannot read it from the event). The rule and its
// target are removed at cleanup.
func (e *Env) RuleToQueue(t testing.TB, bus, pattern, queue, groupID string) string {
	t.Helper()
	name := UniqueName(t, "rule")
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	queueARN, err := e.queueARN(ctx, queue)
	if err != nil {
		t.Fatalf("emulator: rule target %s: %v", queue, err)
	}
	if _, err := e.EventBridge.PutRule(ctx, &eventbridge.PutRuleInput{
		Name:         aws.String(name),
		EventBusName: aws.String(bus),
		EventPattern: aws.String(pattern),
		State:        types.RuleStateEnabled,
	}); err != nil {
		t.Fatalf("emulator: put rule %s: %v", name, err)
	}
	target := types.Target{Id: aws.String("queue"), Arn: aws.String(queueARN)}
	if groupID != "" {
		target.SqsParameters = &types.SqsParameters{MessageGroupId: aws.String(groupID)}
	}
	if _, err := e.EventBridge.PutTargets(ctx, &eventbridge.PutTargetsInput{
		Rule:         aws.String(name),
		EventBusName: aws.String(bus),
		Targets:      []types.Target{target},
	}); err != nil {
		t.Fatalf("emulator: put target on %s: %v", name, err)
	}
	// Cleanups run last-in first-out, so this runs before the bus is deleted.
	t.Cleanup(func() {
		ctx, cancel := cleanupCtx()
		defer cancel()
		if _, err := e.EventBridge.RemoveTargets(ctx, &eventbridge.RemoveTargetsInput{
			Rule: aws.String(name), EventBusName: aws.String(bus), Ids: []string{"queue"},
		}); err != nil {
			t.Logf("emulator: remove targets of %s: %v", name, err)
		}
		if _, err := e.EventBridge.DeleteRule(ctx, &eventbridge.DeleteRuleInput{Name: aws.String(name), EventBusName: aws.String(bus)}); err != nil {
			t.Logf("emulator: delete rule %s: %v", name, err)
		}
	})
	return name
}

// queueARN resolves a queue's ARN, URL or name to its ARN.
func (e *Env) queueARN(ctx context.Context, queue string) (string, error) {
	if strings.HasPrefix(queue, "arn:") {
		return queue, nil
	}
	url := queue
	if !strings.Contains(queue, "://") {
		out, err := e.SQS.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(queue)})
		if err != nil {
			return "", err
		}
		url = aws.ToString(out.QueueUrl)
	}
	out, err := e.SQS.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(url), AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn},
	})
	if err != nil {
		return "", err
	}
	return out.Attributes[string(sqstypes.QueueAttributeNameQueueArn)], nil
}
