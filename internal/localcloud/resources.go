package localcloud

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/latchkit/latch/internal/template"
)

// Clients are the local cloud's API clients.
type Clients struct {
	SQS      *sqs.Client
	DynamoDB *dynamodb.Client
	Events   *eventbridge.Client
	Lambda   *lambda.Client
	// Config reaches CloudWatch's query API (see describeAlarms).
	Config aws.Config
}

// Finding is one check of the deployed resources against the template.
type Finding struct {
	Resource string // logical id
	What     string
	OK       bool
	Detail   string
	// Workaround, when set, says what the check did in the emulator's
	// place to make the resource what the template says (a fidelity gap).
	Workaround string
}

// Findings are the checks of one stack.
type Findings []Finding

// Failed counts the checks that failed.
func (fs Findings) Failed() int {
	n := 0
	for _, f := range fs {
		if !f.OK {
			n++
		}
	}
	return n
}

// Print writes the findings as a table.
func (fs Findings) Print(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "resource\tcheck\tresult\tdetail")
	for _, f := range fs {
		mark := "ok"
		switch {
		case !f.OK:
			mark = "FAILED"
		case f.Workaround != "":
			mark = "ok (workaround)"
		}
		d := f.Detail
		if f.Workaround != "" {
			d += "; WORKAROUND: " + f.Workaround
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", f.Resource, f.What, mark, d)
	}
	tw.Flush()
}

// CheckResources compares the deployed stack with the template it came
// from: every resource created; each queue's visibility timeout and redrive
// policy (its DLQ, its maxReceiveCount); each table's key and TTL; each
// rule's schedule, state and function target; each alarm's metric; each SQS
// event source mapping's batch size, partial batch responses and maximum
// concurrency.
//
// MiniStack's CloudFormation creates a table without the template's
// TimeToLiveSpecification. CheckResources then turns TTL on through the
// DynamoDB API as the template says, and reports it as a workaround: the
// template stays what AWS deploys.
func CheckResources(ctx context.Context, c Clients, t *template.Template, st *Stack) (Findings, error) {
	var fs Findings
	add := func(f Finding) { fs = append(fs, f) }
	add(Finding{Resource: st.Name, What: "stack status", OK: st.Complete(), Detail: st.Status})
	ids := make([]string, 0, len(t.Resources))
	for id := range t.Resources {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var missing []string
	for _, id := range ids {
		if _, ok := st.Resources[id]; !ok {
			missing = append(missing, id)
		}
	}
	add(Finding{Resource: st.Name, What: "every resource created", OK: len(missing) == 0,
		Detail: fmt.Sprintf("%d resources in the template, %d in the stack; missing %v", len(ids), len(st.Resources), missing)})

	for _, id := range ids {
		res := t.Resources[id]
		var err error
		switch res.Type {
		case "AWS::SQS::Queue":
			err = checkQueue(ctx, c, st, res, add)
		case "AWS::DynamoDB::Table":
			err = checkTable(ctx, c, st, res, add)
		case "AWS::Events::Rule":
			err = checkRule(ctx, c, st, res, add)
		case "AWS::CloudWatch::Alarm":
			err = checkAlarm(ctx, c, st, res, add)
		case "AWS::Serverless::Function":
			err = checkMappings(ctx, c, st, res, add)
		}
		if err != nil {
			return fs, err
		}
	}
	return fs, nil
}

func checkQueue(ctx context.Context, c Clients, st *Stack, res *template.Resource, add func(Finding)) error {
	url, err := st.Resolve(res.LogicalID)
	if err != nil {
		add(Finding{Resource: res.LogicalID, What: "queue", Detail: err.Error()})
		return nil
	}
	attrs, err := queueAttrs(ctx, c, url)
	if err != nil {
		return err
	}
	if want, ok := template.AsInt(res.Properties["VisibilityTimeout"]); ok {
		got := attrs[string(sqstypes.QueueAttributeNameVisibilityTimeout)]
		add(Finding{Resource: res.LogicalID, What: "visibility timeout", OK: got == strconv.Itoa(want), Detail: fmt.Sprintf("%s s, template %d s", got, want)})
	}
	rp, ok := res.Properties["RedrivePolicy"].(map[string]any)
	if !ok {
		return nil
	}
	var got struct {
		DeadLetterTargetArn string `json:"deadLetterTargetArn"`
		MaxReceiveCount     any    `json:"maxReceiveCount"`
	}
	raw := attrs[string(sqstypes.QueueAttributeNameRedrivePolicy)]
	if err := json.Unmarshal([]byte(raw), &got); err != nil {
		add(Finding{Resource: res.LogicalID, What: "redrive policy", Detail: fmt.Sprintf("no redrive policy: %q", raw)})
		return nil
	}
	dlqID := refID(rp["deadLetterTargetArn"])
	wantARN := ""
	if dlqURL, err := st.Resolve(dlqID); err == nil {
		if a, err := queueAttrs(ctx, c, dlqURL); err == nil {
			wantARN = a[string(sqstypes.QueueAttributeNameQueueArn)]
		}
	}
	wantMax, _ := template.AsInt(rp["maxReceiveCount"])
	gotMax, _ := template.AsInt(got.MaxReceiveCount)
	add(Finding{Resource: res.LogicalID, What: "redrive policy", OK: wantARN != "" && got.DeadLetterTargetArn == wantARN && gotMax == wantMax,
		Detail: fmt.Sprintf("to %s after %d receives (template: %s, %d)", got.DeadLetterTargetArn, gotMax, dlqID, wantMax)})
	return nil
}

func queueAttrs(ctx context.Context, c Clients, url string) (map[string]string, error) {
	out, err := c.SQS.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url), AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameAll}})
	if err != nil {
		return nil, fmt.Errorf("localcloud: attributes of %s: %w", url, err)
	}
	return out.Attributes, nil
}

