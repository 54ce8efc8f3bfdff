// Package emftest checks CloudWatch embedded metric format blobs against
// the specification, for the tests of packages metrics and telemetry.
package emftest

import (
	"bytes"
	"encoding/json"
	"testing"
)

var emfUnits = map[string]bool{
	"Seconds": true, "Microseconds": true, "Milliseconds": true, "Bytes": true, "Kilobytes": true,
	"Megabytes": true, "Gigabytes": true, "Terabytes": true, "Bits": true, "Kilobits": true,
	"Megabits": true, "Gigabits": true, "Terabits": true, "Percent": true, "Count": true,
	"Bytes/Second": true, "Kilobytes/Second": true, "Megabytes/Second": true, "Gigabytes/Second": true,
	"Terabytes/Second": true, "Bits/Second": true, "Kilobits/Second": true, "Megabits/Second": true,
	"Gigabits/Second": true, "Terabits/Second": true, "Count/Second": true, "None": true,
}

// Check checks one blob against the structure the CloudWatch embedded
// metric format specification requires, and returns its metric values by
// name (a number, or a list of numbers).
//
//   - the root is a JSON object with an "_aws" member: an object with
//     Timestamp (a number, epoch milliseconds) and CloudWatchMetrics (an
//     array of directives);
//   - a directive has Namespace (a non-empty string), Dimensions (an array
//     of dimension sets: arrays of at most 30 names, each naming a
//     top-level string member) and Metrics (at most 100 definitions, each
//     with a Name naming a top-level number or array of at most 100
//     numbers, and an optional Unit from CloudWatch's list).
func Check(t *testing.T, blob []byte) (namespace string, dims map[string]string, values map[string]any) {
	t.Helper()
	if bytes.ContainsAny(blob, "\n") {
		t.Fatalf("blob spans lines: %s", blob)
	}
	var root map[string]json.RawMessage
	if err := json.Unmarshal(blob, &root); err != nil {
		t.Fatalf("blob is not a JSON object: %v\n%s", err, blob)
	}
	var meta struct {
		Timestamp         *json.Number
		CloudWatchMetrics []struct {
			Namespace  *string
			Dimensions *[][]string
			Metrics    *[]struct {
				Name *string
				Unit *string
			}
		}
	}
	rawMeta, ok := root["_aws"]
	if !ok {
		t.Fatalf("no _aws member: %s", blob)
	}
	dec := json.NewDecoder(bytes.NewReader(rawMeta))
	dec.UseNumber()
	if err := dec.Decode(&meta); err != nil {
		t.Fatalf("_aws: %v", err)
	}
	if meta.Timestamp == nil {
		t.Fatalf("_aws.Timestamp missing: %s", blob)
	}
	if _, err := meta.Timestamp.Int64(); err != nil {
		t.Fatalf("_aws.Timestamp %v is not integer milliseconds", *meta.Timestamp)
	}
	if len(meta.CloudWatchMetrics) == 0 {
		t.Fatalf("_aws.CloudWatchMetrics empty: %s", blob)
	}
	str := func(name string) (string, bool) {
		var s string
		raw, ok := root[name]
		return s, ok && json.Unmarshal(raw, &s) == nil
	}
	dims, values = map[string]string{}, map[string]any{}
	for _, d := range meta.CloudWatchMetrics {
		if d.Namespace == nil || *d.Namespace == "" {
			t.Fatalf("directive without Namespace: %s", blob)
		}
		namespace = *d.Namespace
		if d.Dimensions == nil || d.Metrics == nil {
			t.Fatalf("directive without Dimensions or Metrics: %s", blob)
		}
		for _, set := range *d.Dimensions {
			if len(set) > 30 {
				t.Fatalf("dimension set of %d > 30", len(set))
			}
			for _, name := range set {
				v, ok := str(name)
				if !ok {
					t.Fatalf("dimension %q is not a top-level string member: %s", name, blob)
				}
				dims[name] = v
			}
		}
		if n := len(*d.Metrics); n > 100 || n == 0 {
			t.Fatalf("%d metric definitions, want 1..100", n)
		}
		for _, m := range *d.Metrics {
			if m.Name == nil || *m.Name == "" {
				t.Fatalf("metric definition without Name: %s", blob)
			}
			if m.Unit != nil && !emfUnits[*m.Unit] {
				t.Fatalf("metric %q: unit %q is not a CloudWatch unit", *m.Name, *m.Unit)
			}
			raw, ok := root[*m.Name]
			if !ok {
				t.Fatalf("metric %q has no top-level value: %s", *m.Name, blob)
			}
			var one float64
			var many []float64
			switch {
			case json.Unmarshal(raw, &one) == nil:
				values[*m.Name] = one
			case json.Unmarshal(raw, &many) == nil:
				if len(many) > 100 || len(many) == 0 {
					t.Fatalf("metric %q: %d values, want 1..100", *m.Name, len(many))
				}
				values[*m.Name] = many
			default:
				t.Fatalf("metric %q value %s is not a number or a list of numbers", *m.Name, raw)
			}
		}
	}
	return namespace, dims, values
}

// Blobs splits what an Emitter wrote into its blobs, one per line.
func Blobs(t *testing.T, buf *bytes.Buffer) [][]byte {
	t.Helper()
	var out [][]byte
	for _, l := range bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n")) {
		if len(l) > 0 {
			out = append(out, l)
		}
	}
	return out
}
