// Package infra_test holds the invariants of template.yaml: the properties
// that make the stack safe to run twice and observable, checked on the
// template itself so that an edit which breaks one fails `make test` before
// anything is deployed. cfn-lint and `sam validate --lint` (make lint)
// check that the template is valid CloudFormation; these tests check that it
// is the stack latch promises.
package infra_test

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/latchkit/latch/functions/order-worker/orderworker"
	"github.com/latchkit/latch/internal/template"
)

const templatePath = "template.yaml"

// Limits the invariants hold the template to.
const (
	visibilityFactor    = 6       // queue visibility >= 6 x consumer timeout (AWS's advice for SQS event sources)
	dlqRetentionSeconds = 1209600 // 14 days, SQS's maximum
	maxAsyncRetries     = 2       // Lambda's maximum; bounded by construction, checked anyway
)

func load(t *testing.T) *template.Template {
	t.Helper()
	tpl, err := template.Load(templatePath)
	if err != nil {
		t.Fatal(err)
	}
	return tpl
}

// ---------------------------------------------------------------- reading

// refTo returns the logical id v refers to through !Ref.
func refTo(v any) (string, bool) {
	in, ok := v.(*template.Intrinsic)
	if !ok || in.Name != "Ref" {
		return "", false
	}
	s, ok := in.Arg.(string)
	return s, ok
}

// getAtt returns the logical id and attribute of a !GetAtt.
func getAtt(v any) (id, attr string, ok bool) {
	in, isIn := v.(*template.Intrinsic)
	if !isIn || in.Name != "Fn::GetAtt" {
		return "", "", false
	}
	switch a := in.Arg.(type) {
	case string:
		id, attr, ok = strings.Cut(a, ".")
		return id, attr, ok
	case []any:
		if len(a) == 2 {
			id, ok1 := a[0].(string)
			attr, ok2 := a[1].(string)
			return id, attr, ok1 && ok2
		}
	}
	return "", "", false
}

// arnOf returns the logical id whose ARN v is (!GetAtt X.Arn).
func arnOf(v any) (string, bool) {
	id, attr, ok := getAtt(v)
	return id, ok && attr == "Arn"
}

func prop(r *template.Resource, path ...string) any {
	v, _ := r.Property(path...)
	return v
}

func intProp(t *testing.T, r *template.Resource, path ...string) (int, bool) {
	t.Helper()
	v, ok := r.Property(path...)
	if !ok {
		return 0, false
	}
	n, ok := template.AsInt(v)
	if !ok {
		t.Errorf("%s.%s = %v: not a literal number", r.LogicalID, strings.Join(path, "."), v)
	}
	return n, ok
}

func boolProp(r *template.Resource, path ...string) bool {
	b, _ := template.AsBool(prop(r, path...))
	return b
}

func isFIFO(q *template.Resource) bool { return boolProp(q, "FifoQueue") }

// sqsSource is one SQS event source of a function: a SAM SQS event or an
// AWS::Lambda::EventSourceMapping resource.
type sqsSource struct {
	name     string // where it is declared, for messages
	function *template.Resource
	queue    *template.Resource
	props    map[string]any // BatchSize, FunctionResponseTypes, ...
}

func sqsSources(t *testing.T, tpl *template.Template) []sqsSource {
	t.Helper()
	var out []sqsSource
	for _, fn := range tpl.Functions() {
		evs, err := fn.Events()
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range evs {
			if ev.Type != "SQS" {
				continue
			}
			qid, ok := arnOf(ev.Properties["Queue"])
			if !ok || tpl.Resource(qid) == nil {
				t.Errorf("%s event %s: Queue %v is not !GetAtt <queue in this template>.Arn", fn.LogicalID, ev.Name, ev.Properties["Queue"])
				continue
			}
			out = append(out, sqsSource{name: fn.LogicalID + ".Events." + ev.Name, function: fn, queue: tpl.Resource(qid), props: ev.Properties})
		}
	}
	for _, m := range tpl.ResourcesOfType("AWS::Lambda::EventSourceMapping") {
		qid, ok := arnOf(m.Properties["EventSourceArn"])
		if !ok || tpl.Resource(qid) == nil || tpl.Resource(qid).Type != template.TypeSQSQueue {
			continue
		}
		fid, ok := refTo(m.Properties["FunctionName"])
		if !ok || tpl.Resource(fid) == nil {
			t.Errorf("%s: FunctionName is not !Ref <function in this template>", m.LogicalID)
			continue
		}
		out = append(out, sqsSource{name: m.LogicalID, function: tpl.Resource(fid), queue: tpl.Resource(qid), props: m.Properties})
	}
	return out
}

