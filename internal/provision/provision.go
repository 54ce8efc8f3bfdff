package provision

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/latchkit/latch/internal/template"
)

// Provisioner creates a template's tables, queues, buses and rules through
// the SDK clients it holds — on the local emulators when the SDK's
// AWS_ENDPOINT_URL_* variables point there.
type Provisioner struct {
	DynamoDB    *dynamodb.Client
	SQS         *sqs.Client
	EventBridge *eventbridge.Client
}

// New returns a Provisioner with clients made from cfg, as loaded by
// config.LoadDefaultConfig.
func New(cfg aws.Config) *Provisioner {
	return &Provisioner{
		DynamoDB: dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
			// DynamoDB Local's 4xx answers carry no checksum the SDK accepts.
			o.DisableValidateResponseChecksum = true
		}),
		SQS:         sqs.NewFromConfig(cfg),
		EventBridge: eventbridge.NewFromConfig(cfg),
	}
}

// Action says what provisioning did to a resource.
type Action string

// Actions.
const (
	Created   Action = "created"
	Updated   Action = "updated"
	Unchanged Action = "unchanged"
)

// Resource is a resource latch provisioned.
type Resource struct {
	LogicalID string
	Type      string
	// Name is the physical name: a queue's name, a table's, a bus's, a rule's.
	Name string
	// Physical is what Ref and Fn::GetAtt return for it.
	Physical template.Physical
	Action   Action
}

// Skipped is a resource latch does not create on the emulators.
type Skipped struct {
	LogicalID string
	Type      string
	Reason    string
}

// Note is a property latch read but does not apply locally, such as a KMS
// key or point-in-time recovery.
type Note struct {
	LogicalID string
	Property  string
	Reason    string
}

// Rule is an EventBridge rule latch created, with what the local runner
// needs to act for EventBridge: the emulator never fires schedules and
// cannot deliver to functions, so those targets are listed here instead.
type Rule struct {
	// LogicalID is the rule's logical id; for a rule SAM makes from a
	// function's event, the function's id followed by the event's name.
	LogicalID string
	Name      string
	ARN       string
	// Bus is the event bus name.
	Bus                string
	ScheduleExpression string
	EventPattern       string
	Enabled            bool
	// Functions are the rule's targets that are functions of the template.
	Functions []FunctionTarget
}

// FunctionTarget is a rule target that is a function of the template.
type FunctionTarget struct {
	// Function is the function's logical id.
	Function string
	// ID is the target's id.
	ID string
	// Input, when set, is the constant JSON the target receives instead of
	// the event.
	Input string
	// InputPath, when set, selects the part of the event the target receives.
	InputPath string
}

// Result is what Provision did.
type Result struct {
	// Resolver evaluates the template's intrinsics against the created
	// resources; the local runner adds its functions to it.
	Resolver *template.Resolver
	// Resources are the created (or found) resources, in creation order.
	Resources []Resource
	// Physical maps each provisioned logical id to its Ref/GetAtt values.
	Physical map[string]template.Physical
	Rules    []Rule
	Skipped  []Skipped
	Notes    []Note
}

// Resource returns the provisioned resource with the logical id.
func (r *Result) Resource(logicalID string) (Resource, bool) {
	for _, res := range r.Resources {
		if res.LogicalID == logicalID {
			return res, true
		}
	}
	return Resource{}, false
}

// provisioned are the resource types latch creates.
var provisioned = map[string]bool{
	template.TypeDynamoDBTable: true,
	template.TypeSimpleTable:   true,
	template.TypeSQSQueue:      true,
	template.TypeEventBus:      true,
	template.TypeEventRule:     true,
}

// notProvisioned explains the types latch knowingly leaves alone.
var notProvisioned = map[string]string{
	template.TypeServerlessFunction:       "run by latch local",
	template.TypeLambdaFunction:           "run by latch local",
	"AWS::Lambda::EventSourceMapping":     "polled by latch local",
	"AWS::Lambda::EventInvokeConfig":      "applied by latch local",
	"AWS::Lambda::Permission":             "no permissions locally",
	"AWS::IAM::Role":                      "no IAM locally",
	"AWS::IAM::Policy":                    "no IAM locally",
	"AWS::IAM::ManagedPolicy":             "no IAM locally",
	"AWS::SQS::QueuePolicy":               "no resource policies locally",
	"AWS::Events::EventBusPolicy":         "no resource policies locally",
	"AWS::Logs::LogGroup":                 "logs go to the terminal locally",
	"AWS::CloudWatch::Alarm":              "no CloudWatch locally",
	"AWS::KMS::Key":                       "no KMS locally",
	"AWS::KMS::Alias":                     "no KMS locally",
	"AWS::SNS::Topic":                     "no SNS locally",
	"AWS::SNS::Subscription":              "no SNS locally",
	"AWS::Serverless::Api":                "no API Gateway locally",
	"AWS::Serverless::HttpApi":            "no API Gateway locally",
	"AWS::Serverless::LayerVersion":       "layers are built into the function locally",
	"AWS::Serverless::Application":        "nested applications are not run locally",
	"AWS::Serverless::CapacityProvider":   "latch local runs the processes of a function on a capacity provider itself",
	"AWS::Lambda::CapacityProvider":       "latch local runs the processes of a function on a capacity provider itself",
	"AWS::CloudFormation::WaitCondition":  "no CloudFormation locally",
	"AWS::CloudFormation::CustomResource": "custom resources are not run locally",
}

