package runtimeapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
)

// ExtensionAPIVersion is the Extensions API version in every extension path.
const ExtensionAPIVersion = "2020-01-01"

// Headers of the Extensions API.
const (
	HeaderExtensionName       = "Lambda-Extension-Name"
	HeaderExtensionIdentifier = "Lambda-Extension-Identifier"
)

// registerExtensionAPI serves the part of the Extensions API that an
// internal extension needs to exist: registration during init, and an event
// poll. That is what aws-lambda-go's lambda.WithEnableSIGTERM does, and in
// Lambda a registered extension is what turns the runtime's shutdown from a
// bare SIGKILL into SIGTERM, a grace period, then SIGKILL.
//
// latch does not run external extensions and delivers no events to
// extensions: registering for INVOKE or SHUTDOWN is refused with a clear
// error rather than accepted and then never served.
func (s *Server) registerExtensionAPI(mux *http.ServeMux) {
	base := "/" + ExtensionAPIVersion + "/extension/"
	mux.HandleFunc("POST "+base+"register", s.handleExtensionRegister)
	mux.HandleFunc("GET "+base+"event/next", s.handleExtensionNext)
}

func (s *Server) handleExtensionRegister(w http.ResponseWriter, r *http.Request) {
	name := r.Header.Get(HeaderExtensionName)
	if name == "" {
		writeAPIError(w, http.StatusBadRequest, "InvalidRequest", "missing "+HeaderExtensionName+" header")
		return
	}
	select {
	case <-s.ready:
		writeAPIError(w, http.StatusForbidden, "InvalidStateTransition", "extensions register during init, before the runtime asks for an invocation")
		return
	default:
	}
	var body struct {
		Events []string `json:"events"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil && !errors.Is(err, io.EOF) {
		writeAPIError(w, http.StatusBadRequest, "InvalidRequest", "registration body: "+err.Error())
		return
	}
	if len(body.Events) > 0 {
		writeAPIError(w, http.StatusBadRequest, "Extension.UnsupportedEvents",
			fmt.Sprintf("latch local delivers no extension events; extension %q asked for %v", name, body.Events))
		return
	}
	id := newRequestID()
	s.mu.Lock()
	s.extensions = append(s.extensions, name)
	s.extensionIDs = append(s.extensionIDs, id)
	s.mu.Unlock()
	w.Header().Set(HeaderExtensionIdentifier, id)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_ = json.NewEncoder(w).Encode(map[string]string{
		"functionName":    s.cfg.FunctionName,
		"functionVersion": s.cfg.Version,
		"handler":         s.cfg.Handler,
	})
}

// handleExtensionNext holds an extension's event poll open: an extension
// that subscribed to no events never gets one, and the poll ends with the
// process or the server.
func (s *Server) handleExtensionNext(w http.ResponseWriter, r *http.Request) {
	id := r.Header.Get(HeaderExtensionIdentifier)
	s.mu.Lock()
	known := false
	for _, x := range s.extensionIDs {
		known = known || x == id
	}
	s.mu.Unlock()
	if !known {
		writeAPIError(w, http.StatusForbidden, "Extension.UnknownExtensionIdentifier", "unknown extension identifier "+id)
		return
	}
	select {
	case <-r.Context().Done():
	case <-s.ended:
		writeAPIError(w, http.StatusInternalServerError, "Runtime.Ended", "the execution environment has ended")
	}
}
