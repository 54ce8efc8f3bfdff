package sdkfix_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/latchkit/latch/internal/sdkfix"
)

// bodyAfterClose is an HTTP client that does what net/http's write loop
// does when the response came first: the SDK has closed the request body,
// and the loop reads it once more to its end. It records the error of that
// read, then answers an SQS SendMessage.
type bodyAfterClose struct{ errs []error }

func (c *bodyAfterClose) Do(req *http.Request) (*http.Response, error) {
	sent, err := io.ReadAll(req.Body)
	if err != nil || len(sent) == 0 {
		c.errs = append(c.errs, err)
	}
	req.Body.Close()
	_, err = io.Copy(io.Discard, req.Body)
	c.errs = append(c.errs, err)
	body := `{"MessageId":"m-1","MD5OfMessageBody":"5d41402abc4b2a76b9719d911017c592"}`
	return &http.Response{
		StatusCode: 200, Status: "200 OK", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:        http.Header{"Content-Type": {"application/x-amz-json-1.0"}},
		Body:          io.NopCloser(strings.NewReader(body)),
		ContentLength: int64(len(body)),
		Request:       req,
	}, nil
}

func send(t *testing.T, fix bool) []error {
	t.Helper()
	client := &bodyAfterClose{}
	cfg := aws.Config{
		Region: "us-east-1", HTTPClient: client,
		Credentials:  aws.AnonymousCredentials{},
		BaseEndpoint: aws.String("http://127.0.0.1:1"),
	}
	if fix {
		sdkfix.Apply(&cfg)
	}
	_, err := sqs.NewFromConfig(cfg).SendMessage(context.Background(), &sqs.SendMessageInput{
		QueueUrl: aws.String("http://127.0.0.1:1/000000000000/q"), MessageBody: aws.String("hello"),
	})
	if err != nil {
		t.Fatalf("SendMessage: %v", err)
	}
	return client.errs
}

func TestReadAfterCloseEndsTheBody(t *testing.T) {
	if errs := send(t, true); len(errs) != 1 || errs[0] != nil {
		t.Errorf("reads after the SDK closed the body: errors %v, want one read that ends without error", errs)
	}
	// Without it, the same read fails: what the fix is for. If this stops
	// failing, the SDK has fixed its body wrapper and sdkfix can go.
	if errs := send(t, false); len(errs) != 1 || errs[0] != io.EOF {
		t.Errorf("without sdkfix, the read after close gave %v; want io.EOF as an error (the SDK's bug)", errs)
	}
}
