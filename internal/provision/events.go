package provision

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/latchkit/latch/internal/schedule"
	"github.com/latchkit/latch/internal/template"
)

func (p *Provisioner) bus(ctx context.Context, rs *template.Resource, r *template.Resolver, res *Result) (Resource, error) {
	pr := newProps(rs, r, nil, &res.Notes)
	name, ok, err := pr.str("Name")
	if err != nil {
		return Resource{}, err
	}
	if !ok {
		return Resource{}, pr.errorf("Name", "is required")
	}
	desc, _, err := pr.str("Description")
	if err != nil {
		return Resource{}, err
	}
	tags, err := pr.tags("Tags")
	if err != nil {
		return Resource{}, err
	}
	if _, ok := pr.raw["EventSourceName"]; ok {
		return Resource{}, pr.errorf("EventSourceName", "partner event buses are not supported by latch")
	}
	pr.notApplied("no KMS locally", "KmsKeyIdentifier")
	pr.notApplied("no resource policies locally", "Policy")
	pr.notApplied("failed deliveries are not dead-lettered by the emulator", "DeadLetterConfig")
	pr.notApplied("no CloudWatch Logs locally", "LogConfig")
	if err := pr.done(); err != nil {
		return Resource{}, err
	}
	out := Resource{LogicalID: rs.LogicalID, Type: rs.Type, Name: name, Action: Created}
	in := &eventbridge.CreateEventBusInput{Name: aws.String(name)}
	if desc != "" {
		in.Description = aws.String(desc)
	}
	for _, k := range sortedKeys(tags) {
		in.Tags = append(in.Tags, types.Tag{Key: aws.String(k), Value: aws.String(tags[k])})
	}
	var arn string
	created, err := p.EventBridge.CreateEventBus(ctx, in)
	var exists *types.ResourceAlreadyExistsException
	switch {
	case errors.As(err, &exists):
		d, err := p.EventBridge.DescribeEventBus(ctx, &eventbridge.DescribeEventBusInput{Name: aws.String(name)})
		if err != nil {
			return out, fmt.Errorf("describe bus %s: %w", name, err)
		}
		arn, out.Action = aws.ToString(d.Arn), Unchanged
	case err != nil:
		return out, fmt.Errorf("create bus %s: %w", name, err)
	default:
		arn = aws.ToString(created.EventBusArn)
	}
	out.Physical = template.Physical{Ref: name, Attrs: map[string]string{"Arn": arn, "Name": name}}
	return out, nil
}

// ruleSpec is a rule as the template declares it.
type ruleSpec struct {
	logicalID   string
	name        string
	bus         string // name, or ARN as written
	description string
	pattern     string
	schedule    string
	state       types.RuleState
	sqsTargets  []types.Target
	functions   []FunctionTarget
}

func (p *Provisioner) rule(ctx context.Context, t *template.Template, rs *template.Resource, r *template.Resolver, res *Result) (Resource, error) {
	spec, err := readRule(t, rs, r, res)
	if err != nil {
		return Resource{}, err
	}
	return p.putRule(ctx, rs.Type, spec, res)
}

func readRule(t *template.Template, rs *template.Resource, r *template.Resolver, res *Result) (ruleSpec, error) {
	pr := newProps(rs, r, nil, &res.Notes)
	spec := ruleSpec{logicalID: rs.LogicalID}
	var err error
	var ok bool
	if spec.name, ok, err = pr.str("Name"); err != nil {
		return ruleSpec{}, err
	} else if !ok {
		spec.name = physicalName(r.Pseudo().StackName, rs.LogicalID, "", 64)
	}
	if spec.bus, _, err = pr.str("EventBusName"); err != nil {
		return ruleSpec{}, err
	}
	if spec.description, _, err = pr.str("Description"); err != nil {
		return ruleSpec{}, err
	}
	if spec.pattern, _, err = pr.jsonDoc("EventPattern"); err != nil {
		return ruleSpec{}, err
	}
	if spec.schedule, _, err = pr.str("ScheduleExpression"); err != nil {
		return ruleSpec{}, err
	}
	state, _, err := pr.str("State")
	if err != nil {
		return ruleSpec{}, err
	}
	if spec.state, err = ruleState(state); err != nil {
		return ruleSpec{}, pr.errorf("State", "%v", err)
	}
	pr.notApplied("no IAM locally", "RoleArn")
	if err := readTargets(t, pr, &spec, res); err != nil {
		return ruleSpec{}, err
	}
	if err := pr.done(); err != nil {
		return ruleSpec{}, err
	}
	if err := checkRule(spec); err != nil {
		return ruleSpec{}, pr.errorf("ScheduleExpression", "%v", err)
	}
	return spec, nil
}

