package local

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/latchkit/latch/internal/lambdaproc"
)

// A running `latch local` serves its stack on a loopback port, so that
// another latch command (latch local fire) acts on the functions, the
// prefix and the parameters already running instead of setting up a
// second copy of the stack beside them.

// FireRequest asks a running stack to fire a schedule rule.
type FireRequest struct {
	// Rule is the rule's logical id or physical name.
	Rule string `json:"rule"`
	// Time is the tick's scheduled time.
	Time time.Time `json:"time"`
}

// FireResponse is what the fire did: the output lines of the invocations
// it made (retries included), prefixed as on Config.Output, and the error
// Fire returned, if any.
type FireResponse struct {
	Output string `json:"output"`
	Error  string `json:"error,omitempty"`
}

// controlPath is the one request a running stack serves.
const controlPath = "/fire"

// Serve answers fire requests on l until ctx is done or Serve's caller
// closes l. It returns when the server has stopped.
func (s *Stack) Serve(ctx context.Context, l net.Listener) error {
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+controlPath, s.serveFire)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func (s *Stack) serveFire(w http.ResponseWriter, r *http.Request) {
	var req FireRequest
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&req); err != nil {
		http.Error(w, "local: bad fire request: "+err.Error(), http.StatusBadRequest)
		return
	}
	// Fire returns once each invocation has drained its output into buf
	// and let go of it: buf is read after the last write.
	var buf bytes.Buffer
	var resp FireResponse
	if err := s.Fire(lambdaproc.WithOutput(r.Context(), &lockedWriter{w: &buf}), req.Rule, req.Time); err != nil {
		resp.Error = err.Error()
	}
	resp.Output = buf.String()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(resp)
}

// FireAt asks the stack served at addr (host:port) to fire rule for the
// tick at, and writes the invocations' output to out. The error is the
// fire's (a failed invocation, an unknown rule) or the request's.
func FireAt(ctx context.Context, addr, rule string, at time.Time, out io.Writer) error {
	body, err := json.Marshal(FireRequest{Rule: rule, Time: at})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+addr+controlPath, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("local: reach the running latch local at %s: %w", addr, err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(res.Body, 4<<10))
		return fmt.Errorf("local: the running latch local at %s answered %s: %s", addr, res.Status, bytes.TrimSpace(msg))
	}
	var resp FireResponse
	if err := json.NewDecoder(res.Body).Decode(&resp); err != nil {
		return fmt.Errorf("local: the running latch local at %s: %w", addr, err)
	}
	if _, err := io.WriteString(out, resp.Output); err != nil {
		return err
	}
	if resp.Error != "" {
		return errors.New(resp.Error)
	}
	return nil
}