func checkTable(ctx context.Context, c Clients, st *Stack, res *template.Resource, add func(Finding)) error {
	name, err := st.Resolve(res.LogicalID)
	if err != nil {
		add(Finding{Resource: res.LogicalID, What: "table", Detail: err.Error()})
		return nil
	}
	out, err := c.DynamoDB.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
	if err != nil {
		return fmt.Errorf("localcloud: table %s: %w", name, err)
	}
	var keys, wantKeys []string
	for _, k := range out.Table.KeySchema {
		keys = append(keys, aws.ToString(k.AttributeName)+" "+string(k.KeyType))
	}
	ks, _ := res.Properties["KeySchema"].([]any)
	for _, k := range ks {
		if m, ok := k.(map[string]any); ok {
			wantKeys = append(wantKeys, fmt.Sprint(m["AttributeName"])+" "+fmt.Sprint(m["KeyType"]))
		}
	}
	add(Finding{Resource: res.LogicalID, What: "key schema", OK: slices.Equal(keys, wantKeys), Detail: fmt.Sprintf("%v, template %v", keys, wantKeys)})
	gsis, _ := res.Properties["GlobalSecondaryIndexes"].([]any)
	for _, g := range gsis {
		m, _ := g.(map[string]any)
		idx := fmt.Sprint(m["IndexName"])
		found := slices.ContainsFunc(out.Table.GlobalSecondaryIndexes, func(d ddbtypes.GlobalSecondaryIndexDescription) bool { return aws.ToString(d.IndexName) == idx })
		add(Finding{Resource: res.LogicalID, What: "index " + idx, OK: found, Detail: fmt.Sprintf("%d global secondary indexes", len(out.Table.GlobalSecondaryIndexes))})
	}
	spec, ok := res.Properties["TimeToLiveSpecification"].(map[string]any)
	if !ok || fmt.Sprint(spec["Enabled"]) != "true" {
		return nil
	}
	attr := fmt.Sprint(spec["AttributeName"])
	got, err := ttlAttr(ctx, c, name)
	if err != nil {
		return err
	}
	f := Finding{Resource: res.LogicalID, What: "TTL"}
	if got != attr {
		// The gap: MiniStack's CloudFormation ignores the table's
		// TimeToLiveSpecification. Do what AWS would have done.
		if _, err := c.DynamoDB.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{TableName: aws.String(name),
			TimeToLiveSpecification: &ddbtypes.TimeToLiveSpecification{AttributeName: aws.String(attr), Enabled: aws.Bool(true)}}); err != nil {
			return fmt.Errorf("localcloud: enable TTL on %s: %w", name, err)
		}
		f.Workaround = fmt.Sprintf("the emulator's CloudFormation left TTL off (%q); enabled on %q through UpdateTimeToLive as the template says", got, attr)
		if got, err = ttlAttr(ctx, c, name); err != nil {
			return err
		}
	}
	f.OK = got == attr
	f.Detail = fmt.Sprintf("on %q, template %q", got, attr)
	add(f)
	return nil
}

