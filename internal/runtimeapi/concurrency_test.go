package runtimeapi_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/latchkit/latch/internal/runtimeapi"
)

// TestManagedInstancesServeSeveralAtOnce: a runtime started with
// AWS_LAMBDA_MAX_CONCURRENCY=n runs n invoke loops (aws-lambda-go v1.55.1),
// and a server with MaxConcurrency n hands it n invocations at once, each
// with its own request id and tenant, all in one process.
func TestManagedInstancesServeSeveralAtOnce(t *testing.T) {
	t.Parallel()
	const n = 8
	rt := startRuntime(t, runtimeapi.Config{FunctionName: "mi", Timeout: 20 * time.Second, MaxConcurrency: n, KeepOverrun: true},
		fmt.Sprintf("AWS_LAMBDA_MAX_CONCURRENCY=%d", n))
	var wg sync.WaitGroup
	results := make([]result, n)
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := rt.srv.InvokeRequest(ctxFor(t, 30*time.Second), runtimeapi.Request{
				Payload:  []byte(fmt.Sprintf(`{"action":"meet","meet":%d,"value":"%d"}`, n, i)),
				TenantID: fmt.Sprintf("tenant-%d", i),
			})
			if errs[i] = err; err == nil {
				results[i] = decode(t, out)
			}
		}()
	}
	wg.Wait()
	pids := map[int]bool{}
	ids := map[string]bool{}
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("invocation %d: %v", i, errs[i])
		}
		r := results[i]
		if r.Value != fmt.Sprint(i) || r.TenantID != fmt.Sprintf("tenant-%d", i) {
			t.Errorf("invocation %d answered value %q, tenant %q: another invocation's metadata", i, r.Value, r.TenantID)
		}
		pids[r.PID], ids[r.RequestID] = true, true
	}
	if len(pids) != 1 || len(ids) != n {
		t.Errorf("%d processes, %d request ids; want 1 process, %d ids", len(pids), len(ids), n)
	}
}

// TestKeepOverrun: on Managed Instances an invocation past its timeout is
// not stopped. Its caller gets the timeout; the process lives on and
// serves others meanwhile; the overrun keeps its place until it answers,
// and its late answer is taken, so the runtime's loops go on.
func TestKeepOverrun(t *testing.T) {
	t.Parallel()
	rt := startRuntime(t, runtimeapi.Config{FunctionName: "mi", Timeout: 2 * time.Second, MaxConcurrency: 2, KeepOverrun: true},
		"AWS_LAMBDA_MAX_CONCURRENCY=2")
	first, err := rt.srv.Invoke(ctxFor(t, 10*time.Second), []byte(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	pid := decode(t, first).PID

	_, err = rt.srv.Invoke(ctxFor(t, 10*time.Second), []byte(`{"action":"sleep","sleepMs":3000}`))
	var fe *runtimeapi.FunctionError
	if !errors.As(err, &fe) || fe.Type != runtimeapi.ErrorTypeTimeout {
		t.Fatalf("overrun: %v, want a %s", err, runtimeapi.ErrorTypeTimeout)
	}
	select {
	case <-rt.srv.Done():
		t.Fatalf("the environment ended at an overrun: %v", rt.srv.Err())
	default:
	}
	// While the overrun runs, the other loop serves.
	out, err := rt.srv.Invoke(ctxFor(t, 10*time.Second), []byte(`{"value":"meanwhile"}`))
	if err != nil || decode(t, out).PID != pid {
		t.Fatalf("invocation beside the overrun: %v (pid %d, want %d)", err, decode(t, out).PID, pid)
	}
	// Two at once need both loops: the overrun's must have answered and
	// been taken, not refused (a refusal stops every loop of the process).
	var wg sync.WaitGroup
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := rt.srv.Invoke(ctxFor(t, 10*time.Second), []byte(fmt.Sprintf(`{"action":"meet","meet":2,"value":"%d"}`, i)))
			if err != nil {
				t.Errorf("invocation %d after the overrun: %v", i, err)
			} else if got := decode(t, out).PID; got != pid {
				t.Errorf("invocation %d ran in process %d, want %d: the process did not survive", i, got, pid)
			}
		}()
	}
	wg.Wait()
}
