package local

import (
	"strings"
	"testing"
	"time"
)

func TestReadStreamEvent(t *testing.T) {
	t.Parallel()
	const dlq = "arn:aws:sqs:us-east-1:123456789012:failures"
	s := &Stack{queueURL: map[string]string{dlq: "http://q/failures"}}
	base := func(extra map[string]any) map[string]any {
		m := map[string]any{"Stream": "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/x", "StartingPosition": "TRIM_HORIZON"}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	tests := []struct {
		name    string
		props   map[string]any
		want    string // error text; "" for none
		enabled bool
	}{
		{name: "minimal", props: base(nil), enabled: true},
		{name: "all settings", props: base(map[string]any{
			"BatchSize": 25, "MaximumRetryAttempts": 10, "MaximumRecordAgeInSeconds": 3600, "BisectBatchOnFunctionError": true,
			"FunctionResponseTypes": []any{"ReportBatchItemFailures"}, "DestinationConfig": map[string]any{"OnFailure": map[string]any{"Destination": dlq}},
		}), enabled: true},
		{name: "disabled", props: base(map[string]any{"Enabled": false})},
		{name: "no stream", props: map[string]any{"StartingPosition": "LATEST"}, want: "Stream must resolve"},
		{name: "no starting position", props: map[string]any{"Stream": "arn:x"}, want: "StartingPosition"},
		{name: "filter criteria refused", props: base(map[string]any{"FilterCriteria": map[string]any{}}), want: "FilterCriteria is not supported"},
		{name: "tumbling window refused", props: base(map[string]any{"TumblingWindowInSeconds": 60}), want: "TumblingWindowInSeconds is not supported"},
		{name: "parallelization refused", props: base(map[string]any{"ParallelizationFactor": 2}), want: "ParallelizationFactor 2"},
		{name: "destination not a template queue", props: base(map[string]any{"DestinationConfig": map[string]any{"OnFailure": map[string]any{"Destination": "arn:aws:sns:x"}}}), want: "not a queue of the template"},
		{name: "bad response type", props: base(map[string]any{"FunctionResponseTypes": []any{"ReportBatchItemFailure"}}), want: "is not ReportBatchItemFailures"},
		{name: "bad retry attempts", props: base(map[string]any{"MaximumRetryAttempts": -2}), want: "MaximumRetryAttempts must be"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m, enabled, err := s.readStreamEvent("Events.E.Properties", "E", "DynamoDB", tt.props)
			if tt.want != "" {
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("error %v, want one saying %q", err, tt.want)
				}
				return
			}
			if err != nil || enabled != tt.enabled {
				t.Fatalf("enabled %v, error %v; want enabled %v", enabled, err, tt.enabled)
			}
			if tt.name == "all settings" {
				c := m.cfg
				if c.BatchSize != 25 || *c.MaximumRetryAttempts != 10 || c.MaximumRecordAge != time.Hour || !c.BisectBatchOnFunctionError ||
					!m.reportItemFailure || m.onFailure != "http://q/failures" {
					t.Errorf("mapping %+v", m)
				}
			}
		})
	}
}
