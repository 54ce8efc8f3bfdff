package runtimeapi

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// APIVersion is the Runtime API version in every runtime path.
const APIVersion = "2018-06-01"

// Headers of the Runtime API. The first seven go to the runtime with each
// invocation (GET .../invocation/next); the last two come from the runtime
// with an error, as a header on the error endpoints or as HTTP trailers on a
// streamed response that failed midway.
const (
	HeaderRequestID       = "Lambda-Runtime-Aws-Request-Id"
	HeaderDeadlineMs      = "Lambda-Runtime-Deadline-Ms"
	HeaderFunctionARN     = "Lambda-Runtime-Invoked-Function-Arn"
	HeaderTraceID         = "Lambda-Runtime-Trace-Id"
	HeaderClientContext   = "Lambda-Runtime-Client-Context"
	HeaderCognitoIdentity = "Lambda-Runtime-Cognito-Identity"
	HeaderTenantID        = "Lambda-Runtime-Aws-Tenant-Id"
	HeaderErrorType       = "Lambda-Runtime-Function-Error-Type"
	HeaderErrorBody       = "Lambda-Runtime-Function-Error-Body"
)

// Lambda's limits and defaults that the server applies.
const (
	// MaxRequestSize is the largest payload of a synchronous invoke (6 MB).
	MaxRequestSize = 6 * 1024 * 1024
	// MaxResponseSize is the largest response Lambda accepts from a runtime
	// for a synchronous invoke; the figure is the one Lambda's own
	// error message quotes.
	MaxResponseSize = 6291556
	// DefaultTimeout is Lambda's default function timeout.
	DefaultTimeout = 3 * time.Second
	// DefaultInitTimeout is Lambda's limit on the init phase.
	DefaultInitTimeout = 10 * time.Second
	// DefaultRegion is used when Config.Region is empty.
	DefaultRegion = "us-east-1"
	// DefaultAccountID is the account in default function ARNs; it is the
	// one moto uses, so ARNs match what the emulator reports.
	DefaultAccountID = "123456789012"
)

// Config describes the function whose runtime the server talks to. Every
// field has a usable zero value except FunctionName.
type Config struct {
	// FunctionName names the function in its ARN and in answers to
	// extension registrations. Required.
	FunctionName string
	// FunctionARN is sent to the runtime as the invoked function's ARN.
	// Zero: arn:aws:lambda:<Region>:123456789012:function:<FunctionName>.
	FunctionARN string
	// Region goes into the default ARN. Zero: us-east-1.
	Region string
	// Version is the function version. Zero: $LATEST, as for an
	// unqualified invoke.
	Version string
	// Handler is the configured handler, reported to extensions. Zero:
	// bootstrap, the only handler name a provided.al2023 function uses.
	Handler string
	// Timeout is the function's configured timeout: each invocation's
	// deadline is its delivery time plus Timeout, and an invocation still
	// running then fails with ErrorTypeTimeout and ends the environment.
	// Zero: 3s, Lambda's default.
	Timeout time.Duration
	// InitTimeout bounds how long Invoke waits for the runtime to ask for
	// an invocation (its init phase). Zero: 10s, Lambda's init limit.
	InitTimeout time.Duration
	// MaxConcurrency is how many invocations the environment serves at
	// once: 1 for a classic function, the capacity provider's
	// PerExecutionEnvironmentMaxConcurrency on Lambda Managed Instances,
	// where the runtime (aws-lambda-go, reading AWS_LAMBDA_MAX_CONCURRENCY)
	// polls for that many at a time. Zero: 1.
	MaxConcurrency int
	// KeepOverrun keeps the environment when an invocation passes its
	// timeout, as Lambda Managed Instances do: the caller gets the timeout
	// error at the deadline, the invocation's code goes on running and
	// holds its place among MaxConcurrency until the runtime answers, and
	// that late answer is taken (202) and dropped. A refused late answer
	// would end the whole process: aws-lambda-go v1.55.1 stops every
	// invoke loop when one POST is refused. Zero (false): the classic
	// behaviour, the environment ends at the timeout and its process goes.
	KeepOverrun bool
}