// deadLetterQueues returns the queues that receive failures: redrive
// targets, rule-target dead-letter queues and on-failure destinations,
// each with the reason it is one.
func deadLetterQueues(tpl *template.Template) map[string]string {
	dlqs := map[string]string{}
	for _, q := range tpl.ResourcesOfType(template.TypeSQSQueue) {
		if id, ok := arnOf(prop(q, "RedrivePolicy", "deadLetterTargetArn")); ok {
			dlqs[id] = "dead-letter queue of " + q.LogicalID
		}
	}
	for _, rule := range tpl.ResourcesOfType(template.TypeEventRule) {
		targets, _ := template.AsList(prop(rule, "Targets"))
		for _, tg := range targets {
			m, _ := template.AsMap(tg)
			dlc, _ := template.AsMap(m["DeadLetterConfig"])
			if id, ok := arnOf(dlc["Arn"]); ok {
				dlqs[id] = "dead-letter queue of a target of " + rule.LogicalID
			}
		}
	}
	for _, fn := range tpl.Functions() {
		if id, ok := arnOf(prop(fn, "EventInvokeConfig", "DestinationConfig", "OnFailure", "Destination")); ok {
			dlqs[id] = "on-failure destination of " + fn.LogicalID
		}
	}
	for _, c := range tpl.ResourcesOfType("AWS::Lambda::EventInvokeConfig") {
		if id, ok := arnOf(prop(c, "DestinationConfig", "OnFailure", "Destination")); ok {
			dlqs[id] = "on-failure destination of " + c.LogicalID
		}
	}
	for _, fn := range tpl.Functions() {
		// A stream mapping's on-failure destination, and latch's failure
		// queue (package function's LATCH_FAILURE_QUEUE_URL), hold what
		// failed for good, as a dead-letter queue does.
		events, _ := template.AsMap(prop(fn, "Events"))
		for name, ev := range events {
			m, _ := template.AsMap(ev)
			props, _ := template.AsMap(m["Properties"])
			dc, _ := template.AsMap(props["DestinationConfig"])
			of, _ := template.AsMap(dc["OnFailure"])
			if id, ok := arnOf(of["Destination"]); ok {
				dlqs[id] = "on-failure destination of " + fn.LogicalID + "'s " + name + " mapping"
			}
		}
		if in, ok := prop(fn, "Environment", "Variables", "LATCH_FAILURE_QUEUE_URL").(*template.Intrinsic); ok && in.Name == "Ref" {
			if id, ok := in.Arg.(string); ok {
				dlqs[id] = "failure queue of " + fn.LogicalID
			}
		}
	}
	return dlqs
}

// scheduledFunctions returns the functions a schedule rule (or a SAM
// Schedule event) invokes.
func scheduledFunctions(tpl *template.Template) map[string]*template.Resource {
	out := map[string]*template.Resource{}
	for _, rule := range tpl.ResourcesOfType(template.TypeEventRule) {
		if _, ok := rule.Properties["ScheduleExpression"]; !ok {
			continue
		}
		targets, _ := template.AsList(prop(rule, "Targets"))
		for _, tg := range targets {
			m, _ := template.AsMap(tg)
			if id, ok := arnOf(m["Arn"]); ok {
				if fn := tpl.Resource(id); fn != nil && slices.Contains(tpl.Functions(), fn) {
					out[id] = fn
				}
			}
		}
	}
	for _, fn := range tpl.Functions() {
		evs, _ := fn.Events()
		for _, ev := range evs {
			if ev.Type == "Schedule" || ev.Type == "ScheduleV2" {
				out[fn.LogicalID] = fn
			}
		}
	}
	return out
}