func ruleState(s string) (types.RuleState, error) {
	switch s {
	case "", "ENABLED":
		return types.RuleStateEnabled, nil
	case "DISABLED":
		return types.RuleStateDisabled, nil
	case "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS":
		return types.RuleState(s), nil
	}
	return "", fmt.Errorf("%q is not ENABLED or DISABLED", s)
}

func checkRule(spec ruleSpec) error {
	switch {
	case spec.pattern == "" && spec.schedule == "":
		return fmt.Errorf("a rule needs an EventPattern or a ScheduleExpression")
	case spec.schedule != "":
		if spec.bus != "" && spec.bus != "default" && !strings.HasSuffix(spec.bus, ":event-bus/default") {
			return fmt.Errorf("schedule rules run only on the default event bus, not %s", spec.bus)
		}
		if _, err := schedule.Parse(spec.schedule); err != nil {
			return err
		}
	}
	return nil
}

// readTargets sorts the rule's targets: SQS queues go to the emulator,
// functions of the template to the local runner (the emulator cannot
// invoke them), anything else is noted as not delivered locally.
func readTargets(t *template.Template, pr *props, spec *ruleSpec, res *Result) error {
	pr.seen["Targets"] = true
	raw, ok := pr.raw["Targets"]
	if !ok {
		return nil
	}
	list, ok := raw.([]any)
	if !ok {
		return pr.errorf("Targets", "must be a list")
	}
	for i, e := range list {
		key := fmt.Sprintf("Targets[%d]", i)
		m, ok := e.(map[string]any)
		if !ok {
			return pr.errorf(key, "must be a map")
		}
		tp := newProps(pr.res, pr.r, m, pr.notes)
		tp.prefix = pr.path(key)
		id, ok, err := tp.str("Id")
		if err != nil {
			return err
		}
		if !ok {
			return tp.errorf("Id", "is required")
		}
		if fn := functionRef(t, m["Arn"]); fn != "" {
			tp.seen["Arn"] = true
			ft := FunctionTarget{Function: fn, ID: id}
			if ft.Input, _, err = tp.jsonDoc("Input"); err != nil {
				return err
			}
			if ft.InputPath, _, err = tp.str("InputPath"); err != nil {
				return err
			}
			if _, ok := m["InputTransformer"]; ok {
				return tp.errorf("InputTransformer", "input transformers on function targets are not supported by latch local")
			}
			tp.notApplied("latch local retries as its own runner does", "RetryPolicy", "DeadLetterConfig")
			if err := tp.done(); err != nil {
				return err
			}
			spec.functions = append(spec.functions, ft)
			continue
		}
		arn, ok, err := tp.str("Arn")
		if err != nil {
			return err
		}
		if !ok {
			return tp.errorf("Arn", "is required")
		}
		if !strings.Contains(arn, ":sqs:") {
			for k := range m {
				tp.seen[k] = true
			}
			res.Notes = append(res.Notes, Note{LogicalID: pr.res.LogicalID, Property: strings.TrimPrefix(tp.prefix, "Resources."+pr.res.LogicalID+".Properties."),
				Reason: fmt.Sprintf("target %s (%s) is not delivered locally: only SQS queues and the template's functions are", id, arn)})
			continue
		}
		target, err := sqsTarget(tp, id, arn)
		if err != nil {
			return err
		}
		spec.sqsTargets = append(spec.sqsTargets, target)
	}
	return nil
}

