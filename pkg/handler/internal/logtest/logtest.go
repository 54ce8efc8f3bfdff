// Package logtest reads the JSON log lines that handler, logging and
// telemetry write, for their tests.
package logtest

import (
	"bytes"
	"encoding/json"
	"testing"
)

// Lines parses every line written to buf as a JSON object, failing the
// test at the first line that is not one. Blank lines are skipped.
func Lines(t testing.TB, buf *bytes.Buffer) []map[string]any {
	t.Helper()
	var lines []map[string]any
	for _, l := range bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n")) {
		if len(l) == 0 {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal(l, &m); err != nil {
			t.Fatalf("log line is not JSON: %q: %v", l, err)
		}
		lines = append(lines, m)
	}
	return lines
}
