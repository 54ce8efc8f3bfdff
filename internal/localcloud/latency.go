package localcloud

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/latchkit/latch/internal/lambdaproc"
	"github.com/latchkit/latch/internal/runtimeapi"
)

// Latency is a function's invoke latency: the first invoke (a cold start:
// a process to start) and the median and slowest of the warm ones after it.
type Latency struct {
	Cold, WarmMedian, WarmMax time.Duration
	Warm                      int
}

func (l Latency) String() string {
	return fmt.Sprintf("cold %s, warm median %s (max %s, %d invokes)", l.Cold.Round(100*time.Microsecond),
		l.WarmMedian.Round(100*time.Microsecond), l.WarmMax.Round(100*time.Microsecond), l.Warm)
}

// measure times invoke once cold and warm times.
func measure(warm int, invoke func() error) (Latency, error) {
	started := time.Now()
	if err := invoke(); err != nil {
		return Latency{}, err
	}
	l := Latency{Cold: time.Since(started), Warm: warm}
	ds := make([]time.Duration, 0, warm)
	for range warm {
		started := time.Now()
		if err := invoke(); err != nil {
			return l, err
		}
		ds = append(ds, time.Since(started))
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	if len(ds) > 0 {
		l.WarmMedian, l.WarmMax = ds[len(ds)/2], ds[len(ds)-1]
	}
	return l, nil
}

// InvokeLatency invokes the deployed function through the local cloud's
// Lambda API (RequestResponse) with payload, first cold, then warm times.
// Call it before anything else invoked the function. The payload must have
// no effect: an empty SQS batch, which latch refuses with an error before
// it touches anything, is a whole round trip through the runtime. The
// function's error (wantErr in its message) is the expected answer; any
// other fails the measurement.
func InvokeLatency(ctx context.Context, lc *lambda.Client, function string, payload []byte, wantErr string, warm int) (Latency, error) {
	return measure(warm, func() error {
		out, err := lc.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String(function), Payload: payload, InvocationType: lambdatypes.InvocationTypeRequestResponse})
		if err != nil {
			return err
		}
		if out.FunctionError != nil && !strings.Contains(string(out.Payload), wantErr) {
			return fmt.Errorf("localcloud: %s: %s: %s", function, aws.ToString(out.FunctionError), out.Payload)
		}
		return nil
	})
}

// LocalLatency runs the same built function (sam's bootstrap in buildDir)
// under latch's local runner (package lambdaproc, what `latch local` uses)
// with the deployed function's environment, and times the same invokes.
func LocalLatency(ctx context.Context, lc *lambda.Client, function, logicalID, buildDir string, payload []byte, wantErr string, warm int, out io.Writer) (Latency, error) {
	cfg, err := lc.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(function)})
	if err != nil {
		return Latency{}, fmt.Errorf("localcloud: function %s: %w", function, err)
	}
	env := map[string]string{}
	if cfg.Environment != nil {
		env = cfg.Environment.Variables
	}
	f, err := lambdaproc.New(lambdaproc.Config{Name: function, Binary: filepath.Join(buildDir, logicalID, "bootstrap"),
		Env: env, Timeout: time.Duration(aws.ToInt32(cfg.Timeout)) * time.Second, Output: out})
	if err != nil {
		return Latency{}, err
	}
	defer f.Stop()
	return measure(warm, func() error {
		_, err := f.Invoke(ctx, payload)
		var fe *runtimeapi.FunctionError
		if errors.As(err, &fe) && strings.Contains(fe.Message, wantErr) {
			return nil
		}
		return err
	})
}