// statement is one IAM policy statement and where it is.
type statement struct {
	where string
	m     map[string]any
}

// statements returns every IAM policy statement in the template: roles
// (trust and inline policies), managed and inline policy resources, queue,
// topic and bus policies, and inline statements in SAM function Policies.
func statements(t *testing.T, tpl *template.Template) []statement {
	t.Helper()
	var out []statement
	addDoc := func(where string, doc any) {
		d, ok := template.AsMap(doc)
		if !ok {
			t.Errorf("%s: policy document is not a literal mapping", where)
			return
		}
		st := d["Statement"]
		if m, ok := template.AsMap(st); ok {
			st = []any{m}
		}
		list, ok := template.AsList(st)
		if !ok || len(list) == 0 {
			t.Errorf("%s: no Statement list", where)
			return
		}
		for i, s := range list {
			m, ok := template.AsMap(s)
			if !ok {
				t.Errorf("%s.Statement[%d]: not a mapping", where, i)
				continue
			}
			out = append(out, statement{where: fmt.Sprintf("%s.Statement[%d]", where, i), m: m})
		}
	}
	for _, id := range tpl.ResourceIDs() {
		r := tpl.Resource(id)
		switch r.Type {
		case "AWS::IAM::Role":
			addDoc(id+".AssumeRolePolicyDocument", r.Properties["AssumeRolePolicyDocument"])
			pols, _ := template.AsList(r.Properties["Policies"])
			for i, p := range pols {
				m, _ := template.AsMap(p)
				addDoc(fmt.Sprintf("%s.Policies[%d]", id, i), m["PolicyDocument"])
			}
		case "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::SQS::QueuePolicy", "AWS::SNS::TopicPolicy", "AWS::IAM::RolePolicy":
			addDoc(id+".PolicyDocument", r.Properties["PolicyDocument"])
		case "AWS::Events::EventBusPolicy":
			if s, ok := r.Properties["Statement"]; ok {
				addDoc(id, map[string]any{"Statement": s})
			}
		case template.TypeServerlessFunction:
			pols := r.Properties["Policies"]
			if m, ok := template.AsMap(pols); ok {
				pols = []any{m}
			}
			list, _ := template.AsList(pols)
			for i, p := range list {
				if m, ok := template.AsMap(p); ok && m["Statement"] != nil {
					addDoc(fmt.Sprintf("%s.Policies[%d]", id, i), m)
				}
			}
		}
	}
	return out
}

// stringList reads an IAM Action or Resource value: a string or a list.
func stringList(v any) []any {
	if l, ok := template.AsList(v); ok {
		return l
	}
	return []any{v}
}

// actionsOf returns the statement's actions as literal strings.
func actionsOf(t *testing.T, s statement) []string {
	t.Helper()
	var out []string
	for _, a := range stringList(s.m["Action"]) {
		str, ok := a.(string)
		if !ok {
			t.Errorf("%s: action %v is not a literal string", s.where, a)
			continue
		}
		out = append(out, str)
	}
	return out
}

// grants reports whether some Allow statement of the role's inline policies
// grants action on the resource whose ARN is resourceArn (a !GetAtt X.Arn).
func grants(role *template.Resource, action, resourceID string) bool {
	pols, _ := template.AsList(role.Properties["Policies"])
	for _, p := range pols {
		m, _ := template.AsMap(p)
		doc, _ := template.AsMap(m["PolicyDocument"])
		list, _ := template.AsList(doc["Statement"])
		for _, s := range list {
			st, _ := template.AsMap(s)
			if st["Effect"] != "Allow" {
				continue
			}
			acts := stringList(st["Action"])
			if !slices.Contains(acts, any(action)) {
				continue
			}
			for _, res := range stringList(st["Resource"]) {
				if id, ok := arnOf(res); ok && id == resourceID {
					return true
				}
			}
		}
	}
	return false
}

