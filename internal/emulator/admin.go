package emulator

import (
	"errors"
	"fmt"
	"io"
	"net/http"
)

const adminPrefix = "/_emulator/"

const maxAdminBody = 8 << 20

type adminError struct {
	Error string `json:"error"`
}

// serveAdmin serves the unauthenticated admin API (see ServeHTTP). Admin
// requests are not recorded in Requests.
func (e *Emulator) serveAdmin(w http.ResponseWriter, r *http.Request) {
	if e.logf != nil {
		defer e.logf("admin %s %s", r.Method, r.URL.Path)
	}
	var method string
	switch r.URL.Path {
	case adminPrefix + "tasks", adminPrefix + "faults", adminPrefix + "reset":
		method = http.MethodPost
	case adminPrefix + "requests":
		method = http.MethodGet
	default:
		writeJSON(w, http.StatusNotFound, adminError{fmt.Sprintf("no admin endpoint %s (have POST %stasks, POST %sfaults, GET %srequests, POST %sreset)",
			r.URL.Path, adminPrefix, adminPrefix, adminPrefix, adminPrefix)})
		return
	}
	if r.Method != method {
		w.Header().Set("Allow", method)
		writeJSON(w, http.StatusMethodNotAllowed, adminError{fmt.Sprintf("%s needs method %s, got %s", r.URL.Path, method, r.Method)})
		return
	}
	switch r.URL.Path {
	case adminPrefix + "tasks":
		var spec TaskSpec
		if !readAdminJSON(w, r, &spec, "a TaskSpec") {
			return
		}
		id, err := e.AddTask(spec)
		if err != nil {
			writeJSON(w, http.StatusBadRequest, adminError{err.Error()})
			return
		}
		writeJSON(w, http.StatusCreated, struct {
			TaskID string `json:"task_id"`
		}{id})
	case adminPrefix + "faults":
		var f Fault
		if !readAdminJSON(w, r, &f, "a Fault") {
			return
		}
		if err := e.AddFault(f); err != nil {
			writeJSON(w, http.StatusBadRequest, adminError{err.Error()})
			return
		}
		w.WriteHeader(http.StatusNoContent)
	case adminPrefix + "requests":
		writeJSON(w, http.StatusOK, e.Requests())
	case adminPrefix + "reset":
		e.Reset()
		w.WriteHeader(http.StatusNoContent)
	}
}

func readAdminJSON(w http.ResponseWriter, r *http.Request, v any, what string) bool {
	b, err := io.ReadAll(io.LimitReader(r.Body, maxAdminBody+1))
	if err == nil && len(b) > maxAdminBody {
		err = errors.New("request body too large")
	}
	if err == nil {
		err = decodeStrict(b, v)
	}
	if err != nil {
		writeJSON(w, http.StatusBadRequest, adminError{fmt.Sprintf("%s %s: want %s as JSON: %v", r.Method, r.URL.Path, what, err)})
		return false
	}
	return true
}