// functionRef returns the logical id of the template function an ARN
// expression refers to (!GetAtt Fn.Arn, !Ref Fn, a !Sub naming it), or "".
func functionRef(t *template.Template, arn any) string {
	for _, id := range t.References(arn) {
		switch t.Resource(id).Type {
		case template.TypeServerlessFunction, template.TypeLambdaFunction:
			return id
		}
	}
	return ""
}

func sqsTarget(tp *props, id, arn string) (types.Target, error) {
	target := types.Target{Id: aws.String(id), Arn: aws.String(arn)}
	if v, ok, err := tp.get("SqsParameters"); err != nil {
		return target, err
	} else if ok {
		m, _ := v.(map[string]any)
		g, ok := template.AsString(m["MessageGroupId"])
		if !ok || g == "" {
			return target, tp.errorf("SqsParameters", "MessageGroupId is required")
		}
		target.SqsParameters = &types.SqsParameters{MessageGroupId: aws.String(g)}
	}
	if in, ok, err := tp.jsonDoc("Input"); err != nil {
		return target, err
	} else if ok {
		target.Input = aws.String(in)
	}
	if path, ok, err := tp.str("InputPath"); err != nil {
		return target, err
	} else if ok {
		target.InputPath = aws.String(path)
	}
	if v, ok, err := tp.get("InputTransformer"); err != nil {
		return target, err
	} else if ok {
		m, _ := v.(map[string]any)
		tmpl, ok := template.AsString(m["InputTemplate"])
		if !ok {
			return target, tp.errorf("InputTransformer", "InputTemplate is required")
		}
		it := &types.InputTransformer{InputTemplate: aws.String(tmpl)}
		if paths, ok := m["InputPathsMap"].(map[string]any); ok {
			it.InputPathsMap = map[string]string{}
			for k, p := range paths {
				s, _ := template.AsString(p)
				it.InputPathsMap[k] = s
			}
		}
		target.InputTransformer = it
	}
	if v, ok, err := tp.get("DeadLetterConfig"); err != nil {
		return target, err
	} else if ok {
		m, _ := v.(map[string]any)
		if a, ok := template.AsString(m["Arn"]); ok {
			target.DeadLetterConfig = &types.DeadLetterConfig{Arn: aws.String(a)}
		}
	}
	if v, ok, err := tp.get("RetryPolicy"); err != nil {
		return target, err
	} else if ok {
		m, _ := v.(map[string]any)
		rp := &types.RetryPolicy{}
		if n, ok := template.AsInt(m["MaximumRetryAttempts"]); ok {
			rp.MaximumRetryAttempts = aws.Int32(int32(n))
		}
		if n, ok := template.AsInt(m["MaximumEventAgeInSeconds"]); ok {
			rp.MaximumEventAgeInSeconds = aws.Int32(int32(n))
		}
		target.RetryPolicy = rp
	}
	tp.notApplied("no IAM locally", "RoleArn")
	return target, tp.done()
}

// eventRule creates the rule SAM makes for a function's Schedule,
// EventBridgeRule or CloudWatchEvent event; its logical id is SAM's, the
// function's id followed by the event's name.
func (p *Provisioner) eventRule(ctx context.Context, fn *template.Resource, ev template.Event, r *template.Resolver, res *Result) (Resource, error) {
	spec, err := readEventRule(fn, ev, r, res)
	if err != nil {
		return Resource{}, err
	}
	return p.putRule(ctx, template.TypeEventRule, spec, res)
}