// roleOf returns the function's explicit role resource.
func roleOf(tpl *template.Template, fn *template.Resource) *template.Resource {
	id, ok := arnOf(fn.Properties["Role"])
	if !ok {
		return nil
	}
	return tpl.Resource(id)
}

// ---------------------------------------------------------------- invariants

func TestFunctions(t *testing.T) {
	t.Parallel()
	tpl := load(t)
	fns := tpl.Functions()
	if len(fns) == 0 {
		t.Fatal("no functions")
	}
	for _, fn := range fns {
		t.Run(fn.LogicalID, func(t *testing.T) {
			t.Parallel()
			if fn.Type != template.TypeServerlessFunction {
				t.Fatalf("type %s: the examples are SAM functions", fn.Type)
			}
			tests := []struct {
				name string
				got  any
				want any
			}{
				{name: "Runtime", got: prop(fn, "Runtime"), want: "provided.al2023"},
				// The Architecture parameter, whose default (what a real
				// deploy builds) is arm64; deploy-local passes the host's.
				{name: "Architectures", got: fmt.Sprint(prop(fn, "Architectures")), want: "[!Ref Architecture]"},
				{name: "Architecture default", got: tpl.Parameters["Architecture"].Default, want: "arm64"},
				{name: "Handler", got: prop(fn, "Handler"), want: "bootstrap"},
				{name: "Tracing", got: prop(fn, "Tracing"), want: "Active"},
				{name: "Metadata.BuildMethod", got: fn.Metadata["BuildMethod"], want: "go1.x"},
			}
			for _, tt := range tests {
				if diff := cmp.Diff(tt.want, tt.got); diff != "" {
					t.Errorf("%s (-want +got):\n%s", tt.name, diff)
				}
			}
			if n, ok := intProp(t, fn, "Timeout"); !ok || n <= 0 {
				t.Errorf("no Timeout: the SQS visibility rule and the local runner's deadline derive from it")
			}
			code, _ := prop(fn, "CodeUri").(string)
			if !strings.HasPrefix(code, "../functions/") {
				t.Errorf("CodeUri %q: want ../functions/<name>", code)
			}
		})
	}
}

func TestLogGroupsHaveRetention(t *testing.T) {
	t.Parallel()
	tpl := load(t)
	for _, fn := range tpl.Functions() {
		id, ok := refTo(prop(fn, "LoggingConfig", "LogGroup"))
		lg := tpl.Resource(id)
		if !ok || lg == nil || lg.Type != "AWS::Logs::LogGroup" {
			t.Errorf("%s: LoggingConfig.LogGroup is not !Ref <log group in this template>, so its retention is not set here", fn.LogicalID)
			continue
		}
		if _, ok := lg.Properties["RetentionInDays"]; !ok {
			t.Errorf("%s: log group %s has no RetentionInDays", fn.LogicalID, id)
		}
	}
}

