package emulator

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
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
	var methods []string
	switch r.URL.Path {
	case adminPrefix + "tasks":
		methods = []string{http.MethodGet, http.MethodPost}
	case adminPrefix + "faults", adminPrefix + "reset":
		methods = []string{http.MethodPost}
	case adminPrefix + "requests":
		methods = []string{http.MethodGet}
	default:
		writeJSON(w, http.StatusNotFound, adminError{fmt.Sprintf("no admin endpoint %s (have GET and POST %stasks, POST %sfaults, GET %srequests, POST %sreset)",
			r.URL.Path, adminPrefix, adminPrefix, adminPrefix, adminPrefix)})
		return
	}
	if !slices.Contains(methods, r.Method) {
		w.Header().Set("Allow", strings.Join(methods, ", "))
		writeJSON(w, http.StatusMethodNotAllowed, adminError{fmt.Sprintf("%s needs method %s, got %s", r.URL.Path, strings.Join(methods, " or "), r.Method)})
		return
	}
	switch r.URL.Path {
	case adminPrefix + "tasks":
		if r.Method == http.MethodGet {
			writeJSON(w, http.StatusOK, e.TaskIDs())
			return
		}
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