func readEventRule(fn *template.Resource, ev template.Event, r *template.Resolver, res *Result) (ruleSpec, error) {
	pr := newEventProps(fn, ev, r, &res.Notes)
	spec := ruleSpec{logicalID: fn.LogicalID + ev.Name}
	nameKey := "RuleName"
	if ev.Type == "Schedule" {
		nameKey = "Name"
	}
	var err error
	var ok bool
	if spec.name, ok, err = pr.str(nameKey); err != nil {
		return ruleSpec{}, err
	} else if !ok {
		spec.name = physicalName(r.Pseudo().StackName, spec.logicalID, "", 64)
	}
	if spec.description, _, err = pr.str("Description"); err != nil {
		return ruleSpec{}, err
	}
	ft := FunctionTarget{Function: fn.LogicalID, ID: spec.logicalID + "LambdaTarget"}
	if ft.Input, _, err = pr.jsonDoc("Input"); err != nil {
		return ruleSpec{}, err
	}
	state, _, err := pr.str("State")
	if err != nil {
		return ruleSpec{}, err
	}
	if spec.state, err = ruleState(state); err != nil {
		return ruleSpec{}, pr.errorf("State", "%v", err)
	}
	if enabled, ok, err := pr.bool("Enabled"); err != nil {
		return ruleSpec{}, err
	} else if ok && !enabled {
		spec.state = types.RuleStateDisabled
	}
	if ev.Type == "Schedule" {
		if spec.schedule, ok, err = pr.str("Schedule"); err != nil {
			return ruleSpec{}, err
		} else if !ok {
			return ruleSpec{}, pr.errorf("Schedule", "is required")
		}
	} else {
		if spec.pattern, ok, err = pr.jsonDoc("Pattern"); err != nil {
			return ruleSpec{}, err
		} else if !ok {
			return ruleSpec{}, pr.errorf("Pattern", "is required")
		}
		if spec.bus, _, err = pr.str("EventBusName"); err != nil {
			return ruleSpec{}, err
		}
		if ft.InputPath, _, err = pr.str("InputPath"); err != nil {
			return ruleSpec{}, err
		}
		if _, ok := pr.raw["InputTransformer"]; ok {
			return ruleSpec{}, pr.errorf("InputTransformer", "input transformers on function targets are not supported by latch local")
		}
		if v, ok, err := pr.get("Target"); err != nil {
			return ruleSpec{}, err
		} else if ok {
			m, _ := v.(map[string]any)
			if id, ok := template.AsString(m["Id"]); ok {
				ft.ID = id
			}
		}
	}
	pr.notApplied("latch local retries as its own runner does", "RetryPolicy", "DeadLetterConfig")
	if err := pr.done(); err != nil {
		return ruleSpec{}, err
	}
	spec.functions = []FunctionTarget{ft}
	if err := checkRule(spec); err != nil {
		return ruleSpec{}, pr.errorf("Schedule", "%v", err)
	}
	return spec, nil
}

// putRule creates or updates the rule and its SQS targets, removes targets
// the template no longer lists, and records the rule in res.Rules.
func (p *Provisioner) putRule(ctx context.Context, typ string, spec ruleSpec, res *Result) (Resource, error) {
	out := Resource{LogicalID: spec.logicalID, Type: typ, Name: spec.name, Action: Created}
	bus := spec.bus
	if bus == "" {
		bus = "default"
	}
	existing, err := p.EventBridge.DescribeRule(ctx, &eventbridge.DescribeRuleInput{Name: aws.String(spec.name), EventBusName: aws.String(bus)})
	var missing *types.ResourceNotFoundException
	switch {
	case errors.As(err, &missing):
		existing = nil
	case err != nil:
		return out, fmt.Errorf("describe rule %s: %w", spec.name, err)
	}
	in := &eventbridge.PutRuleInput{Name: aws.String(spec.name), EventBusName: aws.String(bus), State: spec.state}
	if spec.description != "" {
		in.Description = aws.String(spec.description)
	}
	if spec.pattern != "" {
		in.EventPattern = aws.String(spec.pattern)
	}
	if spec.schedule != "" {
		in.ScheduleExpression = aws.String(spec.schedule)
	}
	changed := existing == nil || !sameRule(existing, in)
	arn := ""
	if existing != nil {
		arn = aws.ToString(existing.Arn)
	}
	if changed {
		put, err := p.EventBridge.PutRule(ctx, in)
		if err != nil {
			return out, fmt.Errorf("put rule %s: %w", spec.name, err)
		}
		arn = aws.ToString(put.RuleArn)
	}
	targetsChanged, err := p.syncTargets(ctx, spec.name, bus, spec.sqsTargets)
	if err != nil {
		return out, err
	}
	switch {
	case existing != nil && (changed || targetsChanged):
		out.Action = Updated
	case existing != nil:
		out.Action = Unchanged
	}
	ref := spec.name
	busName := bus
	if i := strings.LastIndex(bus, "/"); i >= 0 {
		busName = bus[i+1:]
	}
	if busName != "default" {
		// CloudFormation's Ref of a rule on a custom bus is "bus|rule".
		ref = busName + "|" + spec.name
	}
	out.Physical = template.Physical{Ref: ref, Attrs: map[string]string{"Arn": arn}}
	res.Rules = append(res.Rules, Rule{
		LogicalID: spec.logicalID, Name: spec.name, ARN: arn, Bus: busName,
		ScheduleExpression: spec.schedule, EventPattern: spec.pattern,
		Enabled: spec.state != types.RuleStateDisabled, Functions: spec.functions,
	})
	return out, nil
}

