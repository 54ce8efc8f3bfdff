// Package xraysdk is a handler.Tracer on aws-xray-sdk-go/v2, for functions
// that already trace with the X-Ray SDK: latch's spans become subsegments
// of the segment already in the context, so they nest under the function's
// own xray.Capture calls, and AWS SDK v2 clients are instrumented with the
// SDK's own awsv2 instrumentation.
//
// It costs more than package xray, latch's default: the SDK links grpc and
// fasthttp, and takes the order-worker example from about 10.7 MB to 19.5 MB
// (stripped, linux/arm64). A function that does not import this package
// links none of it.
//
//	tel, err := telemetry.New(telemetry.Config{Tracer: xraysdk.Tracer{}})
//	...
//	cfg, _ := config.LoadDefaultConfig(ctx)
//	tel.Tracer().InstrumentAWS(&cfg) // awsv2.AWSV2Instrumentor
//
//	func handle(ctx context.Context, m handler.Message[Order]) error {
//		return xray.Capture(ctx, "charge", func(ctx context.Context) error {
//			return charge(ctx, m.Body) // latch's store spans nest in here too
//		})
//	}
//
// Outside a traced Lambda invocation (no segment in the context and no
// trace header) a span does nothing, as with package xray; AWS calls made
// there meet the SDK's context-missing strategy, which logs an error unless
// AWS_XRAY_CONTEXT_MISSING=IGNORE_ERROR.
package xraysdk
