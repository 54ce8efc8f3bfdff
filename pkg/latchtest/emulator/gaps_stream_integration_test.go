//go:build integration

package emulator_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/latchkit/latch/pkg/latchtest/emulator"
)

func TestGapStreamARN(t *testing.T) {
	t.Parallel()
	env := emulator.New(t)
	_, arn := env.StreamTable(t, "id")
	local := strings.Contains(arn, ":ddblocal:000000000000:")
	switch g := emulator.GapStreamARN; {
	case g.Present() && !local:
		t.Errorf("the %s backend no longer has %s (%s): stream ARN %s; remove the gap", g.Backend, g.Name, g.What, arn)
	case !g.Present() && (local || !strings.Contains(arn, ":"+env.Cfg.Region+":")):
		t.Errorf("stream ARN %s does not carry the region %s", arn, env.Cfg.Region)
	}
}

func TestGapKinesisSequenceNumbers(t *testing.T) {
	t.Parallel()
	env := emulator.New(t)
	name, _ := env.KinesisStream(t, 1)
	out, err := env.Kinesis(t).PutRecord(context.Background(), &kinesis.PutRecordInput{
		StreamName: aws.String(name), PartitionKey: aws.String("k"), Data: []byte("x"),
	})
	if err != nil {
		t.Fatal(err)
	}
	seq := aws.ToString(out.SequenceNumber)
	short := len(seq) < 56
	switch g := emulator.GapKinesisSequenceNumbers; {
	case g.Present() && !short:
		t.Errorf("the %s backend no longer has %s (%s): sequence number %s; remove the gap", g.Backend, g.Name, g.What, seq)
	case !g.Present() && short:
		t.Errorf("sequence number %q is not Kinesis's 56 digits", seq)
	}
}
