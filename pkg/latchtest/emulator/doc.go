// Package awstest is the integration-test harness: it loads the AWS SDK
// configuration from the environment (the SDK's own AWS_ENDPOINT_URL_*
// variables point it at the local emulators) and creates uniquely named
// tables, queues, buses and rules that are deleted when the test ends.
//
// Every file but this one is behind the "integration" build tag, so unit
// builds never see the harness.
//
// When the emulators are unreachable a test fails with a message saying how to
// start them if LATCH_REQUIRE_EMULATORS is set (make sets it), and is skipped
// otherwise.
package awstest
