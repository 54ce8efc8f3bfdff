package localcloud

import "github.com/latchkit/latch/pkg/latchtest/emulator"

// Differences between MiniStack 1.5.33 and AWS that a deployed stack meets.
// Each has a test that it is still there (gaps_integration_test.go, run by
// `make deploy-local` on the ministack backend) and a line in
// docs/DESIGN.md's fidelity table; the driver works around the first two in
// plain sight and latch is right against the third because it never sends
// such a response.
var (
	// GapCFNTableTTL: MiniStack's CloudFormation creates an
	// AWS::DynamoDB::Table without its TimeToLiveSpecification (TTL stays
	// off). CheckResources turns TTL on through UpdateTimeToLive, as the
	// template says, and reports it as a workaround.
	GapCFNTableTTL = emulator.Gap{Name: "GapCFNTableTTL", Backend: "ministack",
		What: "MiniStack 1.5.33's CloudFormation ignores a table's TimeToLiveSpecification"}
	// GapAlarmsCBOR: aws-sdk-go-v2's CloudWatch client (Smithy RPC v2 CBOR)
	// cannot decode MiniStack's DescribeAlarms answer, and its query
	// protocol answer leaves out AlarmActions; describeAlarms uses the JSON
	// protocol.
	GapAlarmsCBOR = emulator.Gap{Name: "GapAlarmsCBOR", Backend: "ministack",
		What: "MiniStack 1.5.33's CBOR DescribeAlarms answer does not decode in aws-sdk-go-v2; its XML answer has no AlarmActions"}
	// GapESMUnknownItemIdentifier: MiniStack's SQS event source mapping
	// ignores a batchItemFailures entry whose itemIdentifier is empty or
	// not in the batch and deletes the batch; Lambda fails the whole batch
	// (it stays in the queue). latch's processor only reports ids of the
	// batch, and latch's own runner (internal/esm) does what Lambda does.
	GapESMUnknownItemIdentifier = emulator.Gap{Name: "GapESMUnknownItemIdentifier", Backend: "ministack",
		What: "MiniStack 1.5.33's SQS mapping deletes a batch whose response names an item not in it; Lambda keeps the whole batch"}
)