func sameRule(have *eventbridge.DescribeRuleOutput, want *eventbridge.PutRuleInput) bool {
	return aws.ToString(have.ScheduleExpression) == aws.ToString(want.ScheduleExpression) &&
		aws.ToString(have.Description) == aws.ToString(want.Description) &&
		have.State == want.State &&
		sameJSON(aws.ToString(have.EventPattern), aws.ToString(want.EventPattern))
}

func sameJSON(a, b string) bool {
	if a == b {
		return true
	}
	var x, y any
	if json.Unmarshal([]byte(a), &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

// syncTargets makes the rule's targets exactly want; it reports whether it
// changed anything.
func (p *Provisioner) syncTargets(ctx context.Context, rule, bus string, want []types.Target) (bool, error) {
	have := map[string]types.Target{}
	var next *string
	for {
		out, err := p.EventBridge.ListTargetsByRule(ctx, &eventbridge.ListTargetsByRuleInput{Rule: aws.String(rule), EventBusName: aws.String(bus), NextToken: next})
		if err != nil {
			return false, fmt.Errorf("list targets of %s: %w", rule, err)
		}
		for _, t := range out.Targets {
			have[aws.ToString(t.Id)] = t
		}
		if next = out.NextToken; next == nil {
			break
		}
	}
	var put []types.Target
	wanted := map[string]bool{}
	for _, t := range want {
		wanted[aws.ToString(t.Id)] = true
		if h, ok := have[aws.ToString(t.Id)]; !ok || !sameTarget(h, t) {
			put = append(put, t)
		}
	}
	var remove []string
	for id := range have {
		if !wanted[id] {
			remove = append(remove, id)
		}
	}
	sort.Strings(remove)
	if len(remove) > 0 {
		if _, err := p.EventBridge.RemoveTargets(ctx, &eventbridge.RemoveTargetsInput{Rule: aws.String(rule), EventBusName: aws.String(bus), Ids: remove}); err != nil {
			return false, fmt.Errorf("remove targets %v of %s: %w", remove, rule, err)
		}
	}
	for i := 0; i < len(put); i += 10 { // PutTargets takes 10 at a time
		end := min(i+10, len(put))
		out, err := p.EventBridge.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String(rule), EventBusName: aws.String(bus), Targets: put[i:end]})
		if err != nil {
			return false, fmt.Errorf("put targets of %s: %w", rule, err)
		}
		if out.FailedEntryCount > 0 {
			e := out.FailedEntries[0]
			return false, fmt.Errorf("put target %s of %s: %s %s", aws.ToString(e.TargetId), rule, aws.ToString(e.ErrorCode), aws.ToString(e.ErrorMessage))
		}
	}
	return len(put) > 0 || len(remove) > 0, nil
}

func sameTarget(a, b types.Target) bool {
	group := func(t types.Target) string {
		if t.SqsParameters == nil {
			return ""
		}
		return aws.ToString(t.SqsParameters.MessageGroupId)
	}
	return aws.ToString(a.Arn) == aws.ToString(b.Arn) && group(a) == group(b) &&
		aws.ToString(a.Input) == aws.ToString(b.Input) && aws.ToString(a.InputPath) == aws.ToString(b.InputPath) &&
		(a.InputTransformer == nil) == (b.InputTransformer == nil)
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
