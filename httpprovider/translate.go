package httpprovider

import (
	"net/http"

	"transdb/engine"
)

// translateParams are the parameters of GET /v1/translate.
var translateParams = []string{"basekey", "uri", "args", "method", "host", "port", "scheme",
	"client_ip", "header", "key", "trace"}

// handleTranslate serves GET /v1/translate: the engine's decision for
// the request the parameters describe, from one version of the table.
// The decision is the body of a 200 whatever it says (a bad uri is a
// decision with status 400); malformed parameters are a 400 answer.
func (s *Server) handleTranslate(x *exchange) error {
	req, err := x.translateRequest()
	if err != nil {
		return err
	}
	x.uri = req.URI
	snap, err := x.snapshot()
	if err != nil {
		return err
	}
	defer snap.Release()
	return x.prov.e.DecideIn(x.r.Context(), snap, req, func(d *engine.Decision) error {
		// The access log's key is the one the translation started with,
		// and its blocks the rows it walked.
		x.key, x.lookup, x.blocks = d.StartKey, true, d.Rows
		return x.respondJSON(func(j *jsonWriter) { j.decision(d) })
	})
}

// translateRequest reads the request to translate from the parameters;
// one the engine's Request.Validate refuses is a 400.
func (x *exchange) translateRequest() (engine.Request, error) {
	var req engine.Request
	q, err := x.params()
	if err != nil {
		return req, err
	}
	var v [7]string
	var given [7]bool
	for i, name := range [...]string{"uri", "args", "host", "method", "scheme", "client_ip", "key"} {
		if v[i], given[i], err = single(q, name); err != nil {
			return req, err
		}
	}
	req.URI, req.Args, req.Host, req.Method, req.Scheme, req.ClientIP, req.Key = v[0], v[1], v[2], v[3], v[4], v[5], v[6]
	bad := func(err error) error { return errorf(http.StatusBadRequest, "parameter %v", err) }
	// An empty key is the default for the Go API; a key= given is one
	// that cannot be stored.
	if given[6] && req.Key == "" {
		return req, bad(engine.CheckKey(""))
	}
	if port, ok, err := single(q, "port"); err != nil {
		return req, err
	} else if ok {
		if req.Port, err = engine.ParsePort(port); err != nil {
			return req, bad(err)
		}
	}
	for _, h := range q.get("header") {
		hd, err := engine.ParseHeader(h)
		if err != nil {
			return req, bad(err)
		}
		req.Header = append(req.Header, hd)
	}
	if req.Trace, err = boolParam(q, "trace"); err != nil {
		return req, err
	}
	if err := req.Validate(); err != nil {
		return req, bad(err)
	}
	return req, nil
}
