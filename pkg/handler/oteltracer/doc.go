// Package oteltracer is a handler.Tracer on OpenTelemetry, for functions
// that trace with OpenTelemetry (as AWS now recommends over the X-Ray
// SDKs): latch's spans are made on the caller's TracerProvider, with X-Ray
// trace and span ids and X-Ray propagation, so they land in the same
// X-Ray trace as Lambda's own segment, through the ADOT collector or any
// exporter.
//
// A span's parent is the span in the context: otellambda's, when the
// function is wrapped with otellambda.WrapHandler, or the caller's own.
// With none, it is Lambda's trace header for the invocation, read with
// the X-Ray propagator. AWS SDK v2 clients are instrumented with otelaws,
// which carries the trace header to AWS.
//
// The package name says which tracer it is without taking the name otel,
// which a user's file that imports go.opentelemetry.io/otel already has.
//
//	tp := oteltracer.NewTracerProvider(sdktrace.WithBatcher(exporter))
//	tel, err := telemetry.New(telemetry.Config{Tracer: oteltracer.New(oteltracer.Config{TracerProvider: tp})})
//	...
//	lambda.Start(otellambda.WrapHandler(handler.NewLambdaHandler(h),
//		otellambda.WithTracerProvider(tp), otellambda.WithFlusher(tp),
//		otellambda.WithPropagator(xray.Propagator{}), otellambda.WithEventToCarrier(oteltracer.LambdaCarrier)))
//
// OpenTelemetry's API and SDK, the contrib X-Ray id generator and
// propagator and otelaws add about 0.8 MB to a function (order-worker,
// stripped linux/arm64); an OTLP exporter over gRPC adds about 10 MB more
// unless built with -tags grpcnotrace. A function
// that does not import this package links none of it.
package oteltracer
