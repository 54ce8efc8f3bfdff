// Package tracertest has what the tests of the tracers (packages xray,
// xraysdk and oteltracer) share: a stand-in X-Ray daemon, an SQS client
// whose calls reach a local server, and a Telemetry that only traces. One
// copy keeps the three tracers checked against the same daemon and the
// same AWS answers.
package tracertest