func (c Config) withDefaults() Config {
	if c.Region == "" {
		c.Region = DefaultRegion
	}
	if c.FunctionARN == "" {
		c.FunctionARN = fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", c.Region, DefaultAccountID, c.FunctionName)
	}
	if c.Version == "" {
		c.Version = "$LATEST"
	}
	if c.Handler == "" {
		c.Handler = "bootstrap"
	}
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	if c.InitTimeout <= 0 {
		c.InitTimeout = DefaultInitTimeout
	}
	if c.MaxConcurrency <= 0 {
		c.MaxConcurrency = 1
	}
	return c
}

// Server is the Runtime API of one execution environment: one runtime
// process talks to it over its lifetime, and it hands that runtime up to
// Config.MaxConcurrency invocations at a time (one, classically). When the runtime is gone (it exited, failed its
// init, or timed out) the server ends for good; a supervisor starts a new
// process with a new Server, as Lambda starts a new execution environment.
//
// Time is the wall clock on purpose: the deadline is enforced against a real
// process that reads its own clock from the Lambda-Runtime-Deadline-Ms
// header, and an injected clock would disagree with it.
type Server struct {
	cfg  Config
	ln   net.Listener
	http *http.Server

	// busy holds a token while an invocation is owed to the runtime, up to
	// MaxConcurrency at a time; an overrun kept past its timeout holds its
	// token until the runtime answers.
	busy chan struct{}
	// pollers carries a channel from each waiting /next request to Invoke.
	pollers chan chan *invocation

	ready     chan struct{} // closed at the runtime's first /next: init is over
	readyOnce sync.Once

	ended     chan struct{} // closed when the environment is over; see end
	closeOnce sync.Once

	mu           sync.Mutex
	ending       ending
	inflight     map[string]*invocation // by request id
	extensions   []string               // names, in registration order
	extensionIDs []string
}

// ending is why a server ended: what Err reports, and what an invocation
// that was owed an answer (or asks afterwards) gets instead.
type ending struct {
	err       error
	readdress func(requestID string) error
}

// NewServer starts a Runtime API server on a free loopback port.
func NewServer(cfg Config) (*Server, error) {
	if cfg.FunctionName == "" {
		return nil, errors.New("runtimeapi: Config.FunctionName is required")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("runtimeapi: listen: %w", err)
	}
	cfg = cfg.withDefaults()
	s := &Server{
		cfg:      cfg,
		ln:       ln,
		busy:     make(chan struct{}, cfg.MaxConcurrency),
		inflight: make(map[string]*invocation),
		pollers:  make(chan chan *invocation),
		ready:    make(chan struct{}),
		ended:    make(chan struct{}),
	}
	mux := http.NewServeMux()
	base := "/" + APIVersion + "/runtime/"
	mux.HandleFunc("GET "+base+"invocation/next", s.handleNext)
	mux.HandleFunc("POST "+base+"invocation/{id}/response", s.handleResponse)
	mux.HandleFunc("POST "+base+"invocation/{id}/error", s.handleInvocationError)
	mux.HandleFunc("POST "+base+"init/error", s.handleInitError)
	s.registerExtensionAPI(mux)
	s.http = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.http.Serve(ln) }() // returns ErrServerClosed on Close
	return s, nil
}

// Addr is the host:port a runtime finds in AWS_LAMBDA_RUNTIME_API.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Config returns the configuration in effect, defaults filled in.
func (s *Server) Config() Config { return s.cfg }

// Ready is closed when the runtime first asks for an invocation, that is
// when its init phase succeeded.
func (s *Server) Ready() <-chan struct{} { return s.ready }

// Done is closed when the environment is over: the runtime reported an init
// error, an invocation timed out, the runtime exited, or the server was
// closed. A supervisor then kills the process (if it still runs) and calls
// RuntimeExited once it is reaped.
func (s *Server) Done() <-chan struct{} { return s.ended }

// Err is nil until Done is closed, then tells why: a *FunctionError for an
// init error, an init timeout, a timeout or an exit (RequestID set for the
// timeout only), or ErrClosed.
func (s *Server) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ending.err
}

// Extensions lists the names of extensions that registered through the
// Extensions API. In Lambda a registered extension means the runtime gets
// SIGTERM, and a short grace, before it is killed at shutdown; aws-lambda-go
// registers one for lambda.WithEnableSIGTERM.
func (s *Server) Extensions() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.extensions...)
}

