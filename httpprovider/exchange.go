package httpprovider

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"transdb/internal/fault"
	"transdb/translation"
)

// An exchange is one request and its response. It is the
// http.ResponseWriter the handlers write to: it records the status for
// the metrics and the access log, and adds HeaderGeneration to a
// response whose handler did not set it.
type exchange struct {
	s *Server
	w http.ResponseWriter
	r *http.Request

	query  query                // parsed by params
	parsed bool                 // query is parsed
	prov   *provider            // the selected provider, once known
	snap   translation.Snapshot // pinned by snapshot, released by its caller

	wrote   bool
	status  int
	aborted bool // failed after the response had started

	// For the access log.
	key, uri string
	blocks   int  // blocks a lookup found
	lookup   bool // blocks is meaningful
}

// exchanges keeps exchanges between requests: one is some hundred bytes
// that every request would otherwise allocate.
var exchanges = sync.Pool{New: func() any { return new(exchange) }}

// recycle returns x to the pool once its request is served, releasing
// a snapshot its handler left pinned, and forgetting the request.
func (x *exchange) recycle() {
	x.snap.Release()
	*x = exchange{}
	exchanges.Put(x)
}

// Header returns the response header map.
func (x *exchange) Header() http.Header { return x.w.Header() }

// WriteHeader sends the response header with HeaderGeneration.
func (x *exchange) WriteHeader(status int) {
	if x.wrote {
		return
	}
	x.wrote, x.status = true, status
	h := x.w.Header()
	if _, ok := h[HeaderGeneration]; !ok {
		h[HeaderGeneration] = x.s.generationHeader(x.s.generation(x.prov))
	}
	x.w.WriteHeader(status)
}

// Write writes body bytes, sending the header first if needed.
func (x *exchange) Write(b []byte) (int, error) {
	if !x.wrote {
		x.WriteHeader(http.StatusOK)
	}
	return x.w.Write(b)
}

// Unwrap gives http.ResponseController the underlying writer.
func (x *exchange) Unwrap() http.ResponseWriter { return x.w }

// setGeneration sets HeaderGeneration to the generation of the version
// the response is made from.
func (x *exchange) setGeneration(g uint64) {
	x.w.Header()[HeaderGeneration] = x.s.generationHeader(g)
}

// generationText is the header value of one generation.
type generationText struct {
	g     uint64
	value []string
}

// generationHeader returns the HeaderGeneration value of generation g.
// The value of the newest generation asked for is kept, so that the
// responses of one version share one, allocated once. It is never
// modified: net/http only reads header values, and replaces them.
func (s *Server) generationHeader(g uint64) []string {
	if t := s.genText.Load(); t != nil && t.g == g {
		return t.value
	}
	t := &generationText{g: g, value: []string{strconv.FormatUint(g, 10)}}
	s.genText.Store(t)
	return t.value
}

// fail answers err as a JSON error, or, when the response is already
// under way, marks the exchange aborted.
func (x *exchange) fail(err error) {
	status, msg := statusOf(err)
	if x.wrote {
		// Mostly a client that went away during a long response.
		x.s.log.Warn("httpprovider: response failed after it started", "method", x.r.Method, "path", x.r.URL.Path, "err", err)
		x.aborted = true
		return
	}
	if status >= http.StatusInternalServerError && status != http.StatusServiceUnavailable || errors.Is(err, fault.ErrChanged) {
		x.s.log.Error("httpprovider: request failed", "method", x.r.Method, "path", x.r.URL.Path, "status", status, "err", err)
	}
	h := x.w.Header()
	for _, k := range []string{"Content-Length", "Content-Disposition", "Etag", "Content-Encoding"} {
		delete(h, k)
	}
	h.Set("Content-Type", contentTypeJSON)
	h.Set("Cache-Control", "no-store")
	x.WriteHeader(status)
	_ = writeJSON(x, func(j *jsonWriter) {
		j.raw(`{"error":`)
		j.str(msg)
		j.raw("}\n")
	})
}

// params parses the query string. A malformed one is 400, not ignored
// as url.URL.Query would.
func (x *exchange) params() (*query, error) {
	if !x.parsed {
		if err := x.query.parse(x.r.URL.RawQuery); err != nil {
			return nil, errorf(http.StatusBadRequest, "malformed query string: %v", err)
		}
		x.parsed = true
	}
	return &x.query, nil
}

// checkParams reports a query parameter that the route does not take, so
// that a misspelt one (note=1 for notes=1) is an error instead of being
// ignored. A plain query costs no allocation.
func (x *exchange) checkParams(rt *route) error {
	if !rt.strict || x.r.URL.RawQuery == "" {
		return nil
	}
	q, err := x.params()
	if err != nil {
		return err
	}
	name, ok := q.unknown(rt.params)
	if !ok {
		return nil
	}
	if len(rt.params) == 0 {
		return errorf(http.StatusBadRequest, "unknown parameter %q: %s takes no parameters", name, rt.endpoint)
	}
	return errorf(http.StatusBadRequest, "unknown parameter %q: %s takes %s", name, rt.endpoint, strings.Join(rt.params, ", "))
}

// selectProvider selects the provider named by the basekey parameters.
func (x *exchange) selectProvider() (*provider, error) {
	q, err := x.params()
	if err != nil {
		return nil, err
	}
	keys := q.get("basekey")
	pr, err := x.s.selectProvider(keys, keys != nil)
	if err != nil {
		return nil, err
	}
	x.prov = pr
	return pr, nil
}

// single returns the only value of the parameter name and whether there
// is one; a repeated parameter is 400.
func single(q *query, name string) (string, bool, error) {
	v := q.get(name)
	switch len(v) {
	case 0:
		return "", false, nil
	case 1:
		return v[0], true, nil
	}
	return "", false, errorf(http.StatusBadRequest, "parameter %s given %d times", name, len(v))
}

// keyURIParam returns the key or uri parameter name, checked as
// translation.ValidateKeyURI checks stored keys and uris. A missing one
// is def, or 400 when def is empty.
func keyURIParam(q *query, name, def string) (string, error) {
	v, ok, err := single(q, name)
	if err != nil {
		return "", err
	}
	if !ok {
		if def != "" {
			return def, nil
		}
		return "", errorf(http.StatusBadRequest, "missing parameter %s", name)
	}
	return v, checkKeyURI(name, v)
}

// optionalKeyURI returns the key or uri parameter name, checked as
// keyURIParam checks it, or "" when it is missing (an empty one is 400).
func optionalKeyURI(q *query, name string) (string, error) {
	v, ok, err := single(q, name)
	if err != nil || !ok {
		return "", err
	}
	return v, checkKeyURI(name, v)
}

// checkKeyURI reports a key or uri parameter that cannot be stored:
// empty, not valid UTF-8, containing a NUL byte or white space.
func checkKeyURI(name, v string) error {
	if p := translation.KeyURIProblem(v); p != "" {
		return errorf(http.StatusBadRequest, "parameter %s %q: %s", name, v, p)
	}
	return nil
}

// boolParam returns the boolean parameter name (1, t, true, 0, f, false
// and the other spellings of strconv.ParseBool); absent is false.
func boolParam(q *query, name string) (bool, error) {
	v, ok, err := single(q, name)
	if err != nil || !ok {
		return false, err
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, errorf(http.StatusBadRequest, "parameter %s: %q is not a boolean (use 1 or 0)", name, v)
	}
	return b, nil
}
