//go:build integration

package localcloud

import (
	"archive/zip"
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/latchkit/latch/pkg/latchtest/emulator"
)

// onMiniStack skips a gap test away from the ministack backend, where the
// gap it asserts is not.
func onMiniStack(t *testing.T, g emulator.Gap) aws.Config {
	t.Helper()
	if emulator.Backend() != g.Backend {
		t.Skipf("%s is a gap of the %s backend; this is %q", g.Name, g.Backend, emulator.Backend())
	}
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// A table created by CloudFormation with a TimeToLiveSpecification has TTL
// on in AWS; in MiniStack it is off.
func TestGapCFNTableTTL(t *testing.T) {
	cfg := onMiniStack(t, GapCFNTableTTL)
	ctx := context.Background()
	cfn := cloudformation.NewFromConfig(cfg)
	name := strings.ReplaceAll(strings.ToLower(emulator.UniqueName(t, "ttl")), "_", "-")
	body := `{"Resources":{"T":{"Type":"AWS::DynamoDB::Table","Properties":{"BillingMode":"PAY_PER_REQUEST",
	  "AttributeDefinitions":[{"AttributeName":"id","AttributeType":"S"}],"KeySchema":[{"AttributeName":"id","KeyType":"HASH"}],
	  "TimeToLiveSpecification":{"AttributeName":"expiration","Enabled":true}}}}}`
	if _, err := cfn.CreateStack(ctx, &cloudformation.CreateStackInput{StackName: aws.String(name), TemplateBody: aws.String(body)}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = cfn.DeleteStack(context.Background(), &cloudformation.DeleteStackInput{StackName: aws.String(name)})
	})
	var st *Stack
	emulator.Eventually(t, time.Minute, "stack created", func() bool {
		var err error
		st, err = Describe(ctx, cfn, name)
		return err == nil && st.Complete()
	})
	table, err := st.Resolve("T")
	if err != nil {
		t.Fatal(err)
	}
	got, err := ttlAttr(ctx, Clients{DynamoDB: dynamodb.NewFromConfig(cfg)}, table)
	if err != nil {
		t.Fatal(err)
	}
	if got != "" {
		t.Fatalf("%s is gone: TTL is on %q; drop the workaround in CheckResources and the fidelity line", GapCFNTableTTL.Name, got)
	}
}

// An alarm with an action, put and read back through CloudWatch's JSON
// protocol, has its action; the SDK's own client (CBOR) fails on the
// answer.
func TestGapAlarmsCBOR(t *testing.T) {
	cfg := onMiniStack(t, GapAlarmsCBOR)
	ctx := context.Background()
	cw := cloudwatch.NewFromConfig(cfg)
	name := emulator.UniqueName(t, "alarm")
	action := "arn:aws:sns:us-east-1:000000000000:" + name
	if err := cloudWatchJSON(ctx, cfg, "PutMetricAlarm", map[string]any{
		"AlarmName": name, "Namespace": "AWS/SQS", "MetricName": "ApproximateNumberOfMessagesVisible",
		"Statistic": "Maximum", "Period": 60, "EvaluationPeriods": 1, "Threshold": 0,
		"ComparisonOperator": "GreaterThanThreshold", "AlarmActions": []string{action},
	}, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cloudWatchJSON(context.Background(), cfg, "DeleteAlarms", map[string]any{"AlarmNames": []string{name}}, nil)
	})
	alarms, err := describeAlarms(ctx, cfg, name)
	if err != nil {
		t.Fatal(err)
	}
	if len(alarms) != 1 || len(alarms[0].AlarmActions) != 1 || alarms[0].AlarmActions[0] != action {
		t.Fatalf("JSON DescribeAlarms: %+v, want the alarm with action %s", alarms, action)
	}
	if _, err := cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{name}}); err == nil {
		t.Fatalf("%s is gone: the SDK's DescribeAlarms decodes; drop describeAlarms for the SDK client and the fidelity line", GapAlarmsCBOR.Name)
	}
}

// A function whose partial batch response names an item not in the batch
// fails the whole batch in Lambda, so the message stays; MiniStack deletes
// it.
func TestGapESMUnknownItemIdentifier(t *testing.T) {
	cfg := onMiniStack(t, GapESMUnknownItemIdentifier)
	ctx := context.Background()
	zipped := buildFunction(t, "./testdata/reportsunknown")
	lc := lambda.NewFromConfig(cfg)
	sq := sqs.NewFromConfig(cfg)
	name := emulator.UniqueName(t, "unknown")
	arch := lambdatypes.ArchitectureX8664
	if runtime.GOARCH == "arm64" {
		arch = lambdatypes.ArchitectureArm64
	}
	if _, err := lc.CreateFunction(ctx, &lambda.CreateFunctionInput{
		FunctionName: aws.String(name), Runtime: lambdatypes.RuntimeProvidedal2023, Handler: aws.String("bootstrap"),
		Role: aws.String("arn:aws:iam::000000000000:role/" + name), Architectures: []lambdatypes.Architecture{arch},
		Code: &lambdatypes.FunctionCode{ZipFile: zipped}, Timeout: aws.Int32(10),
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = lc.DeleteFunction(context.Background(), &lambda.DeleteFunctionInput{FunctionName: aws.String(name)})
	})
	q, err := sq.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: map[string]string{"VisibilityTimeout": "600"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = sq.DeleteQueue(context.Background(), &sqs.DeleteQueueInput{QueueUrl: q.QueueUrl}) })
	attrs, err := queueAttrs(ctx, Clients{SQS: sq}, aws.ToString(q.QueueUrl))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lc.CreateEventSourceMapping(ctx, &lambda.CreateEventSourceMappingInput{
		FunctionName: aws.String(name), EventSourceArn: aws.String(attrs["QueueArn"]), BatchSize: aws.Int32(1),
		FunctionResponseTypes: []lambdatypes.FunctionResponseType{lambdatypes.FunctionResponseTypeReportBatchItemFailures},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := sq.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: q.QueueUrl, MessageBody: aws.String("one")}); err != nil {
		t.Fatal(err)
	}
	// The mapping receives it (in flight), invokes, and then either keeps
	// it in flight for the 600 s visibility timeout (Lambda) or deletes it.
	emulator.Eventually(t, 2*time.Minute, "the mapping took the message", func() bool {
		a, err := queueAttrs(ctx, Clients{SQS: sq}, aws.ToString(q.QueueUrl))
		return err == nil && a["ApproximateNumberOfMessages"] == "0"
	})
	gone := false
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) && !gone {
		a, err := queueAttrs(ctx, Clients{SQS: sq}, aws.ToString(q.QueueUrl))
		if err != nil {
			t.Fatal(err)
		}
		gone = a["ApproximateNumberOfMessages"] == "0" && a["ApproximateNumberOfMessagesNotVisible"] == "0"
		time.Sleep(500 * time.Millisecond)
	}
	if !gone {
		t.Fatalf("%s is gone: the message stayed after a response naming an item not in the batch, as in Lambda; drop the fidelity line", GapESMUnknownItemIdentifier.Name)
	}
}

// buildFunction builds a function package for this machine as a
// provided.al2023 bootstrap and returns it zipped.
func buildFunction(t *testing.T, pkg string) []byte {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-o", filepath.Join(dir, "bootstrap"), pkg)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build %s: %v\n%s", pkg, err, out)
	}
	bin, err := os.ReadFile(filepath.Join(dir, "bootstrap"))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.CreateHeader(&zip.FileHeader{Name: "bootstrap", Method: zip.Deflate, ExternalAttrs: 0o755 << 16})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(bin); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