// ttlAttr is the table's TTL attribute, or "" when TTL is off.
func ttlAttr(ctx context.Context, c Clients, table string) (string, error) {
	out, err := c.DynamoDB.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(table)})
	if err != nil {
		return "", fmt.Errorf("localcloud: TTL of %s: %w", table, err)
	}
	d := out.TimeToLiveDescription
	if d == nil || (d.TimeToLiveStatus != ddbtypes.TimeToLiveStatusEnabled && d.TimeToLiveStatus != ddbtypes.TimeToLiveStatusEnabling) {
		return "", nil
	}
	return aws.ToString(d.AttributeName), nil
}

func checkRule(ctx context.Context, c Clients, st *Stack, res *template.Resource, add func(Finding)) error {
	id, err := st.Resolve(res.LogicalID)
	if err != nil {
		add(Finding{Resource: res.LogicalID, What: "rule", Detail: err.Error()})
		return nil
	}
	name := ruleName(id)
	rule, err := c.Events.DescribeRule(ctx, &eventbridge.DescribeRuleInput{Name: aws.String(name)})
	if err != nil {
		return fmt.Errorf("localcloud: rule %s: %w", name, err)
	}
	want := fmt.Sprint(res.Properties["ScheduleExpression"])
	add(Finding{Resource: res.LogicalID, What: "schedule", OK: aws.ToString(rule.ScheduleExpression) == want && string(rule.State) == fmt.Sprint(res.Properties["State"]),
		Detail: fmt.Sprintf("%s %s, template %s %v", aws.ToString(rule.ScheduleExpression), rule.State, want, res.Properties["State"])})
	targets, err := c.Events.ListTargetsByRule(ctx, &eventbridge.ListTargetsByRuleInput{Rule: aws.String(name)})
	if err != nil {
		return fmt.Errorf("localcloud: targets of %s: %w", name, err)
	}
	var got, wantFns []string
	for _, tg := range targets.Targets {
		got = append(got, functionName(aws.ToString(tg.Arn)))
	}
	ts, _ := res.Properties["Targets"].([]any)
	for _, tg := range ts {
		m, _ := tg.(map[string]any)
		if fn, err := st.Resolve(refID(m["Arn"])); err == nil {
			wantFns = append(wantFns, fn)
		}
	}
	sort.Strings(got)
	sort.Strings(wantFns)
	add(Finding{Resource: res.LogicalID, What: "targets", OK: len(got) > 0 && slices.Equal(got, wantFns), Detail: fmt.Sprintf("%v, template %v", got, wantFns)})
	return nil
}