// RuntimeExited records that the runtime process exited with err (as
// returned by exec.Cmd.Wait; nil for a clean exit) and closes the server. An
// invocation in flight or waiting for the runtime fails with a
// FunctionError of type ErrorTypeExit, as in Lambda. If the server had
// already ended (timeout, init error) that first reason stands.
func (s *Server) RuntimeExited(err error) {
	reason := "Runtime exited without providing a reason"
	if err != nil {
		reason = "Runtime exited with error: " + err.Error()
	}
	s.end(ending{
		err: lambdaError("", ErrorTypeExit, "Error: "+reason),
		readdress: func(id string) error {
			return lambdaError(id, ErrorTypeExit, "RequestId: "+id+" Error: "+reason)
		},
	})
	s.shutdown()
}

// Close ends the server: an invocation in flight or waiting fails with
// ErrClosed, and the listener and every connection are closed.
func (s *Server) Close() error {
	s.end(ending{err: ErrClosed, readdress: func(string) error { return ErrClosed }})
	s.shutdown()
	return nil
}

func (s *Server) shutdown() {
	s.closeOnce.Do(func() { _ = s.http.Close() })
}

// end records the first reason the environment ends and wakes everyone
// waiting on it. It reports whether this call was the first.
func (s *Server) end(e ending) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	select {
	case <-s.ended:
		return false
	default:
	}
	s.ending = e
	close(s.ended)
	return true
}

// failure is what an invocation owed an answer gets once the server ended.
func (s *Server) failure(requestID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ending.readdress(requestID)
}

// undelivered is what an invocation that never reached the runtime gets once
// the server ended. During init the invocation is the one that started the
// environment and carries its failure, as in Lambda; after init the
// environment died between invocations and the invocation can go elsewhere.
func (s *Server) undelivered(requestID string) error {
	err := s.failure(requestID)
	select {
	case <-s.ready:
	default:
		return err
	}
	if errors.Is(err, ErrClosed) {
		return err
	}
	return fmt.Errorf("%w: %v", ErrNotDelivered, s.Err())
}

func (s *Server) isEnded() bool {
	select {
	case <-s.ended:
		return true
	default:
		return false
	}
}

// handleNext is the runtime's long poll for its next invocation.
func (s *Server) handleNext(w http.ResponseWriter, r *http.Request) {
	s.readyOnce.Do(func() { close(s.ready) })
	ch := make(chan *invocation, 1)
	select {
	case s.pollers <- ch:
	case <-s.ended:
		// The documented answer to a runtime that must not go on: 500,
		// after which runtimes exit (aws-lambda-go does).
		writeAPIError(w, http.StatusInternalServerError, "Runtime.Ended", "the execution environment has ended")
		return
	case <-r.Context().Done():
		return
	}
	inv := <-ch // Invoke sends at once on a channel with room for it
	if inv == nil {
		writeAPIError(w, http.StatusInternalServerError, "Runtime.Ended", "the execution environment has ended")
		return
	}
	h := w.Header()
	h.Set(HeaderRequestID, inv.req.RequestID)
	h.Set(HeaderDeadlineMs, strconv.FormatInt(inv.deadline.UnixMilli(), 10))
	h.Set(HeaderFunctionARN, s.cfg.FunctionARN)
	h.Set(HeaderTraceID, inv.req.TraceID)
	if len(inv.req.ClientContext) > 0 {
		h.Set(HeaderClientContext, string(inv.req.ClientContext))
	}
	if len(inv.req.CognitoIdentity) > 0 {
		h.Set(HeaderCognitoIdentity, string(inv.req.CognitoIdentity))
	}
	if inv.req.TenantID != "" {
		h.Set(HeaderTenantID, inv.req.TenantID)
	}
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(inv.req.Payload)))
	w.WriteHeader(http.StatusOK)
	// A write error means the runtime hung up; the invocation stays in
	// flight and ends by timeout or by the process's exit, as in Lambda.
	_, _ = w.Write(inv.req.Payload)
}

