package localcloud

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// alarm is what the resource check reads of a metric alarm.
type alarm struct {
	AlarmName    string
	Namespace    string
	MetricName   string
	AlarmActions []string
}

// describeAlarms calls CloudWatch's DescribeAlarms through its JSON 1.0
// protocol, signed as the SDK signs.
//
// aws-sdk-go-v2's CloudWatch client speaks Smithy RPC v2 CBOR, and it
// cannot decode MiniStack 1.5.33's CBOR answers (DescribeAlarms, PutMetricAlarm) ("slice
// len … greater than remaining buf len"); its query-protocol (XML) answer
// leaves out the alarm actions. The JSON protocol, which CloudWatch also
// serves, carries the whole alarm. A gap of the emulator, listed in
// docs/DESIGN.md's fidelity table.
func describeAlarms(ctx context.Context, cfg aws.Config, names ...string) ([]alarm, error) {
	var out struct{ MetricAlarms []alarm }
	err := cloudWatchJSON(ctx, cfg, "DescribeAlarms", map[string]any{"AlarmNames": names}, &out)
	return out.MetricAlarms, err
}

// cloudWatchJSON calls a CloudWatch operation with the JSON 1.0 protocol.
func cloudWatchJSON(ctx context.Context, cfg aws.Config, op string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, cloudWatchEndpoint(cfg), bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	req.Header.Set("X-Amz-Target", "GraniteServiceVersion20100801."+op)
	creds, err := cfg.Credentials.Retrieve(ctx)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(body)
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "monitoring", cfg.Region, time.Now()); err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("localcloud: CloudWatch %s: %w", op, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("localcloud: CloudWatch %s: %s: %s", op, resp.Status, b)
	}
	if out == nil || len(bytes.TrimSpace(b)) == 0 {
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("localcloud: CloudWatch %s answer: %w", op, err)
	}
	return nil
}

// cloudWatchEndpoint is where the SDK would send CloudWatch calls: the
// configured endpoint (AWS_ENDPOINT_URL), else CloudWatch's own.
func cloudWatchEndpoint(cfg aws.Config) string {
	if cfg.BaseEndpoint != nil {
		return *cfg.BaseEndpoint
	}
	return "https://monitoring." + cfg.Region + ".amazonaws.com"
}