func checkAlarm(ctx context.Context, c Clients, st *Stack, res *template.Resource, add func(Finding)) error {
	name, err := st.Resolve(res.LogicalID)
	if err != nil {
		add(Finding{Resource: res.LogicalID, What: "alarm", Detail: err.Error()})
		return nil
	}
	alarms, err := describeAlarms(ctx, c.Config, name)
	if err != nil {
		return err
	}
	if len(alarms) != 1 {
		add(Finding{Resource: res.LogicalID, What: "alarm", Detail: fmt.Sprintf("%d alarms named %s", len(alarms), name)})
		return nil
	}
	a := alarms[0]
	want := fmt.Sprint(res.Properties["Namespace"]) + "/" + fmt.Sprint(res.Properties["MetricName"])
	got := a.Namespace + "/" + a.MetricName
	wantActions, _ := res.Properties["AlarmActions"].([]any)
	add(Finding{Resource: res.LogicalID, What: "alarm metric", OK: got == want && len(a.AlarmActions) == len(wantActions),
		Detail: fmt.Sprintf("%s, %d action(s), template %s, %d action(s)", got, len(a.AlarmActions), want, len(wantActions))})
	return nil
}

func checkMappings(ctx context.Context, c Clients, st *Stack, res *template.Resource, add func(Finding)) error {
	evs, _ := res.Properties["Events"].(map[string]any)
	names := make([]string, 0, len(evs))
	for n := range evs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		ev, _ := evs[n].(map[string]any)
		if fmt.Sprint(ev["Type"]) != "SQS" {
			continue
		}
		p, _ := ev["Properties"].(map[string]any)
		fn, err := st.Resolve(res.LogicalID)
		if err != nil {
			add(Finding{Resource: res.LogicalID, What: "function", Detail: err.Error()})
			continue
		}
		queueURL, err := st.Resolve(refID(p["Queue"]))
		if err != nil {
			add(Finding{Resource: res.LogicalID, What: "event " + n, Detail: err.Error()})
			continue
		}
		qa, err := queueAttrs(ctx, c, queueURL)
		if err != nil {
			return err
		}
		out, err := c.Lambda.ListEventSourceMappings(ctx, &lambda.ListEventSourceMappingsInput{FunctionName: aws.String(fn), EventSourceArn: aws.String(qa[string(sqstypes.QueueAttributeNameQueueArn)])})
		if err != nil {
			return fmt.Errorf("localcloud: mappings of %s: %w", fn, err)
		}
		if len(out.EventSourceMappings) != 1 {
			add(Finding{Resource: res.LogicalID, What: "event " + n, Detail: fmt.Sprintf("%d mappings from %s", len(out.EventSourceMappings), queueURL)})
			continue
		}
		m := out.EventSourceMappings[0]
		var detail []string
		ok := true
		if want, has := template.AsInt(p["BatchSize"]); has {
			ok = ok && int(aws.ToInt32(m.BatchSize)) == want
			detail = append(detail, fmt.Sprintf("batch %d (template %d)", aws.ToInt32(m.BatchSize), want))
		}
		var rt []string
		for _, t := range m.FunctionResponseTypes {
			rt = append(rt, string(t))
		}
		if want, _ := p["FunctionResponseTypes"].([]any); len(want) > 0 {
			ok = ok && slices.Contains(rt, "ReportBatchItemFailures")
			detail = append(detail, fmt.Sprintf("response types %v", rt))
		}
		if sc, has := p["ScalingConfig"].(map[string]any); has {
			want, _ := template.AsInt(sc["MaximumConcurrency"])
			got := 0
			if m.ScalingConfig != nil {
				got = int(aws.ToInt32(m.ScalingConfig.MaximumConcurrency))
			}
			ok = ok && got == want
			detail = append(detail, fmt.Sprintf("maximum concurrency %d (template %d)", got, want))
		}
		add(Finding{Resource: res.LogicalID, What: "event " + n, OK: ok, Detail: strings.Join(detail, ", ")})
	}
	return nil
}

// refID is the logical id a !Ref or !GetAtt names; "" for anything else.
func refID(v any) string {
	in, ok := v.(*template.Intrinsic)
	if !ok {
		return ""
	}
	switch a := in.Arg.(type) {
	case string:
		id, _, _ := strings.Cut(a, ".")
		return id
	case []any:
		if len(a) > 0 {
			return fmt.Sprint(a[0])
		}
	}
	return ""
}