// handleResponse takes an invocation's result.
func (s *Server) handleResponse(w http.ResponseWriter, r *http.Request) {
	inv, ok := s.lookup(w, r)
	if !ok {
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxResponseSize+1))
	if err != nil {
		writeAPIError(w, http.StatusBadRequest, "InvalidRequest", "reading the response: "+err.Error())
		return
	}
	id := inv.req.RequestID
	if len(body) > MaxResponseSize {
		s.finish(inv, nil, lambdaError(id, ErrorTypeResponseTooLarge,
			fmt.Sprintf("Response payload size exceeded maximum allowed payload size (%d bytes).", MaxResponseSize)))
		writeAPIError(w, http.StatusRequestEntityTooLarge, "RequestEntityTooLarge",
			fmt.Sprintf("response of more than %d bytes", MaxResponseSize))
		return
	}
	// A runtime that streams its response reports a failure midway in
	// trailers (aws-lambda-go does when the handler's io.Reader fails).
	var won bool
	if t := r.Trailer.Get(HeaderErrorType); t != "" {
		doc, _ := base64.StdEncoding.DecodeString(r.Trailer.Get(HeaderErrorBody))
		won = s.finish(inv, nil, runtimeError(id, doc, t))
	} else {
		won = s.finish(inv, body, nil)
	}
	s.accepted(w, id, won)
}

// handleInvocationError takes an invocation's failure.
func (s *Server) handleInvocationError(w http.ResponseWriter, r *http.Request) {
	inv, ok := s.lookup(w, r)
	if !ok {
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxResponseSize))
	if err != nil {
		writeAPIError(w, http.StatusBadRequest, "InvalidRequest", "reading the error: "+err.Error())
		return
	}
	id := inv.req.RequestID
	won := s.finish(inv, nil, runtimeError(id, body, r.Header.Get(HeaderErrorType)))
	s.accepted(w, id, won)
}

// handleInitError takes a runtime's report that it cannot initialise. The
// environment ends: the invocation waiting for this runtime fails with the
// reported error, and the next one gets a fresh process.
func (s *Server) handleInitError(w http.ResponseWriter, r *http.Request) {
	select {
	case <-s.ready:
		writeAPIError(w, http.StatusForbidden, "InvalidStateTransition", "init error reported after the runtime asked for an invocation")
		return
	default:
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxResponseSize))
	if err != nil {
		writeAPIError(w, http.StatusBadRequest, "InvalidRequest", "reading the error: "+err.Error())
		return
	}
	fe := runtimeError("", body, r.Header.Get(HeaderErrorType))
	s.end(ending{
		err: fe,
		readdress: func(id string) error {
			c := *fe
			c.RequestID = id
			return &c
		},
	})
	w.WriteHeader(http.StatusAccepted)
	_, _ = io.WriteString(w, `{"status":"OK"}`)
}

// lookup finds the invocation in flight that a runtime's POST names, or
// answers the runtime with the error Lambda gives for an unknown id.
func (s *Server) lookup(w http.ResponseWriter, r *http.Request) (*invocation, bool) {
	id := r.PathValue("id")
	s.mu.Lock()
	inv := s.inflight[id]
	s.mu.Unlock()
	if inv == nil {
		writeAPIError(w, http.StatusBadRequest, "InvalidRequestID", "no invocation in flight with request id "+id)
		return nil, false
	}
	return inv, true
}

// accepted answers a runtime's POST: 202 if it settled the invocation, and
// the same error as for an unknown id if the invocation had already ended
// (it timed out a moment before), unless the environment keeps overruns:
// then the late answer is taken and dropped.
func (s *Server) accepted(w http.ResponseWriter, id string, won bool) {
	if !won && !s.cfg.KeepOverrun {
		writeAPIError(w, http.StatusBadRequest, "InvalidRequestID", "invocation "+id+" has already ended")
		return
	}
	w.WriteHeader(http.StatusAccepted)
	_, _ = io.WriteString(w, `{"status":"OK"}`)
}

// finish settles an invocation with the runtime's answer and clears it
// from flight.
func (s *Server) finish(inv *invocation, response []byte, err error) bool {
	inv.answer()
	return s.finishThen(inv, response, err, nil)
}

// finishThen is finish with a hook that runs, if this call settles the
// invocation, before the invoker sees the outcome.
func (s *Server) finishThen(inv *invocation, response []byte, err error, first func()) bool {
	won := inv.finish(response, err, first)
	if !s.cfg.KeepOverrun || inv.isAnswered() {
		s.forget(inv)
	}
	return won
}

// forget clears an invocation from flight: the runtime can no longer
// answer it.
func (s *Server) forget(inv *invocation) {
	s.mu.Lock()
	if s.inflight[inv.req.RequestID] == inv {
		delete(s.inflight, inv.req.RequestID)
	}
	s.mu.Unlock()
}

func writeAPIError(w http.ResponseWriter, status int, errorType, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(errorDocument{Type: errorType, Message: message})
}
