package template

import (
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// created gives the fixture's resources physical values as the provisioner
// would.
func created(r *Resolver) {
	arn := func(name string) string { return "arn:aws:sqs:eu-west-1:000000000000:" + name }
	for id, name := range map[string]string{"OrderQueue": "stk-OrderQueue", "OrderDLQ": "stk-OrderDLQ", "LedgerQueue": "stk-ledger.fifo", "LedgerDLQ": "stk-ledger-dlq.fifo"} {
		r.Set(id, Physical{Ref: "http://sqs.local/000000000000/" + name, Attrs: map[string]string{"Arn": arn(name), "QueueName": name}})
	}
	r.Set("IdempotencyTable", Physical{Ref: "stk-IdempotencyTable", Attrs: map[string]string{"Arn": "arn:table/stk-IdempotencyTable"}})
	r.Set("OrdersTable", Physical{Ref: "stk-OrdersTable"})
	r.Set("OrdersBus", Physical{Ref: "stk-orders", Attrs: map[string]string{"Arn": "arn:bus/stk-orders", "Name": "stk-orders"}})
}

func newFixtureResolver(t *testing.T, params map[string]string) (*Template, *Resolver) {
	t.Helper()
	tpl := loadFixture(t)
	r, err := NewResolver(tpl, Pseudo{Region: "eu-west-1", AccountID: "000000000000", StackName: "stk"}, params)
	if err != nil {
		t.Fatal(err)
	}
	created(r)
	return tpl, r
}

func TestResolveFunctionEnvironment(t *testing.T) {
	t.Parallel()
	tpl, r := newFixtureResolver(t, nil)
	got, err := r.Resolve("env", mustProp(t, tpl.Resource("OrderWorker"), "Environment", "Variables"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"LOG_LEVEL":         "debug",
		"IDEMPOTENCY_TABLE": "stk-IdempotencyTable",
		"STAGE":             "local",
		"ORDERS_TABLE":      "stk-OrdersTable",
		"BUS_NAME":          "stk-orders",
		"DLQ_URL":           "http://sqs.local/000000000000/stk-OrderDLQ",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}

	// Sub with a variable map, Select over a CommaDelimitedList, the ${!}
	// escape, and !If on a false condition dropping the variable.
	got, err = r.Resolve("env", mustProp(t, tpl.Resource("DailyReport"), "Environment", "Variables"))
	if err != nil {
		t.Fatal(err)
	}
	vars := got.(map[string]any)
	if vars["REPORT_PREFIX"] != "payments-eu-west-1-${literal}" {
		t.Errorf("REPORT_PREFIX = %q", vars["REPORT_PREFIX"])
	}
	if _, ok := vars["OPTIONAL"]; ok {
		t.Errorf("OPTIONAL = %v, want it removed by AWS::NoValue", vars["OPTIONAL"])
	}
}

func mustProp(t *testing.T, r *Resource, path ...string) any {
	t.Helper()
	v, ok := r.Property(path...)
	if !ok {
		t.Fatalf("%s has no %v", r.LogicalID, path)
	}
	return v
}

func TestResolveProperties(t *testing.T) {
	t.Parallel()
	tpl, r := newFixtureResolver(t, map[string]string{"Stage": "prod", "AlarmTopic": "arn:topic"})
	for _, tc := range []struct {
		name string
		id   string
		want map[string]any
	}{
		{name: "GetAtt short form in a map", id: "OrderQueue", want: map[string]any{
			"VisibilityTimeout": 60,
			"RedrivePolicy":     map[string]any{"deadLetterTargetArn": "arn:aws:sqs:eu-west-1:000000000000:stk-OrderDLQ", "maxReceiveCount": 5},
		}},
		{name: "Join with a pseudo parameter and GetAtt long form", id: "LedgerQueue", want: map[string]any{
			"FifoQueue": true, "ContentBasedDeduplication": true, "QueueName": "stk-ledger.fifo",
			"RedrivePolicy": map[string]any{"deadLetterTargetArn": "arn:aws:sqs:eu-west-1:000000000000:stk-ledger-dlq.fifo", "maxReceiveCount": 3},
		}},
		{name: "Ref of a bus and a target list", id: "OrderAcceptedRule", want: map[string]any{
			"EventBusName": "stk-orders",
			"EventPattern": map[string]any{"source": []any{"latch.orders"}, "detail-type": []any{"OrderAccepted"}},
			"Targets": []any{map[string]any{"Id": "ledger", "Arn": "arn:aws:sqs:eu-west-1:000000000000:stk-ledger.fifo",
				"SqsParameters": map[string]any{"MessageGroupId": "$.detail.customer_id"}}},
		}},
		{name: "parameter value given", id: "ProdAlarm", want: map[string]any{
			"AlarmActions": []any{"arn:topic"},
			"Dimensions":   []any{map[string]any{"Name": "QueueName", "Value": "stk-OrderDLQ"}},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := r.Properties(tpl.Resource(tc.id))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	// FindInMap keyed by a parameter.
	ev, _ := tpl.Resource("OrderWorker").Events()
	got, err := r.Resolve("BatchSize", ev[0].Properties["BatchSize"])
	if err != nil || got != 5 {
		t.Errorf("BatchSize = %v, %v; want 5 for prod", got, err)
	}
	// The original template is untouched by resolution.
	if _, ok := tpl.Resource("OrderQueue").Properties["RedrivePolicy"].(map[string]any)["deadLetterTargetArn"].(*Intrinsic); !ok {
		t.Error("Resolve modified the template")
	}
}

func TestResolveOutputs(t *testing.T) {
	t.Parallel()
	_, r := newFixtureResolver(t, nil)
	got, err := r.Outputs()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"OrderQueueUrl": "http://sqs.local/000000000000/stk-OrderQueue",
		"OrderQueueArn": "arn:aws:sqs:eu-west-1:000000000000:stk-OrderQueue",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Outputs (-want +got), AlarmName must be left out by its condition:\n%s", diff)
	}
}

func TestConditions(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		stage string
		want  map[string]bool
	}{
		{stage: "local", want: map[string]bool{"IsProd": false, "NotProd": true, "LocalOrDev": true, "ProdAndLocal": false}},
		{stage: "dev", want: map[string]bool{"IsProd": false, "NotProd": true, "LocalOrDev": true, "ProdAndLocal": false}},
		{stage: "prod", want: map[string]bool{"IsProd": true, "NotProd": false, "LocalOrDev": false, "ProdAndLocal": false}},
	} {
		t.Run(tc.stage, func(t *testing.T) {
			t.Parallel()
			tpl, r := newFixtureResolver(t, map[string]string{"Stage": tc.stage})
			got := map[string]bool{}
			for name := range tpl.Conditions {
				v, err := r.Condition(name)
				if err != nil {
					t.Fatal(err)
				}
				got[name] = v
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			on, err := r.Enabled(tpl.Resource("ProdAlarm"))
			if err != nil || on != tc.want["IsProd"] {
				t.Errorf("Enabled(ProdAlarm) = %v, %v", on, err)
			}
		})
	}
}

func TestPseudoParameters(t *testing.T) {
	t.Parallel()
	tpl := MustParse([]byte(`Resources: {A: {Type: X}}`))
	sub := func(r *Resolver) string {
		s, err := r.ResolveString("p", &Intrinsic{Name: "Fn::Sub", Arg: "${AWS::Partition}|${AWS::Region}|${AWS::AccountId}|${AWS::StackName}|${AWS::URLSuffix}|${AWS::StackId}"})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	def, _ := NewResolver(tpl, Pseudo{}, nil)
	if got, want := sub(def), "aws|us-east-1|123456789012|latch|amazonaws.com|arn:aws:cloudformation:us-east-1:123456789012:stack/latch/00000000-0000-0000-0000-000000000000"; got != want {
		t.Errorf("defaults: got %q, want %q", got, want)
	}
	cn, _ := NewResolver(tpl, Pseudo{Region: "cn-north-1", StackID: "id"}, nil)
	if got, want := sub(cn), "aws-cn|cn-north-1|123456789012|latch|amazonaws.com.cn|id"; got != want {
		t.Errorf("china: got %q, want %q", got, want)
	}
}

func TestResolveErrors(t *testing.T) {
	t.Parallel()
	src := `
Parameters:
  NoDefault: {Type: String}
  FromSSM: {Type: "AWS::SSM::Parameter::Value<String>", Default: /x}
Conditions:
  Loop1: !Condition Loop2
  Loop2: !Condition Loop1
  Off: !Equals [a, b]
Resources:
  Made: {Type: AWS::SQS::Queue}
  NotMade: {Type: AWS::SQS::Queue}
  Gone: {Type: AWS::SQS::Queue, Condition: Off}
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Import: !ImportValue shared-vpc
      AZ: !Select [0, !GetAZs ""]
      Missing: !GetAtt NotMade.Arn
      BadAttr: !GetAtt Made.StreamArn
      Unknown: !Ref Nobody
      NoDefault: !Ref NoDefault
      SSM: !Ref FromSSM
      OutOfRange: !Select [5, [a, b]]
      GoneRef: !Ref Gone
      Loop: !If [Loop1, a, b]
      JoinMap: !Join [",", [a, {k: v}]]
      SubOpen: !Sub "${Made"
      Cidr: !Cidr [10.0.0.0/16, 2, 8]
      Length: {"Fn::Length": [1, 2]}
      Pseudo: !Ref AWS::Nonsense
      GetAttNoDot: !GetAtt Made
`
	tpl := MustParse([]byte(src))
	r, err := NewResolver(tpl, Pseudo{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	r.Set("Made", Physical{Ref: "u", Attrs: map[string]string{"Arn": "a", "QueueName": "q"}})
	props := tpl.Resource("Fn").Properties
	for _, tc := range []struct {
		prop string
		want []string
	}{
		{prop: "Import", want: []string{"Resources.Fn.Properties.Import (line 16)", "Fn::ImportValue is not supported by latch"}},
		{prop: "AZ", want: []string{"Fn::GetAZs is not supported by latch"}},
		{prop: "Missing", want: []string{"!GetAtt NotMade.Arn", "NotMade (AWS::SQS::Queue) has no local value"}},
		{prop: "BadAttr", want: []string{"no attribute StreamArn locally (it has: Arn, QueueName)"}},
		{prop: "Unknown", want: []string{`no parameter or resource named "Nobody"`}},
		{prop: "NoDefault", want: []string{"parameter NoDefault has no default and no value was given"}},
		{prop: "SSM", want: []string{"reads SSM Parameter Store"}},
		{prop: "OutOfRange", want: []string{"index 5 is out of range for a list of 2"}},
		{prop: "GoneRef", want: []string{"its condition Off is false"}},
		{prop: "Loop", want: []string{"condition refers to itself"}},
		{prop: "JoinMap", want: []string{"element 1 is a map, not a string"}},
		{prop: "SubOpen", want: []string{"unclosed ${"}},
		{prop: "Cidr", want: []string{"Fn::Cidr is not supported"}},
		{prop: "Length", want: []string{"Fn::Length is not supported"}},
		{prop: "Pseudo", want: []string{"unknown pseudo parameter AWS::Nonsense"}},
		{prop: "GetAttNoDot", want: []string{"takes LogicalId.Attribute"}},
	} {
		t.Run(tc.prop, func(t *testing.T) {
			t.Parallel()
			_, err := r.Resolve("Resources.Fn.Properties."+tc.prop, props[tc.prop])
			if err == nil {
				t.Fatal("resolved, want an error")
			}
			var te *Error
			if !errors.As(err, &te) {
				t.Errorf("%v is not a *template.Error", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}

	if _, err := NewResolver(tpl, Pseudo{}, map[string]string{"Typo": "x"}); err == nil || !strings.Contains(err.Error(), `no parameter named "Typo"`) {
		t.Errorf("unknown parameter override: %v", err)
	}
	constrained := MustParse([]byte(`
Parameters:
  Pct: {Type: Number, MinValue: 0, MaxValue: 100}
  Name: {Type: String, AllowedPattern: "[a-z]+", MinLength: 2, MaxLength: 4}
Resources: {A: {Type: X}}`))
	for _, tc := range []struct {
		params map[string]string
		want   string
	}{
		{params: map[string]string{"Pct": "101"}, want: "above its MaxValue 100"},
		{params: map[string]string{"Pct": "-1"}, want: "below its MinValue 0"},
		{params: map[string]string{"Pct": "many"}, want: "is not a number"},
		{params: map[string]string{"Name": "ABC"}, want: "does not match its AllowedPattern"},
		{params: map[string]string{"Name": "a"}, want: "shorter than its MinLength 2"},
		{params: map[string]string{"Name": "abcde"}, want: "longer than its MaxLength 4"},
		{params: map[string]string{"Pct": "50", "Name": "abc"}},
	} {
		_, err := NewResolver(constrained, Pseudo{}, tc.params)
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("NewResolver(%v) = %v, want %q", tc.params, err, tc.want)
		}
	}
	fixture := loadFixture(t)
	if _, err := NewResolver(fixture, Pseudo{}, map[string]string{"Stage": "qa"}); err == nil || !strings.Contains(err.Error(), "AllowedValues") {
		t.Errorf("disallowed value: %v", err)
	}
}

func TestResolveScalarsAndHelpers(t *testing.T) {
	t.Parallel()
	tpl := MustParse([]byte("Parameters: {N: {Type: Number, Default: 7}, L: {Type: 'List<Number>', Default: '1,2'}}\nResources: {A: {Type: X}}"))
	r, _ := NewResolver(tpl, Pseudo{}, nil)
	for _, tc := range []struct {
		name string
		in   any
		want any
	}{
		{name: "literal", in: 3, want: 3},
		{name: "number parameter as string", in: &Intrinsic{Name: "Ref", Arg: "N"}, want: "7"},
		{name: "list parameter", in: &Intrinsic{Name: "Ref", Arg: "L"}, want: []any{"1", "2"}},
		{name: "split", in: &Intrinsic{Name: "Fn::Split", Arg: []any{"|", "a|b||c"}}, want: []any{"a", "b", "", "c"}},
		{name: "base64", in: &Intrinsic{Name: "Fn::Base64", Arg: "latch"}, want: "bGF0Y2g="},
		{name: "select with string index", in: &Intrinsic{Name: "Fn::Select", Arg: []any{"1", &Intrinsic{Name: "Ref", Arg: "L"}}}, want: "2"},
		{name: "join of numbers", in: &Intrinsic{Name: "Fn::Join", Arg: []any{"+", []any{1, 2.5, true}}}, want: "1+2.5+true"},
		{name: "no value at top", in: &Intrinsic{Name: "Ref", Arg: "AWS::NoValue"}, want: nil},
		{name: "no value in list", in: []any{"a", &Intrinsic{Name: "Ref", Arg: "AWS::NoValue"}}, want: []any{"a"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := r.Resolve("x", tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	if _, err := r.ResolveString("x", []any{"a"}); err == nil || !strings.Contains(err.Error(), "not a string") {
		t.Errorf("ResolveString(list) = %v", err)
	}
	for _, tc := range []struct {
		in  any
		s   string
		n   int
		nOK bool
		b   bool
		bOK bool
	}{
		{in: "30", s: "30", n: 30, nOK: true},
		{in: 30, s: "30", n: 30, nOK: true},
		{in: 2.0, s: "2", n: 2, nOK: true},
		{in: "True", s: "True", b: true, bOK: true},
		{in: false, s: "false", bOK: true},
	} {
		s, _ := AsString(tc.in)
		n, nOK := AsInt(tc.in)
		b, bOK := AsBool(tc.in)
		if s != tc.s || n != tc.n || nOK != tc.nOK || b != tc.b || bOK != tc.bOK {
			t.Errorf("As*(%#v) = %q %d %v %v %v", tc.in, s, n, nOK, b, bOK)
		}
	}
}

func TestResolverConcurrentUse(t *testing.T) {
	t.Parallel()
	tpl, r := newFixtureResolver(t, nil)
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.Set("OrdersTable", Physical{Ref: "stk-OrdersTable"})
			if _, err := r.Properties(tpl.Resource("OrderWorker")); err != nil {
				t.Error(err)
			}
			if _, err := r.Condition("NotProd"); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
}