func TestSQSEventSources(t *testing.T) {
	t.Parallel()
	tpl := load(t)
	srcs := sqsSources(t, tpl)
	if len(srcs) == 0 {
		t.Fatal("no SQS event sources")
	}
	for _, src := range srcs {
		t.Run(src.name, func(t *testing.T) {
			t.Parallel()
			types, _ := template.AsList(src.props["FunctionResponseTypes"])
			if !slices.Contains(types, any("ReportBatchItemFailures")) {
				t.Errorf("FunctionResponseTypes %v: without ReportBatchItemFailures one failed record fails the whole batch", types)
			}
			if n, ok := template.AsInt(src.props["BatchSize"]); !ok || n < 1 || n > 10 && !isFIFO(src.queue) && src.props["MaximumBatchingWindowInSeconds"] == nil {
				t.Errorf("BatchSize %v: want a literal 1..10, or more with a batching window", src.props["BatchSize"])
			}
			window, hasWindow := src.props["MaximumBatchingWindowInSeconds"]
			switch {
			case isFIFO(src.queue) && hasWindow:
				t.Errorf("MaximumBatchingWindowInSeconds on FIFO queue %s: SQS rejects it", src.queue.LogicalID)
			case !isFIFO(src.queue):
				if n, ok := template.AsInt(window); !ok || n < 0 || n > 300 {
					t.Errorf("MaximumBatchingWindowInSeconds %v: want a literal 0..300", window)
				}
			}
			sc, _ := template.AsMap(src.props["ScalingConfig"])
			if n, ok := template.AsInt(sc["MaximumConcurrency"]); !ok || n < 2 || n > 1000 {
				t.Errorf("ScalingConfig.MaximumConcurrency %v: want a literal 2..1000", sc["MaximumConcurrency"])
			}

			// Visibility >= 6 x timeout.
			timeout, _ := intProp(t, src.function, "Timeout")
			vis, ok := intProp(t, src.queue, "VisibilityTimeout")
			if !ok {
				vis = 30 // SQS's default
			}
			if vis < visibilityFactor*timeout {
				t.Errorf("queue %s VisibilityTimeout %d < %d x %s Timeout %d", src.queue.LogicalID, vis, visibilityFactor, src.function.LogicalID, timeout)
			}

			// The function's role lets the event source mapping poll the
			// queue and latch back off and dead-letter.
			role := roleOf(tpl, src.function)
			if role == nil {
				t.Fatalf("%s has no role in this template", src.function.LogicalID)
			}
			for _, a := range []string{"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:ChangeMessageVisibility"} {
				if !grants(role, a, src.queue.LogicalID) {
					t.Errorf("role %s does not grant %s on %s", role.LogicalID, a, src.queue.LogicalID)
				}
			}
			if dlq, ok := arnOf(prop(src.queue, "RedrivePolicy", "deadLetterTargetArn")); ok && !grants(role, "sqs:SendMessage", dlq) {
				t.Errorf("role %s cannot send to %s, so permanent failures cannot be dead-lettered with their reason", role.LogicalID, dlq)
			}
		})
	}
}

func TestEveryQueueHasADeadLetterQueue(t *testing.T) {
	t.Parallel()
	tpl := load(t)
	dlqs := deadLetterQueues(tpl)
	for _, q := range tpl.ResourcesOfType(template.TypeSQSQueue) {
		t.Run(q.LogicalID, func(t *testing.T) {
			t.Parallel()
			if !boolProp(q, "SqsManagedSseEnabled") && prop(q, "KmsMasterKeyId") == nil {
				t.Error("no server-side encryption (SqsManagedSseEnabled or KmsMasterKeyId)")
			}
			if why, isDLQ := dlqs[q.LogicalID]; isDLQ {
				if n, _ := intProp(t, q, "MessageRetentionPeriod"); n != dlqRetentionSeconds {
					t.Errorf("%s keeps messages %d s, want %d (14 days)", why, n, dlqRetentionSeconds)
				}
				if _, ok := q.Properties["RedrivePolicy"]; ok {
					t.Errorf("%s has a RedrivePolicy itself", why)
				}
				return
			}
			dlqID, ok := arnOf(prop(q, "RedrivePolicy", "deadLetterTargetArn"))
			dlq := tpl.Resource(dlqID)
			if !ok || dlq == nil || dlq.Type != template.TypeSQSQueue {
				t.Fatal("no RedrivePolicy.deadLetterTargetArn: !GetAtt <queue in this template>.Arn")
			}
			if n, ok := intProp(t, q, "RedrivePolicy", "maxReceiveCount"); !ok || n < 2 {
				t.Errorf("RedrivePolicy.maxReceiveCount %d: want >= 2, so a retryable failure is retried", n)
			}
			if isFIFO(q) != isFIFO(dlq) {
				t.Errorf("FIFO %v but its DLQ %s has FIFO %v: SQS needs both the same", isFIFO(q), dlqID, isFIFO(dlq))
			}
			if n, ok := intProp(t, q, "MessageRetentionPeriod"); ok && n >= dlqRetentionSeconds {
				t.Errorf("MessageRetentionPeriod %d: a dead-lettered message keeps its enqueue time, so the DLQ must keep messages longer", n)
			}
		})
	}
}