// ruleEventTypes are the SAM function event types that make a rule.
var ruleEventTypes = map[string]bool{"Schedule": true, "EventBridgeRule": true, "CloudWatchEvent": true}

// Provision creates on the emulators what t declares: DynamoDB tables (and
// SAM simple tables) with their keys, indexes and TTL; SQS queues with
// their redrive policies; custom event buses; rules with their patterns or
// schedules and SQS targets (MessageGroupId included); and the rules SAM
// makes from functions' Schedule and EventBridgeRule events. It is
// idempotent: what exists is brought in line with the template, never
// deleted. Physical names come from the template where it sets them, and
// are otherwise <stack>-<LogicalId>, the stack name being r's
// AWS::StackName.
//
// r carries parameter values and pseudo parameters; Provision records each
// resource's physical values in it as it goes and returns it in the Result.
func (p *Provisioner) Provision(ctx context.Context, t *template.Template, r *template.Resolver) (*Result, error) {
	if !validStackName.MatchString(r.Pseudo().StackName) {
		return nil, fmt.Errorf("provision: stack name %q: letters, digits and dashes, starting with a letter", r.Pseudo().StackName)
	}
	res := &Result{Resolver: r, Physical: map[string]template.Physical{}}
	var todo []string
	for _, id := range t.ResourceIDs() {
		rs := t.Resource(id)
		on, err := r.Enabled(rs)
		if err != nil {
			return nil, err
		}
		switch {
		case !on:
			res.Skipped = append(res.Skipped, Skipped{LogicalID: id, Type: rs.Type, Reason: "condition " + rs.Condition + " is false"})
		case provisioned[rs.Type]:
			todo = append(todo, id)
		case notProvisioned[rs.Type] != "":
			res.Skipped = append(res.Skipped, Skipped{LogicalID: id, Type: rs.Type, Reason: notProvisioned[rs.Type]})
		default:
			res.Skipped = append(res.Skipped, Skipped{LogicalID: id, Type: rs.Type, Reason: "latch does not provision this type"})
		}
	}
	order, err := t.Order(todo)
	if err != nil {
		return nil, err
	}
	for _, id := range order {
		rs := t.Resource(id)
		var out Resource
		var err error
		switch rs.Type {
		case template.TypeDynamoDBTable:
			out, err = p.table(ctx, rs, r, res)
		case template.TypeSimpleTable:
			out, err = p.simpleTable(ctx, rs, r, res)
		case template.TypeSQSQueue:
			out, err = p.queue(ctx, rs, r, res)
		case template.TypeEventBus:
			out, err = p.bus(ctx, rs, r, res)
		case template.TypeEventRule:
			out, err = p.rule(ctx, t, rs, r, res)
		}
		if err != nil {
			return nil, fmt.Errorf("provision %s (%s): %w", id, rs.Type, err)
		}
		r.Set(id, out.Physical)
		res.Physical[id] = out.Physical
		res.Resources = append(res.Resources, out)
	}
	// Rules from SAM function events come last: they may refer to any of
	// the above.
	for _, fn := range t.ResourcesOfType(template.TypeServerlessFunction) {
		if on, err := r.Enabled(fn); err != nil || !on {
			if err != nil {
				return nil, err
			}
			continue
		}
		events, err := fn.Events()
		if err != nil {
			return nil, err
		}
		for _, ev := range events {
			if !ruleEventTypes[ev.Type] {
				continue
			}
			out, err := p.eventRule(ctx, fn, ev, r, res)
			if err != nil {
				return nil, fmt.Errorf("provision %s event %s (%s): %w", fn.LogicalID, ev.Name, ev.Type, err)
			}
			r.Set(out.LogicalID, out.Physical)
			res.Physical[out.LogicalID] = out.Physical
			res.Resources = append(res.Resources, out)
		}
	}
	sort.SliceStable(res.Notes, func(i, j int) bool { return res.Notes[i].LogicalID < res.Notes[j].LogicalID })
	return res, nil
}

var validStackName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9-]*$`)

// physicalName returns <stack>-<LogicalId><suffix>. A name longer than max
// is cut and given a hash of the whole, so two long logical ids never share
// a name.
func physicalName(stack, logicalID, suffix string, max int) string {
	name := stack + "-" + logicalID
	if len(name)+len(suffix) <= max {
		return name + suffix
	}
	sum := sha256.Sum256([]byte(name))
	keep := max - len(suffix) - 9
	return strings.TrimRight(name[:keep], "-") + "-" + hex.EncodeToString(sum[:4]) + suffix
}
