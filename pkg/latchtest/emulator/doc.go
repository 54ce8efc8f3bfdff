// Package emulator is latch's integration-test harness, usable from any
// module: it builds SDK clients from the environment (the SDK's own
// AWS_ENDPOINT_URL_* variables point them at local emulators), creates
// uniquely named tables, queues, buses and rules that are deleted when the
// test ends, drives a queue into a handler as Lambda's event source mapping
// does, and asserts on what the queues hold afterwards.
//
//	func TestChargeOnce(t *testing.T) {
//		env := emulator.New(t) // skips, or fails under LATCH_REQUIRE_EMULATORS, without emulators
//		table := env.Table(t)  // the idempotency schema, TTL on
//		q := env.Queue(t, emulator.QueueSpec{MaxReceiveCount: 3})
//		h := handler.MustNewSQS(charge, handler.SQSConfig{Client: env.SQS, ...})
//		env.Send(t, q.URL, `{"id":"inv-1","cents":500}`)
//		env.Drain(t, q, h, emulator.Mapping{})
//		env.AssertQueueEmpty(t, q.URL)
//	}
//
// New refuses to build clients unless every endpoint variable is set and
// answers, so a test cannot reach a real AWS account by accident; pointing
// the variables at regional endpoints is the explicit way to run against
// AWS. The DynamoDB client it builds skips the SDK's response checksum
// check, which DynamoDB Local's 4xx answers fail (aws-sdk-go-v2 #3545):
// without that every conditional-check failure logs a warning.
//
// The emulators come from the latch CLI, from any directory:
//
//	go tool latch emulators exec -- go test -tags integration ./...
//
// runs the tests against a stack of their own (DynamoDB Local and moto, no
// Docker; --backend localstack for LocalStack) and stops it;
// `latch emulators up` and `eval "$(latch emulators env)"` keep one running.
// Tests that cannot pass on a backend with a known gap skip with SkipOnGap.
package emulator
