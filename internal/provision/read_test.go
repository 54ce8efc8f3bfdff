package provision

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/google/go-cmp/cmp"

	"github.com/latchkit/latch/internal/template"
)

func resolverFor(t *testing.T, src string) (*template.Template, *template.Resolver) {
	t.Helper()
	tpl, err := template.Parse([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	r, err := template.NewResolver(tpl, template.Pseudo{StackName: "stk"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	r.Set("DLQ", template.Physical{Ref: "http://q/DLQ", Attrs: map[string]string{"Arn": "arn:aws:sqs:us-east-1:123456789012:stk-DLQ"}})
	r.Set("Bus", template.Physical{Ref: "stk-bus", Attrs: map[string]string{"Arn": "arn:aws:events:us-east-1:123456789012:event-bus/stk-bus"}})
	return tpl, r
}

func TestPhysicalName(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, stack, id, suffix string
		max                     int
		want                    string
	}{
		{name: "short", stack: "latch", id: "OrderQueue", max: 80, want: "latch-OrderQueue"},
		{name: "fifo suffix", stack: "latch", id: "Ledger", suffix: ".fifo", max: 80, want: "latch-Ledger.fifo"},
		{name: "exact fit", stack: "s", id: strings.Repeat("A", 62), max: 64, want: "s-" + strings.Repeat("A", 62)},
	} {
		if got := physicalName(tc.stack, tc.id, tc.suffix, tc.max); got != tc.want {
			t.Errorf("%s: physicalName = %q, want %q", tc.name, got, tc.want)
		}
	}
	a := physicalName("stk", strings.Repeat("A", 70)+"One", ".fifo", 80)
	b := physicalName("stk", strings.Repeat("A", 70)+"Two", ".fifo", 80)
	if len(a) != 80 || len(b) != 80 || a == b || !strings.HasSuffix(a, ".fifo") {
		t.Errorf("long names %q and %q: want 80 characters, distinct, .fifo kept", a, b)
	}
}

func TestRedrivePolicy(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		in   any
		want string
		err  string
	}{
		{name: "object", in: map[string]any{"deadLetterTargetArn": "arn:x", "maxReceiveCount": 5}, want: `{"deadLetterTargetArn":"arn:x","maxReceiveCount":5}`},
		{name: "string count", in: map[string]any{"deadLetterTargetArn": "arn:x", "maxReceiveCount": "3"}, want: `{"deadLetterTargetArn":"arn:x","maxReceiveCount":3}`},
		{name: "JSON string", in: `{"maxReceiveCount": "2", "deadLetterTargetArn": "arn:y"}`, want: `{"deadLetterTargetArn":"arn:y","maxReceiveCount":2}`},
		{name: "no arn", in: map[string]any{"maxReceiveCount": 5}, err: "deadLetterTargetArn is missing"},
		{name: "zero count", in: map[string]any{"deadLetterTargetArn": "arn:x", "maxReceiveCount": 0}, err: "maxReceiveCount must be an integer 1-1000"},
		{name: "typo", in: map[string]any{"deadLetterTargetArn": "arn:x", "maxReceiveCount": 1, "maxRecieveCount": 2}, err: `unknown key "maxRecieveCount"`},
		{name: "not JSON", in: "{", err: "not a JSON object"},
	} {
		got, err := redrivePolicy(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: err = %v, want %q", tc.name, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%s: got %q, %v; want %q", tc.name, got, err, tc.want)
		}
	}
}

func TestReadQueue(t *testing.T) {
	t.Parallel()
	tpl, r := resolverFor(t, `
Resources:
  DLQ: {Type: AWS::SQS::Queue}
  Q:
    Type: AWS::SQS::Queue
    Properties:
      FifoQueue: "true"
      VisibilityTimeout: "90"
      ContentBasedDeduplication: true
      KmsMasterKeyId: alias/aws/sqs
      RedrivePolicy: {deadLetterTargetArn: !GetAtt DLQ.Arn, maxReceiveCount: 4}
      Tags: [{Key: team, Value: payments}]
`)
	var notes []Note
	rs := tpl.Resource("Q")
	spec, err := readQueue(rs, r, &notes)
	if err != nil {
		t.Fatal(err)
	}
	want := queueSpec{
		name: "stk-Q.fifo",
		attrs: map[string]string{
			"FifoQueue": "true", "VisibilityTimeout": "90", "ContentBasedDeduplication": "true",
			"RedrivePolicy": `{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:123456789012:stk-DLQ","maxReceiveCount":4}`,
		},
		tags: map[string]string{"team": "payments"},
	}
	if diff := cmp.Diff(want, spec, cmp.AllowUnexported(queueSpec{})); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]Note{{LogicalID: "Q", Property: "KmsMasterKeyId", Reason: "no KMS locally: messages are stored unencrypted"}}, notes); diff != "" {
		t.Errorf("notes (-want +got):\n%s", diff)
	}
}

func TestReadErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		src  string
		id   string
		want string
	}{
		{name: "unknown queue property", id: "Q", src: "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties: {VisibilityTimeOut: 30}\n",
			want: "Resources.Q.Properties.VisibilityTimeOut (line 2): property VisibilityTimeOut of AWS::SQS::Queue is not supported by latch"},
		{name: "fifo name without suffix", id: "Q", src: "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties: {FifoQueue: true, QueueName: plain}\n",
			want: "a FIFO queue's name ends in .fifo"},
		{name: "suffix without fifo", id: "Q", src: "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties: {QueueName: x.fifo}\n",
			want: "a FIFO queue's name ends in .fifo"},
		{name: "visibility not a number", id: "Q", src: "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties: {VisibilityTimeout: soon}\n",
			want: "VisibilityTimeout (line 2): must be an integer"},
		{name: "redrive to nothing", id: "Q", src: "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties: {RedrivePolicy: {maxReceiveCount: 3}}\n",
			want: "RedrivePolicy (line 2): deadLetterTargetArn is missing"},
		{name: "redrive to an uncreated queue", id: "Q", src: "Resources:\n  Other: {Type: AWS::SQS::Queue}\n  Q:\n    Type: AWS::SQS::Queue\n    Properties: {RedrivePolicy: {deadLetterTargetArn: !GetAtt Other.Arn, maxReceiveCount: 3}}\n",
			want: "Other (AWS::SQS::Queue) has no local value"},
		{name: "table without keys", id: "T", src: "Resources:\n  T:\n    Type: AWS::DynamoDB::Table\n    Properties: {AttributeDefinitions: [{AttributeName: id, AttributeType: S}]}\n",
			want: "KeySchema (line 2): is required"},
		{name: "bad key type", id: "T", src: "Resources:\n  T:\n    Type: AWS::DynamoDB::Table\n    Properties: {KeySchema: [{AttributeName: id, KeyType: PRIMARY}]}\n",
			want: `KeyType of id must be HASH or RANGE, not "PRIMARY"`},
		{name: "provisioned without throughput", id: "T", src: "Resources:\n  T:\n    Type: AWS::DynamoDB::Table\n    Properties: {BillingMode: PROVISIONED, KeySchema: [{AttributeName: id, KeyType: HASH}]}\n",
			want: "ProvisionedThroughput (line 2): is required with BillingMode PROVISIONED"},
		{name: "TTL without attribute", id: "T", src: "Resources:\n  T:\n    Type: AWS::DynamoDB::Table\n    Properties: {KeySchema: [{AttributeName: id, KeyType: HASH}], TimeToLiveSpecification: {Enabled: true}}\n",
			want: "AttributeName is required when Enabled"},
		{name: "import from S3", id: "T", src: "Resources:\n  T:\n    Type: AWS::DynamoDB::Table\n    Properties: {KeySchema: [{AttributeName: id, KeyType: HASH}], ImportSourceSpecification: {}}\n",
			want: "importing from S3 is not supported"},
		{name: "simple table key type", id: "T", src: "Resources:\n  T:\n    Type: AWS::Serverless::SimpleTable\n    Properties: {PrimaryKey: {Name: id, Type: Str}}\n",
			want: `Type must be String, Number or Binary, not "Str"`},
		{name: "invalid schedule names the field", id: "R", src: "Resources:\n  R:\n    Type: AWS::Events::Rule\n    Properties: {ScheduleExpression: 'cron(0 3 * * * *)'}\n",
			want: "day-of-week field: day-of-month and day-of-week cannot both be given"},
		{name: "schedule on a custom bus", id: "R", src: "Resources:\n  Bus: {Type: AWS::Events::EventBus, Properties: {Name: b}}\n  R:\n    Type: AWS::Events::Rule\n    Properties: {EventBusName: !Ref Bus, ScheduleExpression: 'rate(1 day)'}\n",
			want: "schedule rules run only on the default event bus"},
		{name: "rule with neither", id: "R", src: "Resources:\n  R:\n    Type: AWS::Events::Rule\n    Properties: {Description: x}\n",
			want: "needs an EventPattern or a ScheduleExpression"},
		{name: "bad state", id: "R", src: "Resources:\n  R:\n    Type: AWS::Events::Rule\n    Properties: {State: OFF, ScheduleExpression: 'rate(1 day)'}\n",
			want: `"OFF" is not ENABLED or DISABLED`},
		{name: "target without id", id: "R", src: "Resources:\n  DLQ: {Type: AWS::SQS::Queue}\n  R:\n    Type: AWS::Events::Rule\n    Properties: {EventPattern: {source: [x]}, Targets: [{Arn: !GetAtt DLQ.Arn}]}\n",
			want: "Targets[0].Id (line 3): is required"},
		{name: "unknown target property", id: "R", src: "Resources:\n  DLQ: {Type: AWS::SQS::Queue}\n  R:\n    Type: AWS::Events::Rule\n    Properties: {EventPattern: {source: [x]}, Targets: [{Id: a, Arn: !GetAtt DLQ.Arn, KinesisParameters: {}}]}\n",
			want: "property KinesisParameters of AWS::Events::Rule is not supported"},
		{name: "transformer on a function target", id: "R", src: "Resources:\n  F: {Type: AWS::Serverless::Function}\n  R:\n    Type: AWS::Events::Rule\n    Properties: {EventPattern: {source: [x]}, Targets: [{Id: a, Arn: !GetAtt F.Arn, InputTransformer: {InputTemplate: x}}]}\n",
			want: "input transformers on function targets are not supported"},
		{name: "bus without name", id: "B", src: "Resources:\n  B: {Type: AWS::Events::EventBus}\n", want: "Name (line 2): is required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tpl, r := resolverFor(t, tc.src)
			rs := tpl.Resource(tc.id)
			var res Result
			var err error
			switch rs.Type {
			case template.TypeSQSQueue:
				_, err = readQueue(rs, r, &res.Notes)
			case template.TypeDynamoDBTable:
				_, err = readTable(rs, r, &res.Notes)
			case template.TypeSimpleTable:
				_, err = readSimpleTable(rs, r, &res.Notes)
			case template.TypeEventRule:
				_, err = readRule(tpl, rs, r, &res)
			case template.TypeEventBus:
				// The bus reader calls the API after reading; only its
				// read errors can be tested without an emulator.
				_, err = (&Provisioner{}).bus(t.Context(), rs, r, &res)
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestReadRuleTargets(t *testing.T) {
	t.Parallel()
	tpl, r := resolverFor(t, `
Resources:
  DLQ: {Type: AWS::SQS::Queue}
  Fn: {Type: AWS::Serverless::Function}
  R:
    Type: AWS::Events::Rule
    Properties:
      Name: my-rule
      EventPattern: '{"source": ["x"]}'
      RoleArn: arn:aws:iam::123456789012:role/r
      Targets:
        - {Id: q, Arn: !GetAtt DLQ.Arn, SqsParameters: {MessageGroupId: g}, InputPath: $.detail}
        - {Id: f, Arn: !Sub "${Fn.Arn}", Input: {a: 1}}
        - {Id: sns, Arn: "arn:aws:sns:us-east-1:123456789012:topic"}
`)
	var res Result
	spec, err := readRule(tpl, tpl.Resource("R"), r, &res)
	if err != nil {
		t.Fatal(err)
	}
	if spec.name != "my-rule" || spec.pattern != `{"source": ["x"]}` || len(spec.sqsTargets) != 1 {
		t.Fatalf("spec = %+v", spec)
	}
	q := spec.sqsTargets[0]
	if aws.ToString(q.Arn) != "arn:aws:sqs:us-east-1:123456789012:stk-DLQ" || aws.ToString(q.SqsParameters.MessageGroupId) != "g" || aws.ToString(q.InputPath) != "$.detail" {
		t.Errorf("sqs target = %+v", q)
	}
	if diff := cmp.Diff([]FunctionTarget{{Function: "Fn", ID: "f", Input: `{"a":1}`}}, spec.functions); diff != "" {
		t.Errorf("function targets (-want +got):\n%s", diff)
	}
	var props []string
	for _, n := range res.Notes {
		props = append(props, n.Property)
	}
	if diff := cmp.Diff([]string{"RoleArn", "Targets[2]"}, props); diff != "" {
		t.Errorf("notes (-want +got):\n%s\n%+v", diff, res.Notes)
	}
}

func TestReadEventRule(t *testing.T) {
	t.Parallel()
	tpl, r := resolverFor(t, `
Transform: AWS::Serverless-2016-10-31
Resources:
  Bus: {Type: AWS::Events::EventBus, Properties: {Name: b}}
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Events:
        Tick: {Type: Schedule, Properties: {Schedule: "cron(0 3 * * ? *)", Enabled: false, Name: tick}}
        Accepted:
          Type: EventBridgeRule
          Properties:
            EventBusName: !Ref Bus
            Pattern: {detail-type: [OrderAccepted]}
            InputPath: $.detail
            Target: {Id: custom}
        Bad: {Type: Schedule, Properties: {Schedule: "rate(1 days)"}}
`)
	events, err := tpl.Resource("Fn").Events()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]ruleSpec{}
	for _, ev := range events {
		var res Result
		spec, err := readEventRule(tpl.Resource("Fn"), ev, r, &res)
		if ev.Name == "Bad" {
			if err == nil || !strings.Contains(err.Error(), "Resources.Fn.Properties.Events.Bad.Properties.Schedule") || !strings.Contains(err.Error(), "rate unit") {
				t.Errorf("Bad: err = %v", err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", ev.Name, err)
		}
		got[ev.Name] = spec
	}
	tick := got["Tick"]
	if tick.logicalID != "FnTick" || tick.name != "tick" || tick.schedule != "cron(0 3 * * ? *)" || tick.state != "DISABLED" ||
		len(tick.functions) != 1 || tick.functions[0] != (FunctionTarget{Function: "Fn", ID: "FnTickLambdaTarget"}) {
		t.Errorf("Tick = %+v", tick)
	}
	acc := got["Accepted"]
	if acc.name != "stk-FnAccepted" || acc.bus != "stk-bus" || acc.pattern != `{"detail-type":["OrderAccepted"]}` ||
		acc.functions[0] != (FunctionTarget{Function: "Fn", ID: "custom", InputPath: "$.detail"}) {
		t.Errorf("Accepted = %+v", acc)
	}
}
