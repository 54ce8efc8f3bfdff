package runtimeapi

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Request is one invocation with the metadata Lambda passes to the runtime
// besides the payload. Zero fields are filled in as Lambda would.
type Request struct {
	// Payload is the event, normally JSON.
	Payload []byte
	// RequestID identifies the invocation. Zero: a fresh UUID.
	RequestID string
	// TraceID is the X-Ray trace header. Zero: a fresh, unsampled one.
	TraceID string
	// ClientContext is the JSON client context of a mobile-SDK invoke;
	// sent only when set.
	ClientContext []byte
	// CognitoIdentity is the JSON Cognito identity of a mobile-SDK invoke;
	// sent only when set.
	CognitoIdentity []byte
	// TenantID is the tenant of an invoke of a function with tenant
	// isolation (lambdacontext.LambdaContext.TenantID); sent only when set.
	TenantID string
}

// invocation is a request on its way through the runtime.
type invocation struct {
	req      Request
	deadline time.Time

	once     sync.Once
	done     chan struct{}
	response []byte
	err      error

	answerOnce sync.Once
	answered   chan struct{} // closed when the runtime posted its answer
}

// answer records that the runtime answered (in time or late).
func (inv *invocation) answer() { inv.answerOnce.Do(func() { close(inv.answered) }) }

func (inv *invocation) isAnswered() bool {
	select {
	case <-inv.answered:
		return true
	default:
		return false
	}
}

// finish settles the invocation once; it reports whether this call did.
// A non-nil first runs before the caller learns the outcome.
func (inv *invocation) finish(response []byte, err error, first func()) bool {
	won := false
	inv.once.Do(func() {
		if first != nil {
			first()
		}
		inv.response, inv.err = response, err
		close(inv.done)
		won = true
	})
	return won
}

// Invoke runs one invocation with a payload and returns the function's
// response; see InvokeRequest.
func (s *Server) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	return s.InvokeRequest(ctx, Request{Payload: payload})
}

// InvokeRequest hands req to the runtime when it next asks for work and
// waits for the outcome. Up to Config.MaxConcurrency invocations are
// served at a time; a caller past that waits for one to end.
//
// A failure inside the environment is a *FunctionError: the handler's
// error, a crash (ErrorTypeExit), a timeout (ErrorTypeTimeout, after which
// the server is Done and the process must go), an init failure. Otherwise
// the error is ctx's (the caller stopped waiting; an invocation already
// delivered still runs to its end, as in Lambda), ErrRequestTooLarge,
// ErrNotDelivered (the environment died between invocations; retry on a
// fresh one), or ErrClosed.
func (s *Server) InvokeRequest(ctx context.Context, req Request) ([]byte, error) {
	if len(req.Payload) > MaxRequestSize {
		return nil, ErrRequestTooLarge
	}
	if req.RequestID == "" {
		req.RequestID = newRequestID()
	}
	if req.TraceID == "" {
		req.TraceID = newTraceHeader(time.Now())
	}
	id := req.RequestID

	select {
	case s.busy <- struct{}{}:
	case <-s.ended:
		return nil, s.undelivered(id)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	delivered := false
	defer func() {
		if !delivered {
			<-s.busy
		}
	}()
	if s.isEnded() {
		return nil, s.undelivered(id)
	}

	initTimer := time.NewTimer(s.cfg.InitTimeout)
	defer initTimer.Stop()
	var poller chan *invocation
	select {
	case poller = <-s.pollers:
	case <-s.ended:
		return nil, s.undelivered(id)
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-initTimer.C:
		msg := fmt.Sprintf("Init timed out after %.2f seconds", s.cfg.InitTimeout.Seconds())
		readdress := func(rid string) error {
			return lambdaError(rid, ErrorTypeTimeout, "RequestId: "+rid+" Error: "+msg)
		}
		s.end(ending{err: lambdaError("", ErrorTypeTimeout, "Error: "+msg), readdress: readdress})
		return nil, readdress(id)
	}
	if s.isEnded() {
		poller <- nil // the runtime is told to go away
		return nil, s.undelivered(id)
	}

	inv := &invocation{req: req, deadline: time.Now().Add(s.cfg.Timeout), done: make(chan struct{}), answered: make(chan struct{})}
	s.mu.Lock()
	s.inflight[id] = inv
	s.mu.Unlock()
	poller <- inv
	delivered = true
	go s.watch(inv)

	select {
	case <-inv.done:
		return inv.response, inv.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// watch waits for a delivered invocation's end: an answer, the deadline, or
// the end of the environment. It then frees its place for the next; an
// overrun kept past its deadline keeps its place until the runtime answers
// or the environment ends, as the runtime's invoke loop is busy with it.
func (s *Server) watch(inv *invocation) {
	defer func() { <-s.busy }()
	timer := time.NewTimer(time.Until(inv.deadline))
	defer timer.Stop()
	id := inv.req.RequestID
	select {
	case <-inv.done:
	case <-s.ended:
		s.finish(inv, nil, s.failure(id))
	case <-timer.C:
		fe := lambdaError(id, ErrorTypeTimeout,
			fmt.Sprintf("RequestId: %s Error: Task timed out after %.2f seconds", id, s.cfg.Timeout.Seconds()))
		if s.cfg.KeepOverrun {
			s.finishThen(inv, nil, fe, nil)
			select {
			case <-inv.answered:
			case <-s.ended:
			}
			s.forget(inv)
			return
		}
		// The environment ends before the caller hears of the timeout, so
		// whoever sees the error also sees Done.
		s.finishThen(inv, nil, fe, func() {
			s.end(ending{err: fe, readdress: func(string) error { return fe }})
		})
	}
}
