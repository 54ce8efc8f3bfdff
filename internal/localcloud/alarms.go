package localcloud

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// alarm is what the resource check reads of a metric alarm.
type alarm struct {
	Name       string   `xml:"AlarmName"`
	Namespace  string   `xml:"Namespace"`
	MetricName string   `xml:"MetricName"`
	Actions    []string `xml:"AlarmActions>member"`
}

// describeAlarms calls CloudWatch's DescribeAlarms through its query
// protocol (form-encoded, XML answer), signed as the SDK signs.
//
// aws-sdk-go-v2's CloudWatch client speaks Smithy RPC v2 CBOR, and it
// cannot decode MiniStack 1.5.33's CBOR answer to DescribeAlarms ("slice
// len … greater than remaining buf len"); MiniStack answers the query
// protocol, which every CloudWatch endpoint also serves, correctly. A gap
// of the emulator's CBOR encoding, listed in docs/DESIGN.md's fidelity
// table.
func describeAlarms(ctx context.Context, cfg aws.Config, names ...string) ([]alarm, error) {
	form := url.Values{"Action": {"DescribeAlarms"}, "Version": {"2010-08-01"}}
	for i, n := range names {
		form.Set(fmt.Sprintf("AlarmNames.member.%d", i+1), n)
	}
	body := form.Encode()
	endpoint := cloudWatchEndpoint(cfg)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	creds, err := cfg.Credentials.Retrieve(ctx)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256([]byte(body))
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "monitoring", cfg.Region, time.Now()); err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("localcloud: DescribeAlarms: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("localcloud: DescribeAlarms: %s: %s", resp.Status, b)
	}
	var out struct {
		Alarms []alarm `xml:"DescribeAlarmsResult>MetricAlarms>member"`
	}
	if err := xml.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("localcloud: DescribeAlarms answer: %w", err)
	}
	return out.Alarms, nil
}

// cloudWatchEndpoint is where the SDK would send CloudWatch calls: the
// configured endpoint (AWS_ENDPOINT_URL_CLOUDWATCH, else AWS_ENDPOINT_URL).
func cloudWatchEndpoint(cfg aws.Config) string {
	if cfg.BaseEndpoint != nil {
		return *cfg.BaseEndpoint
	}
	return "https://monitoring." + cfg.Region + ".amazonaws.com"
}