func TestDeadLetterQueuesHaveDepthAlarms(t *testing.T) {
	t.Parallel()
	tpl := load(t)
	alarmed := map[string]bool{}
	for _, a := range tpl.ResourcesOfType("AWS::CloudWatch::Alarm") {
		if prop(a, "Namespace") != "AWS/SQS" || prop(a, "MetricName") != "ApproximateNumberOfMessagesVisible" {
			continue
		}
		dims, _ := template.AsList(prop(a, "Dimensions"))
		for _, d := range dims {
			m, _ := template.AsMap(d)
			if id, attr, ok := getAtt(m["Value"]); ok && m["Name"] == "QueueName" && attr == "QueueName" {
				if actions, _ := template.AsList(prop(a, "AlarmActions")); len(actions) == 0 {
					t.Errorf("alarm %s has no AlarmActions", a.LogicalID)
				}
				alarmed[id] = true
			}
		}
	}
	dlqs := deadLetterQueues(tpl)
	if len(dlqs) == 0 {
		t.Fatal("no dead-letter queues")
	}
	for id, why := range dlqs {
		if !alarmed[id] {
			t.Errorf("%s (%s) has no ApproximateNumberOfMessagesVisible alarm", id, why)
		}
	}
}

func TestFunctionsHaveErrorAlarms(t *testing.T) {
	t.Parallel()
	tpl := load(t)
	alarmed := map[string]bool{}
	for _, a := range tpl.ResourcesOfType("AWS::CloudWatch::Alarm") {
		if prop(a, "Namespace") != "AWS/Lambda" || prop(a, "MetricName") != "Errors" {
			continue
		}
		dims, _ := template.AsList(prop(a, "Dimensions"))
		for _, d := range dims {
			m, _ := template.AsMap(d)
			if id, ok := refTo(m["Value"]); ok && m["Name"] == "FunctionName" {
				alarmed[id] = true
			}
		}
	}
	for _, fn := range tpl.Functions() {
		if !alarmed[fn.LogicalID] {
			t.Errorf("%s has no AWS/Lambda Errors alarm", fn.LogicalID)
		}
	}
}

func TestScheduledFunctionsHaveOnFailureDestination(t *testing.T) {
	t.Parallel()
	tpl := load(t)
	sched := scheduledFunctions(tpl)
	if len(sched) == 0 {
		t.Fatal("no scheduled function")
	}
	for id, fn := range sched {
		cfg, ok := template.AsMap(prop(fn, "EventInvokeConfig"))
		if !ok {
			t.Errorf("%s: no EventInvokeConfig: a failed tick would vanish after Lambda's default retries", id)
			continue
		}
		if n, ok := template.AsInt(cfg["MaximumRetryAttempts"]); !ok || n > maxAsyncRetries {
			t.Errorf("%s: MaximumRetryAttempts %v: want a literal 0..%d", id, cfg["MaximumRetryAttempts"], maxAsyncRetries)
		}
		dest := prop(fn, "EventInvokeConfig", "DestinationConfig", "OnFailure", "Destination")
		q, ok := arnOf(dest)
		if !ok || tpl.Resource(q) == nil || tpl.Resource(q).Type != template.TypeSQSQueue {
			t.Errorf("%s: OnFailure destination %v is not a queue of this template", id, dest)
			continue
		}
		if role := roleOf(tpl, fn); role == nil || !grants(role, "sqs:SendMessage", q) {
			t.Errorf("%s: its role cannot send to its on-failure destination %s", id, q)
		}
	}
}

