// Package sdkfix works around a race between the AWS SDK for Go v2 and
// net/http that makes one SDK call reach the service twice when the
// service answers fast (an emulator on loopback, within a millisecond).
//
// net/http's write loop, once it has sent a request's body, reads the body
// once more to see that it is at its end. The SDK (smithy-go) closes the
// body as soon as the response headers are in, and its body wrapper, when
// the stream it wraps can WriteTo (a bytes.Reader: every JSON or XML
// request), answers that last read with the error io.EOF from WriteTo
// rather than with the end of the stream. The write loop takes that for a
// failed write and closes the connection under the response being read;
// the SDK sees a 200 whose body it cannot read, retries, and the service
// carries out the call a second time: a second message sent, a second
// event put. A slower server answers after the write loop is done and
// never shows it.
package sdkfix

import (
	"context"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// Apply adds to cfg's API options a step, run last before each attempt is
// sent, that hides the request stream's WriteTo, so that a read after the
// SDK closed it ends the stream as reads do. The body sent is the same
// bytes; retries still rewind it.
func Apply(cfg *aws.Config) {
	cfg.APIOptions = append(cfg.APIOptions, func(s *middleware.Stack) error {
		return s.Finalize.Add(plainBody{}, middleware.After)
	})
}

type plainBody struct{}

func (plainBody) ID() string { return "latchPlainRequestBody" }

func (plainBody) HandleFinalize(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
	if req, ok := in.Request.(*smithyhttp.Request); ok {
		if _, writesTo := req.GetStream().(io.WriterTo); writesTo {
			var stream io.Reader
			if rs, ok := req.GetStream().(io.ReadSeeker); ok {
				stream = struct{ io.ReadSeeker }{rs}
			} else {
				stream = struct{ io.Reader }{req.GetStream()}
			}
			plain, err := req.SetStream(stream)
			if err != nil {
				return middleware.FinalizeOutput{}, middleware.Metadata{}, err
			}
			in.Request = plain
		}
	}
	return next.HandleFinalize(ctx, in)
}
