package template

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func loadFixture(t *testing.T) *Template {
	t.Helper()
	tpl, err := Load("testdata/sam.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return tpl
}

func TestParseSections(t *testing.T) {
	t.Parallel()
	tpl := loadFixture(t)
	if tpl.FormatVersion != "2010-09-09" {
		t.Errorf("FormatVersion = %q", tpl.FormatVersion)
	}
	if diff := cmp.Diff([]string{ServerlessTransform}, tpl.Transforms); diff != "" {
		t.Errorf("Transforms (-want +got):\n%s", diff)
	}
	wantIDs := []string{"IdempotencyTable", "OrdersTable", "OrderDLQ", "OrderQueue", "LedgerDLQ",
		"LedgerQueue", "OrdersBus", "OrderAcceptedRule", "OrderWorker", "DailyReport", "ProdAlarm"}
	if diff := cmp.Diff(wantIDs, tpl.ResourceIDs()); diff != "" {
		t.Errorf("ResourceIDs (-want +got):\n%s", diff)
	}
	var queues []string
	for _, r := range tpl.ResourcesOfType(TypeSQSQueue) {
		queues = append(queues, r.LogicalID)
	}
	if diff := cmp.Diff([]string{"OrderDLQ", "OrderQueue", "LedgerDLQ", "LedgerQueue"}, queues); diff != "" {
		t.Errorf("queues (-want +got):\n%s", diff)
	}
	var fns []string
	for _, r := range tpl.Functions() {
		fns = append(fns, r.LogicalID)
	}
	if diff := cmp.Diff([]string{"OrderWorker", "DailyReport"}, fns); diff != "" {
		t.Errorf("Functions (-want +got):\n%s", diff)
	}
	p := tpl.Parameters["LogRetentionDays"]
	if p.Type != "Number" || p.Default != 14 || !p.HasDefault {
		t.Errorf("LogRetentionDays = %+v", p)
	}
	if tpl.Parameters["AlarmTopic"].HasDefault {
		t.Error("AlarmTopic has no default")
	}
	if got := tpl.Resource("ProdAlarm").Condition; got != "IsProd" {
		t.Errorf("ProdAlarm.Condition = %q", got)
	}
	if got := tpl.Resource("Nope"); got != nil {
		t.Errorf("Resource(Nope) = %v", got)
	}
}

func TestShortAndLongFormsAreTheSame(t *testing.T) {
	t.Parallel()
	short := MustParse([]byte(`
Resources:
  A:
    Type: X
    Properties:
      Ref: !Ref B
      Att: !GetAtt B.Arn
      AttList: !GetAtt [B, Arn]
      Sub: !Sub "${B}-x"
      Join: !Join [",", [a, !Ref B]]
      Sel: !Select [0, [a, b]]
  B: {Type: X}
`))
	long := MustParse([]byte(`{
  "Resources": {
    "A": {"Type": "X", "Properties": {
      "Ref": {"Ref": "B"},
      "Att": {"Fn::GetAtt": "B.Arn"},
      "AttList": {"Fn::GetAtt": ["B", "Arn"]},
      "Sub": {"Fn::Sub": "${B}-x"},
      "Join": {"Fn::Join": [",", ["a", {"Ref": "B"}]]},
      "Sel": {"Fn::Select": [0, ["a", "b"]]}}},
    "B": {"Type": "X"}}}`))
	ignorePos := cmp.FilterPath(func(p cmp.Path) bool {
		f, ok := p.Last().(cmp.StructField)
		return ok && (f.Name() == "Line" || f.Name() == "Column")
	}, cmp.Ignore())
	if diff := cmp.Diff(long.Resource("A").Properties, short.Resource("A").Properties, ignorePos); diff != "" {
		t.Errorf("short form differs from long form (-long +short):\n%s", diff)
	}
	in, ok := short.Resource("A").Properties["Att"].(*Intrinsic)
	if !ok || in.Name != "Fn::GetAtt" || in.Line != 7 {
		t.Errorf("Att = %#v, want Fn::GetAtt on line 7", short.Resource("A").Properties["Att"])
	}
}

func TestGlobalsMerge(t *testing.T) {
	t.Parallel()
	tpl := loadFixture(t)
	worker := tpl.Resource("OrderWorker")
	for _, tc := range []struct {
		name string
		path []string
		want any
	}{
		{name: "resource overrides primitive", path: []string{"Timeout"}, want: 5},
		{name: "global primitive copied", path: []string{"MemorySize"}, want: 256},
		{name: "global runtime", path: []string{"Runtime"}, want: "provided.al2023"},
		{name: "global tracing", path: []string{"Tracing"}, want: "Active"},
		{name: "lists concatenate, globals first", path: []string{"Layers"}, want: []any{
			"arn:aws:lambda:us-east-1:123456789012:layer:base:1",
			"arn:aws:lambda:us-east-1:123456789012:layer:extra:2"}},
		{name: "env var overridden", path: []string{"Environment", "Variables", "LOG_LEVEL"}, want: "debug"},
		{name: "tags copied", path: []string{"Tags"}, want: map[string]any{"app": "latch"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := worker.Property(tc.path...)
			if !ok {
				t.Fatalf("no %v", tc.path)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	vars, _ := worker.Property("Environment", "Variables")
	var keys []string
	for k := range vars.(map[string]any) {
		keys = append(keys, k)
	}
	if len(keys) != 6 {
		t.Errorf("OrderWorker env vars = %v, want the 3 global ones merged with its 4 (one shared)", keys)
	}
	if got, _ := tpl.Resource("DailyReport").Property("Tracing"); got != "PassThrough" {
		t.Errorf("DailyReport Tracing = %v, want its own PassThrough", got)
	}
	if got, _ := tpl.Resource("DailyReport").Property("Timeout"); got != 10 {
		t.Errorf("DailyReport Timeout = %v, want the global 10", got)
	}
	if got, _ := tpl.Resource("OrdersTable").Property("SSESpecification", "SSEEnabled"); got != true {
		t.Errorf("SimpleTable globals not merged: %v", got)
	}
	// Globals must not leak into other resource types, and resources must not
	// share the storage of a global value.
	if _, ok := tpl.Resource("OrderQueue").Property("Timeout"); ok {
		t.Error("Function globals merged into a queue")
	}
	tags, _ := worker.Property("Tags")
	tags.(map[string]any)["app"] = "changed"
	if got, _ := tpl.Resource("DailyReport").Property("Tags", "app"); got != "latch" {
		t.Errorf("resources share global storage: DailyReport tag = %v", got)
	}
}

func TestEvents(t *testing.T) {
	t.Parallel()
	tpl := loadFixture(t)
	evs, err := tpl.Resource("DailyReport").Events()
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 || evs[0].Name != "Daily" || evs[0].Type != "Schedule" || evs[0].Properties["Schedule"] != "cron(0 3 * * ? *)" {
		t.Errorf("Events = %+v", evs)
	}
	if evs, _ := tpl.Resource("OrderQueue").Events(); evs != nil {
		t.Errorf("a queue has events: %v", evs)
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		src  string
		want string // substring of the error
	}{
		{name: "unknown tag", src: "Resources:\n  A:\n    Type: X\n    Properties:\n      P: !Bogus x\n", want: "Resources.A.Properties.P (line 5): unknown YAML tag !Bogus"},
		{name: "other transform", src: "Transform: AWS::LanguageExtensions\nResources: {A: {Type: X}}\n", want: "transform AWS::LanguageExtensions is not supported"},
		{name: "include transform in list", src: "Transform: [AWS::Serverless-2016-10-31, AWS::Include]\nResources: {A: {Type: X}}\n", want: "transform AWS::Include is not supported"},
		{name: "unknown section", src: "Resorces: {}\n", want: "Resorces (line 1): unknown top-level section"},
		{name: "rules section", src: "Rules: {}\nResources: {A: {Type: X}}\n", want: "Rules section is not supported"},
		{name: "no resources", src: "Description: x\n", want: "no Resources section"},
		{name: "duplicate resource", src: "Resources:\n  A: {Type: X}\n  A: {Type: Y}\n", want: "Resources.A (line 3): duplicate key"},
		{name: "duplicate property", src: "Resources:\n  A:\n    Type: X\n    Properties:\n      P: 1\n      P: 2\n", want: `duplicate key "P"`},
		{name: "merge key", src: "Resources:\n  A:\n    Type: X\n    Properties:\n      <<: {P: 1}\n", want: "merge keys"},
		{name: "unknown resource attribute", src: "Resources:\n  A:\n    Type: X\n    Propertys: {}\n", want: "Resources.A.Propertys (line 3): unknown resource attribute"},
		{name: "no type", src: "Resources:\n  A:\n    Properties: {}\n", want: "Resources.A.Type"},
		{name: "foreach", src: "Resources:\n  Fn::ForEach::Q: []\n", want: "Fn::ForEach::Q is not supported"},
		{name: "bad logical id", src: "Resources:\n  my-queue: {Type: X}\n", want: "alphanumeric"},
		{name: "depends on nothing", src: "Resources:\n  A: {Type: X, DependsOn: B}\n", want: `DependsOn (line 2): no resource named "B"`},
		{name: "unknown condition", src: "Resources:\n  A: {Type: X, Condition: C}\n", want: `no condition named "C"`},
		{name: "unknown globals section", src: "Globals: {Queue: {}}\nResources: {A: {Type: X}}\n", want: "Globals.Queue"},
		{name: "not yaml", src: "Resources: [\n", want: "not valid YAML"},
		{name: "two documents", src: "Resources: {A: {Type: X}}\n---\nResources: {}\n", want: "more than one YAML document"},
		{name: "parameter without type", src: "Parameters: {P: {Default: x}}\nResources: {A: {Type: X}}\n", want: "Parameters.P"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse([]byte(tc.src))
			if err == nil {
				t.Fatalf("Parse succeeded, want error containing %q", tc.want)
			}
			var te *Error
			if !errors.As(err, &te) {
				t.Errorf("error %v is not a *template.Error", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not contain %q", err, tc.want)
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	t.Parallel()
	if _, err := Load("testdata/nope.yaml"); err == nil || !strings.Contains(err.Error(), "nope.yaml") {
		t.Errorf("Load(missing) = %v", err)
	}
}

func TestDependenciesAndOrder(t *testing.T) {
	t.Parallel()
	tpl := loadFixture(t)
	if diff := cmp.Diff([]string{"IdempotencyTable", "OrderDLQ", "OrderQueue", "OrdersBus", "OrdersTable"},
		tpl.Dependencies("OrderWorker")); diff != "" {
		t.Errorf("Dependencies(OrderWorker) (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"LedgerDLQ"}, tpl.Dependencies("LedgerQueue")); diff != "" {
		t.Errorf("Dependencies(LedgerQueue) (-want +got):\n%s", diff)
	}
	// Sub-with-map variables are not resources; AWS::StackName is a pseudo parameter.
	if got := tpl.Dependencies("DailyReport"); !cmp.Equal(got, []string{"IdempotencyTable"}) {
		t.Errorf("Dependencies(DailyReport) = %v", got)
	}
	order, err := tpl.Order([]string{"OrderAcceptedRule", "LedgerQueue", "OrdersBus", "LedgerDLQ", "OrderQueue", "OrderDLQ"})
	if err != nil {
		t.Fatal(err)
	}
	pos := map[string]int{}
	for i, id := range order {
		pos[id] = i
	}
	for _, edge := range [][2]string{{"OrderDLQ", "OrderQueue"}, {"LedgerDLQ", "LedgerQueue"}, {"LedgerQueue", "OrderAcceptedRule"}, {"OrdersBus", "OrderAcceptedRule"}} {
		if pos[edge[0]] > pos[edge[1]] {
			t.Errorf("order %v puts %s after %s", order, edge[0], edge[1])
		}
	}
	if len(order) != 6 {
		t.Errorf("order = %v, want 6 entries", order)
	}

	cyc := MustParse([]byte("Resources:\n  A: {Type: X, Properties: {P: !Ref B}}\n  B: {Type: X, Properties: {P: !Sub '${A.Arn}'}}\n"))
	if _, err := cyc.Order([]string{"A", "B"}); err == nil || !strings.Contains(err.Error(), "A -> B -> A") {
		t.Errorf("Order on a cycle = %v, want it named", err)
	}
	if _, err := cyc.Order([]string{"C"}); err == nil {
		t.Error("Order of an unknown id succeeded")
	}
}
