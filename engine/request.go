package engine

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"unicode/utf8"

	"transdb/internal/httpsyntax"
	"transdb/translation"
)

// A Request describes the request a table is evaluated for: what
// Apache2::Translation reads from Apache's request record.
type Request struct {
	// URI is the decoded path of the request, without the query string
	// ($URI, $r->uri). Required.
	URI string
	// Args is the query string without '?' ($QUERY_STRING, $r->args);
	// empty means none.
	Args string
	// Method is the request method; empty means GET.
	Method string
	// Host is the Host header; its port, if any, is stripped for
	// $HOSTNAME. Empty means the Host header of Header, if any.
	Host string
	// Port is the server port the request came in on ($r->get_server_port
	// and the port of a redirect's Location); 0 means 443 for https and 80
	// otherwise.
	Port int
	// Scheme is "http" or "https"; empty means http.
	Scheme string
	// ClientIP is the client's address ($CLIENTIP,
	// $r->connection->remote_ip).
	ClientIP string
	// Header holds the request headers, in order ($HEADERS,
	// $r->headers_in); names are matched case-insensitively.
	Header []Header
	// Key is the key to start with; empty means Options.TranslationKey.
	Key string
	// Trace asks for Decision.Trace: every row the evaluation looked at.
	Trace bool
}

// A Header is one request header.
type Header struct {
	Name, Value string
}

// A RequestError says which field of a Request no HTTP request can
// hold, and why.
type RequestError struct {
	Field  string // the name of the parameter of GET /v1/translate: uri, method, header, ...
	Value  string
	Reason string
}

func (e *RequestError) Error() string { return fmt.Sprintf("%s %q: %s", e.Field, e.Value, e.Reason) }

// Validate reports, as a *RequestError, the first field of req that no
// HTTP request can hold, as GET /v1/translate and transdbd translate
// refuse it: a missing URI; a URI, Args, Host or header value that is not
// valid UTF-8 or holds control characters (a decoded path may hold
// blanks); a Method or header name that is no HTTP token; a Port outside
// 1..65535 (0 is the default); a Scheme other than http or https; a
// ClientIP that is no IP address; a Key that is no valid key (empty is
// the default). Translate evaluates any Request; a proxy's never fails.
func (req *Request) Validate() error {
	bad := func(field, value, reason string) error {
		return &RequestError{Field: field, Value: value, Reason: reason}
	}
	text := func(field, value string) error {
		if !httpsyntax.ASCIIIn(value, ' ', '~') && (!utf8.ValidString(value) || httpsyntax.HasControl(value)) {
			return bad(field, value, "not valid UTF-8 or holds control characters")
		}
		return nil
	}
	if req.URI == "" {
		return bad("uri", "", "missing")
	}
	for _, f := range [...]struct{ name, value string }{{"uri", req.URI}, {"args", req.Args}, {"host", req.Host}} {
		if err := text(f.name, f.value); err != nil {
			return err
		}
	}
	switch {
	case req.Method != "" && !httpsyntax.IsToken(req.Method):
		return bad("method", req.Method, "not an HTTP method")
	case req.Port < 0 || req.Port > 65535:
		return bad("port", fmt.Sprint(req.Port), notAPort)
	case req.Scheme != "" && req.Scheme != "http" && req.Scheme != "https":
		return bad("scheme", req.Scheme, "want http or https")
	case req.ClientIP != "" && net.ParseIP(req.ClientIP) == nil:
		return bad("client_ip", req.ClientIP, "not an IP address")
	}
	for _, h := range req.Header {
		if !httpsyntax.IsToken(h.Name) {
			return bad("header", h.Name, "not a header name")
		}
		if err := text("header", h.Value); err != nil {
			return err
		}
	}
	if req.Key != "" {
		return CheckKey(req.Key)
	}
	return nil
}

// CheckKey reports, as a *RequestError, a key given to start with that no
// table can hold: empty (a key given empty is no request for the
// default), not valid UTF-8, holding a NUL byte or white space.
func CheckKey(key string) error {
	if p := translation.KeyURIProblem(key); p != "" {
		return &RequestError{Field: "key", Value: key, Reason: p}
	}
	return nil
}

// method returns the request method: GET when none is given.
func (req *Request) method() string {
	if req.Method == "" {
		return "GET"
	}
	return req.Method
}

func (req *Request) https() bool { return strings.EqualFold(req.Scheme, "https") }

// port returns the server port: 443 for https and 80 otherwise when none
// is given.
func (req *Request) port() int {
	switch {
	case req.Port != 0:
		return req.Port
	case req.https():
		return 443
	}
	return 80
}

// header returns the first request header of a name, matched
// case-insensitively; Host, when given, is the Host header.
func (req *Request) header(name string) (string, bool) {
	if req.Host != "" && strings.EqualFold(name, "Host") {
		return req.Host, true
	}
	for _, h := range req.Header {
		if strings.EqualFold(h.Name, name) {
			return h.Value, true
		}
	}
	return "", false
}

// hostname returns the request's host name ($HOSTNAME): the Host header
// without its port.
func (req *Request) hostname() string {
	h, _ := req.header("Host")
	return stripPort(h)
}

// stripPort removes a ":port" from a host, minding IPv6 brackets.
func stripPort(h string) string {
	if strings.HasPrefix(h, "[") {
		if i := strings.IndexByte(h, ']'); i >= 0 {
			return h[:i+1]
		}
		return h
	}
	if i := strings.LastIndexByte(h, ':'); i >= 0 && strings.IndexByte(h, ':') == i {
		return h[:i]
	}
	return h
}

const notAPort = "not a port number 1..65535"

// ParsePort reads a port given as text, as GET /v1/translate's port
// parameter and transdbd translate's -port give it: decimal digits for
// 1..65535 ("+80", "-1", "0" and "" are no port, which a *RequestError
// reports).
func ParsePort(s string) (int, error) {
	n, err := strconv.ParseUint(s, 10, 16)
	if err != nil || n == 0 {
		return 0, &RequestError{Field: "port", Value: s, Reason: notAPort}
	}
	return int(n), nil
}

// ParseHeader reads a header written as "Name: value", as a proxy sends
// it: the name is an HTTP token, and the blanks around the value go.
func ParseHeader(s string) (Header, error) {
	name, value, ok := strings.Cut(s, ":")
	h := Header{Name: name, Value: strings.Trim(value, " \t")}
	if !ok || !httpsyntax.IsToken(name) {
		return h, &RequestError{Field: "header", Value: s, Reason: "want 'Name: value'"}
	}
	return h, nil
}
