//go:build emulators

package emulators_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// functionSeesStack deploys lambdaproc's test function (provided.al2023,
// built for this host) to the stack's Lambda, invokes it, checks that the
// process MiniStack started for it sees the stack's endpoints, region and
// dummy credentials in its environment, and returns its pid.
func functionSeesStack(t *testing.T, vars map[string]string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir := t.TempDir()
	build := exec.CommandContext(ctx, "go", "build", "-tags", "lambda.norpc", "-o", filepath.Join(dir, "bootstrap"), "../lambdaproc/testdata/fn")
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the function: %v\n%s", err, out)
	}
	code := zipBootstrap(t, filepath.Join(dir, "bootstrap"))
	arch := map[string]string{"amd64": "x86_64", "arm64": "arm64"}[runtime.GOARCH]
	endpoint := vars["AWS_ENDPOINT_URL"]
	lambdaCall(ctx, t, endpoint, "/2015-03-31/functions", map[string]any{
		"FunctionName": "done-when", "Runtime": "provided.al2023", "Handler": "bootstrap",
		"Role": "arn:aws:iam::000000000000:role/done-when", "Architectures": []string{arch},
		"Code": map[string]string{"ZipFile": base64.StdEncoding.EncodeToString(code)},
	}, nil)
	keys := []string{"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SQS", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_REGION", "LATCH_BACKEND"}
	var res struct {
		PID int                `json:"pid"`
		Env map[string]*string `json:"env"`
	}
	// A new function is Pending for a moment: invoke until it runs.
	for {
		err := lambdaCallErr(ctx, endpoint, "/2015-03-31/functions/done-when/invocations", map[string]any{"keys": keys}, &res)
		if err == nil && res.PID > 0 {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("invoke: %v (result %+v)", err, res)
		}
		time.Sleep(500 * time.Millisecond)
	}
	for _, k := range keys {
		if got := res.Env[k]; got == nil || *got != vars[k] {
			t.Errorf("the function's %s = %v, want %q (the stack's)", k, deref(got), vars[k])
		}
	}
	return res.PID
}

func deref(s *string) string {
	if s == nil {
		return "(unset)"
	}
	return fmt.Sprintf("%q", *s)
}

func zipBootstrap(t *testing.T, path string) []byte {
	t.Helper()
	bin, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	h := &zip.FileHeader{Name: "bootstrap", Method: zip.Deflate}
	h.SetMode(0o755)
	w, err := zw.CreateHeader(h)
	if err == nil {
		_, err = w.Write(bin)
	}
	if err == nil {
		err = zw.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func lambdaCall(ctx context.Context, t *testing.T, endpoint, path string, in, out any) {
	t.Helper()
	if err := lambdaCallErr(ctx, endpoint, path, in, out); err != nil {
		t.Fatal(err)
	}
}

// lambdaCallErr sends one Lambda REST call, signed with the dummy
// credentials (no Lambda client in this module's dependencies).
func lambdaCallErr(ctx context.Context, endpoint, path string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	sum := sha256.Sum256(body)
	creds := aws.Credentials{AccessKeyID: "test", SecretAccessKey: "test"}
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "lambda", "us-east-1", time.Now()); err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 || resp.Header.Get("X-Amz-Function-Error") != "" {
		return fmt.Errorf("POST %s: %s %s: %.500s", path, resp.Status, resp.Header.Get("X-Amz-Function-Error"), b)
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}
