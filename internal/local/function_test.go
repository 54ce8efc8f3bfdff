package local

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/latchkit/latch/internal/provision"
	"github.com/latchkit/latch/internal/template"
)

func TestReadEvents(t *testing.T) {
	t.Parallel()
	const head = `
Transform: AWS::Serverless-2016-10-31
Resources:
  Q:
    Type: AWS::SQS::Queue
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: fn
      Events:
        In:
`
	tests := []struct {
		name    string
		event   string
		want    []mapping
		wantErr string
	}{
		{
			name: "mapping settings",
			event: `
          Type: SQS
          Properties:
            Queue: arn:aws:sqs:us-east-1:123456789012:q
            BatchSize: 5
            MaximumBatchingWindowInSeconds: 2
            FunctionResponseTypes: [ReportBatchItemFailures]
            ScalingConfig: {MaximumConcurrency: 3}`,
			want: []mapping{{event: "In", queueARN: "arn:aws:sqs:us-east-1:123456789012:q", batchSize: 5,
				window: 2 * time.Second, reportItemFailure: true, concurrency: 3}},
		},
		{
			name: "defaults",
			event: `
          Type: SQS
          Properties: {Queue: arn:aws:sqs:us-east-1:123456789012:q}`,
			want: []mapping{{event: "In", queueARN: "arn:aws:sqs:us-east-1:123456789012:q", batchSize: 10,
				concurrency: DefaultMappingConcurrency}},
		},
		{
			name: "disabled",
			event: `
          Type: SQS
          Properties: {Queue: arn:aws:sqs:us-east-1:123456789012:q, Enabled: false}`,
		},
		{
			name: "filter criteria are not applied, so refused",
			event: `
          Type: SQS
          Properties:
            Queue: arn:aws:sqs:us-east-1:123456789012:q
            FilterCriteria: {Filters: [{Pattern: '{"body":{"a":["b"]}}'}]}`,
			wantErr: "Events.In.Properties.FilterCriteria is not supported",
		},
		{
			name: "misspelt response type",
			event: `
          Type: SQS
          Properties:
            Queue: arn:aws:sqs:us-east-1:123456789012:q
            FunctionResponseTypes: [ReportBatchItemFailure]`,
			wantErr: "ReportBatchItemFailure is not ReportBatchItemFailures",
		},
		{
			name: "scheduler schedules are not fired locally",
			event: `
          Type: ScheduleV2
          Properties: {ScheduleExpression: rate(1 day)}`,
			wantErr: "event type ScheduleV2 is not run locally",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tmpl, err := template.Parse([]byte(head + tt.event + "\n"))
			if err != nil {
				t.Fatal(err)
			}
			r, err := template.NewResolver(tmpl, template.Pseudo{}, nil)
			if err != nil {
				t.Fatal(err)
			}
			s := &Stack{res: &provision.Result{Resolver: r}}
			f := &function{}
			err = s.readEvents(tmpl.Resource("Fn"), f)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, f.mappings, cmp.AllowUnexported(mapping{})); diff != "" {
				t.Errorf("mappings (-want +got):\n%s", diff)
			}
		})
	}
}

// Start stops what it started when a function fails to build; functions
// after the failed one have no process yet.
func TestStopBeforeEveryFunctionIsBuilt(t *testing.T) {
	t.Parallel()
	s := &Stack{cancel: func() {}, funcs: map[string]*function{"Unbuilt": {id: "Unbuilt"}}}
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
}

func TestCodeDirOf(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ dir, uri, want string }{
		{dir: "/svc/infra", uri: "../cmd/worker", want: "/svc/cmd/worker"},
		{dir: "/svc", uri: "worker/", want: "/svc/worker"},
		{dir: "/svc/infra", uri: "/src/worker", want: "/src/worker"},
		{dir: "infra", uri: ".", want: "infra"},
	} {
		if got := codeDirOf(filepath.FromSlash(tc.dir), filepath.FromSlash(tc.uri)); got != filepath.FromSlash(tc.want) {
			t.Errorf("codeDirOf(%s, %s) = %s, want %s", tc.dir, tc.uri, got, tc.want)
		}
	}
}

func TestReadCapacityProvider(t *testing.T) {
	t.Parallel()
	const head = `
Transform: AWS::Serverless-2016-10-31
Parameters:
  PerEnv: {Type: Number, Default: 6}
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: fn
`
	tests := []struct {
		name    string
		props   string
		flag    int // Config.PerEnvironment
		wantPer int
		wantOn  bool
		wantErr string
	}{
		{name: "classic", wantPer: 1},
		{name: "stated", props: "      CapacityProviderConfig: {Arn: !GetAtt Cap.Arn, PerExecutionEnvironmentMaxConcurrency: 4}", wantPer: 4, wantOn: true},
		{name: "from a parameter", props: "      CapacityProviderConfig: {Arn: x, PerExecutionEnvironmentMaxConcurrency: !Ref PerEnv}", wantPer: 6, wantOn: true},
		{name: "not stated", props: "      CapacityProviderConfig: {Arn: x}", wantPer: DefaultPerEnvironment, wantOn: true},
		{name: "the flag wins", props: "      CapacityProviderConfig: {Arn: x, PerExecutionEnvironmentMaxConcurrency: 4}", flag: 64, wantPer: 64, wantOn: true},
		{name: "the flag on a classic function", flag: 8, wantPer: 8, wantOn: true},
		{name: "out of Lambda's range", props: "      CapacityProviderConfig: {Arn: x, PerExecutionEnvironmentMaxConcurrency: 1601}", wantErr: "from 1 to 1600"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tmpl, err := template.Parse([]byte(head + tt.props + "\n"))
			if err != nil {
				t.Fatal(err)
			}
			r, err := template.NewResolver(tmpl, template.Pseudo{}, nil)
			if err != nil {
				t.Fatal(err)
			}
			s := &Stack{cfg: Config{PerEnvironment: tt.flag}, res: &provision.Result{Resolver: r}}
			per, on, err := s.readCapacityProvider(tmpl.Resource("Fn"))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || per != tt.wantPer || on != tt.wantOn {
				t.Errorf("per environment %d, on a capacity provider %v, err %v; want %d, %v", per, on, err, tt.wantPer, tt.wantOn)
			}
		})
	}
}