func TestIAMIsExplicit(t *testing.T) {
	t.Parallel()
	tpl := load(t)
	sts := statements(t, tpl)
	if len(sts) == 0 {
		t.Fatal("no IAM statements")
	}
	// Actions AWS offers on no resource narrower than "*".
	resourceStar := map[string]bool{"xray:PutTraceSegments": true, "xray:PutTelemetryRecords": true}
	for _, s := range sts {
		if _, ok := s.m["NotAction"]; ok {
			t.Errorf("%s: NotAction grants everything else", s.where)
		}
		if _, ok := s.m["NotResource"]; ok {
			t.Errorf("%s: NotResource grants everything else", s.where)
		}
		acts := actionsOf(t, s)
		if len(acts) == 0 {
			t.Errorf("%s: no Action", s.where)
		}
		for _, a := range acts {
			if strings.Contains(a, "*") {
				t.Errorf("%s: wildcard action %q", s.where, a)
			}
		}
		if strings.HasSuffix(s.where, "AssumeRolePolicyDocument.Statement[0]") {
			continue // a trust policy names a principal, not resources
		}
		for _, r := range stringList(s.m["Resource"]) {
			if r != "*" {
				continue
			}
			for _, a := range acts {
				if !resourceStar[a] {
					t.Errorf("%s: %s on Resource \"*\"", s.where, a)
				}
			}
		}
	}
	for _, fn := range tpl.Functions() {
		if roleOf(tpl, fn) == nil {
			t.Errorf("%s: no explicit Role in this template; SAM's generated role adds AWS managed policies on \"*\"", fn.LogicalID)
		}
		if _, ok := fn.Properties["Policies"]; ok {
			t.Errorf("%s: Policies is ignored when Role is set", fn.LogicalID)
		}
	}
}

func TestTables(t *testing.T) {
	t.Parallel()
	tpl := load(t)
	for _, tb := range tpl.ResourcesOfType(template.TypeDynamoDBTable) {
		if !boolProp(tb, "SSESpecification", "SSEEnabled") {
			t.Errorf("%s: SSESpecification.SSEEnabled is not true", tb.LogicalID)
		}
		if prop(tb, "BillingMode") != "PAY_PER_REQUEST" {
			t.Errorf("%s: BillingMode %v, want PAY_PER_REQUEST", tb.LogicalID, prop(tb, "BillingMode"))
		}
	}
	idem := tpl.Resource("IdempotencyTable")
	if idem == nil {
		t.Fatal("no IdempotencyTable")
	}
	want := map[string]any{
		"KeySchema":               []any{map[string]any{"AttributeName": "id", "KeyType": "HASH"}},
		"AttributeDefinitions":    []any{map[string]any{"AttributeName": "id", "AttributeType": "S"}},
		"TimeToLiveSpecification": map[string]any{"AttributeName": "expiration", "Enabled": true},
	}
	for k, w := range want {
		if diff := cmp.Diff(w, idem.Properties[k]); diff != "" {
			t.Errorf("IdempotencyTable.%s: the record schema of pkg/idempotency (-want +got):\n%s", k, diff)
		}
	}
}

