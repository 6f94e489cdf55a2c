package httpprovider

import (
	"net"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

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
	x.key, x.uri = req.Key, req.URI
	snap, err := x.snapshot()
	if err != nil {
		return err
	}
	defer snap.Release()
	return x.prov.e.DecideIn(x.r.Context(), snap, req, func(d *engine.Decision) error {
		x.lookup, x.blocks = true, len(d.Trace)
		return x.respondJSON(func(j *jsonWriter) { j.decision(d) })
	})
}

// translateRequest reads the request to translate from the parameters.
func (x *exchange) translateRequest() (engine.Request, error) {
	var req engine.Request
	q, err := x.params()
	if err != nil {
		return req, err
	}
	text := func(name string) (string, error) {
		v, _, err := single(q, name)
		if err == nil && (!utf8.ValidString(v) || strings.ContainsFunc(v, isControl)) {
			err = errorf(http.StatusBadRequest, "parameter %s %q: not valid UTF-8 or holds control characters", name, v)
		}
		return v, err
	}
	if req.URI, err = text("uri"); err != nil {
		return req, err
	}
	if req.URI == "" {
		return req, errorf(http.StatusBadRequest, "missing parameter uri")
	}
	if req.Args, err = text("args"); err != nil {
		return req, err
	}
	if req.Host, err = text("host"); err != nil {
		return req, err
	}
	if req.Method, err = text("method"); err != nil {
		return req, err
	}
	if req.Method != "" && !validToken(req.Method) {
		return req, errorf(http.StatusBadRequest, "parameter method %q: not an HTTP method", req.Method)
	}
	if port, ok, err := single(q, "port"); err != nil {
		return req, err
	} else if ok {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 {
			return req, errorf(http.StatusBadRequest, "parameter port %q: not a port number 1..65535", port)
		}
		req.Port = n
	}
	if req.Scheme, err = text("scheme"); err != nil {
		return req, err
	}
	if req.Scheme != "" && req.Scheme != "http" && req.Scheme != "https" {
		return req, errorf(http.StatusBadRequest, "parameter scheme %q: want http or https", req.Scheme)
	}
	if req.ClientIP, err = text("client_ip"); err != nil {
		return req, err
	}
	if req.ClientIP != "" && net.ParseIP(req.ClientIP) == nil {
		return req, errorf(http.StatusBadRequest, "parameter client_ip %q: not an IP address", req.ClientIP)
	}
	for _, h := range q.get("header") {
		name, value, ok := strings.Cut(h, ":")
		if !ok || !validToken(name) || !utf8.ValidString(value) || strings.ContainsFunc(value, isControl) {
			return req, errorf(http.StatusBadRequest, "parameter header %q: want 'Name: value'", h)
		}
		req.Header = append(req.Header, engine.Header{Name: name, Value: strings.TrimSpace(value)})
	}
	if req.Key, err = optionalKeyURI(q, "key"); err != nil {
		return req, err
	}
	if req.Trace, err = boolParam(q, "trace"); err != nil {
		return req, err
	}
	return req, nil
}

// isControl reports an ASCII control character, which no request line
// or header value holds.
func isControl(r rune) bool { return r < 0x20 && r != '\t' || r == 0x7f }

// validToken reports whether s is an HTTP token (RFC 9110): a method or
// a header name.
func validToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}
