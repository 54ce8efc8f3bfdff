package xray

import (
	"context"
	"errors"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// The X-Ray middleware of an AWS SDK v2 client: xrayAWSCall in the
// Initialize step wraps the whole call, retries included, in one
// subsegment; xrayAWSHeader in the Build step stamps each attempt's HTTP
// request with the trace header, before it is signed.
const (
	xrayAWSCallID   = "LatchXRayAWSCall"
	xrayAWSHeaderID = "LatchXRayTraceHeader"
)

func addXRayMiddleware(stack *middleware.Stack) error {
	if _, ok := stack.Initialize.Get(xrayAWSCallID); ok {
		return nil // InstrumentAWS ran twice on the same config
	}
	// After: the service's own Initialize middleware has put the service
	// id, operation and region in the context by then.
	if err := stack.Initialize.Add(xrayAWSCall{}, middleware.After); err != nil {
		return err
	}
	return stack.Build.Add(xrayAWSHeader{}, middleware.After)
}

type xrayAWSCall struct{}

func (xrayAWSCall) ID() string { return xrayAWSCallID }

func (xrayAWSCall) HandleInitialize(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
	s := startSubsegment(ctx, awsmiddleware.GetServiceID(ctx))
	if s == nil {
		return next.HandleInitialize(ctx, in)
	}
	s.awsCall = true
	s.aws = xrayAWSDoc{Operation: awsmiddleware.GetOperationName(ctx), Region: awsmiddleware.GetRegion(ctx)}
	out, md, err := next.HandleInitialize(context.WithValue(ctx, xraySpanKey{}, s), in)
	s.recordResponse(md, err)
	s.End(err)
	return out, md, err
}

// recordResponse notes the HTTP status, request id and retries of the
// call: from the last attempt's metadata, or else from the error.
func (s *xraySpan) recordResponse(md middleware.Metadata, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if resp, ok := awsmiddleware.GetRawResponse(md).(*smithyhttp.Response); ok && resp != nil {
		s.status = resp.StatusCode
	}
	var withStatus interface{ HTTPStatusCode() int }
	if s.status == 0 && errors.As(err, &withStatus) {
		s.status = withStatus.HTTPStatusCode()
	}
	if id, ok := awsmiddleware.GetRequestIDMetadata(md); ok {
		s.aws.RequestID = id
	}
	var withID interface{ ServiceRequestID() string }
	if s.aws.RequestID == "" && errors.As(err, &withID) {
		s.aws.RequestID = withID.ServiceRequestID()
	}
	if res, ok := retry.GetAttemptResults(md); ok && len(res.Results) > 1 {
		s.aws.Retries = len(res.Results) - 1
	}
}

type xrayAWSHeader struct{}

func (xrayAWSHeader) ID() string { return xrayAWSHeaderID }

func (xrayAWSHeader) HandleBuild(ctx context.Context, in middleware.BuildInput, next middleware.BuildHandler) (middleware.BuildOutput, middleware.Metadata, error) {
	if s, _ := ctx.Value(xraySpanKey{}).(*xraySpan); s != nil && s.awsCall {
		if req, ok := in.Request.(*smithyhttp.Request); ok {
			req.Header.Set(xrayTraceHeaderName, s.traceHeader())
		}
	}
	return next.HandleBuild(ctx, in)
}