func TestOrderAcceptedReachesTheLedgerInOrder(t *testing.T) {
	t.Parallel()
	tpl := load(t)
	// A rule target can set only one literal MessageGroupId, which would
	// serialise every customer: no rule feeds a FIFO queue.
	for _, rule := range tpl.ResourcesOfType(template.TypeEventRule) {
		targets, _ := template.AsList(prop(rule, "Targets"))
		for _, tg := range targets {
			m, _ := template.AsMap(tg)
			if qid, ok := arnOf(m["Arn"]); ok && tpl.Resource(qid) != nil && isFIFO(tpl.Resource(qid)) {
				t.Errorf("%s → %s: a rule target puts every event in one message group", rule.LogicalID, qid)
			}
		}
	}
	// order-worker sends to the ledger's FIFO queue itself (producer.Queue,
	// group = customer id), so it needs the URL and the permission.
	ledger := tpl.Resource("LedgerQueue")
	if ledger == nil || !isFIFO(ledger) {
		t.Fatal("no FIFO LedgerQueue")
	}
	fn := tpl.Resource("OrderWorkerFunction")
	if id, ok := refTo(prop(fn, "Environment", "Variables", orderworker.EnvLedgerQueueURL)); !ok || id != "LedgerQueue" {
		t.Errorf("OrderWorkerFunction %s = %v, want !Ref LedgerQueue", orderworker.EnvLedgerQueueURL, prop(fn, "Environment", "Variables", orderworker.EnvLedgerQueueURL))
	}
	role := roleOf(tpl, fn)
	for _, action := range []string{"sqs:SendMessage", "sqs:GetQueueAttributes"} {
		if role == nil || !grants(role, action, "LedgerQueue") {
			t.Errorf("OrderWorkerFunction's role does not grant %s on LedgerQueue", action)
		}
	}
	if boolProp(ledger, "ContentBasedDeduplication") {
		t.Errorf("LedgerQueue has ContentBasedDeduplication: every sender sets a deduplication id, and a send without one should fail, not be deduplicated by content")
	}
}

func TestOutputs(t *testing.T) {
	t.Parallel()
	tpl := load(t)
	output := map[string]bool{} // logical ids output by !Ref
	for _, o := range tpl.Outputs {
		if id, ok := refTo(o.Value); ok {
			output[id] = true
		}
	}
	for _, r := range tpl.ResourcesOfType(template.TypeSQSQueue, template.TypeDynamoDBTable, template.TypeEventBus) {
		if !output[r.LogicalID] {
			t.Errorf("%s (%s) has no output holding its !Ref (queue URL, table or bus name)", r.LogicalID, r.Type)
		}
	}
}

func TestFaultInjectionIsOffByDefault(t *testing.T) {
	t.Parallel()
	tpl := load(t)
	p := tpl.Parameters["TransientFaultPercent"]
	if p == nil {
		t.Fatal("no TransientFaultPercent parameter")
	}
	if n, ok := template.AsInt(p.Default); !p.HasDefault || !ok || n != 0 {
		t.Errorf("TransientFaultPercent default %v: fault injection must be off unless asked for", p.Default)
	}
	var users []string
	for _, fn := range tpl.Functions() {
		vars, _ := template.AsMap(prop(fn, "Environment", "Variables"))
		for _, v := range vars {
			if id, ok := refTo(v); ok && id == "TransientFaultPercent" {
				users = append(users, fn.LogicalID)
			}
		}
	}
	// order-worker's simulated throttling and feed-poller's crash mid-page.
	if diff := cmp.Diff([]string{"FeedPollerFunction", "OrderWorkerFunction"}, users, cmpopts.SortSlices(func(a, b string) bool { return a < b })); diff != "" {
		t.Errorf("functions TransientFaultPercent reaches (-want +got):\n%s", diff)
	}
}

// TestResolvesLocally evaluates every intrinsic in the template the way
// `latch local` does, with a stand-in physical value for each resource: a
// construct the local runner cannot read fails here, not in the demo.
func TestResolvesLocally(t *testing.T) {
	t.Parallel()
	tpl := load(t)
	ids := tpl.ResourceIDs()
	if _, err := tpl.Order(ids); err != nil {
		t.Fatalf("no creation order (a dependency cycle?): %v", err)
	}
	r, err := template.NewResolver(tpl, template.Pseudo{StackName: "latch-test"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		r.Set(id, template.Physical{Ref: "ref-" + id, Attrs: map[string]string{
			"Arn": "arn-" + id, "QueueName": "name-" + id, "QueueUrl": "url-" + id, "Name": "name-" + id,
			"StreamArn": "stream-" + id, // a table with a stream: provision reads LatestStreamArn
		}})
	}
	sort.Strings(ids)
	for _, id := range ids {
		if _, err := r.Properties(tpl.Resource(id)); err != nil {
			t.Errorf("%s: %v", id, err)
		}
	}
	if _, err := r.Outputs(); err != nil {
		t.Errorf("outputs: %v", err)
	}
}
