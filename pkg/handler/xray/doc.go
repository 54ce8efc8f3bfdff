// Package xray is latch's own AWS X-Ray emitter: a handler.Tracer whose
// spans are subsegments of the segment Lambda opens for each traced
// invocation, sent as UDP datagrams to the X-Ray daemon Lambda runs. It
// is what package telemetry traces with by default.
//
// It is small on purpose. What latch needs of X-Ray is documented and
// little: subsegment documents (JSON) under the trace header Lambda hands
// each invocation, sent to AWS_XRAY_DAEMON_ADDRESS. aws-xray-sdk-go, which
// docs/DESIGN.md first named, took an example function from 10.6 MB to 25.2 MB
// (v1.8.5, through aws-sdk-go v1, grpc and fasthttp) or 19.5 MB (v2.0.3);
// package xraysdk adapts it for teams that already trace with it.
//
// Outside a sampled Lambda invocation (a unit test, the local runner, an
// unsampled request) every span does nothing and costs nothing; a failed
// send is dropped, so tracing never fails or slows a record.
//
//	cfg, _ := config.LoadDefaultConfig(ctx)
//	xray.Tracer{}.InstrumentAWS(&cfg) // every DynamoDB and SQS call a subsegment
//	tel, _ := telemetry.New(telemetry.Config{Tracer: xray.Tracer{}})
package xray
