package httpprovider

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"transdb/engine"
	"transdb/internal/httpsyntax"
)

// The forward-auth endpoint, GET /v1/auth: the engine's decision for the
// request that a proxy in front describes in the headers of its
// subrequest (nginx auth_request, Caddy forward_auth, Traefik
// forwardAuth, Envoy ext_authz, HAProxy with Lua). The decision is in the
// answer itself: 200 and X-Transdb-* headers to proceed, the redirect or
// the error otherwise. See the package documentation for the headers.

// authParams are the parameters of GET /v1/auth.
var authParams = []string{"basekey", "key", "deny"}

// The headers of the original request, as the proxies send them. Of the
// pairs X-Original-* and X-Forwarded-*, a proxy sets one and passes the
// other through from the client: when both are present, they must agree.
const (
	headerOriginalURI     = "X-Original-Uri" // nginx, HAProxy
	headerForwardedURI    = "X-Forwarded-Uri"
	headerOriginalMethod  = "X-Original-Method"
	headerForwardedMethod = "X-Forwarded-Method"
	headerForwardedHost   = "X-Forwarded-Host"
	headerForwardedProto  = "X-Forwarded-Proto"
	headerForwardedPort   = "X-Forwarded-Port"
	headerRealIP          = "X-Real-Ip"
	headerForwardedFor    = "X-Forwarded-For"
)

// The headers of the decision.
const (
	HeaderProxy    = "X-Transdb-Proxy"
	HeaderFile     = "X-Transdb-File"
	HeaderURI      = "X-Transdb-Uri"
	HeaderPathInfo = "X-Transdb-Path-Info"
	HeaderHandler  = "X-Transdb-Handler"
	// HeaderNotePrefix and HeaderCtxPrefix start the names of the
	// headers of the notes and of the %CTX values: X-Transdb-Note-NAME,
	// X-Transdb-Ctx-NAME.
	HeaderNotePrefix = "X-Transdb-Note-"
	HeaderCtxPrefix  = "X-Transdb-Ctx-"
	// HeaderStatus, HeaderLocation and HeaderMessage carry the status,
	// Location and message of a redirect or error answered with the
	// status of the deny parameter (for nginx's auth_request, which
	// passes on only 2xx, 401 and 403).
	HeaderStatus   = "X-Transdb-Status"
	HeaderLocation = "X-Transdb-Location"
	HeaderMessage  = "X-Transdb-Message"
)

// encodedPrefix starts a header value that is percent-encoded: an
// RFC 8187 ext-value.
const encodedPrefix = "UTF-8''"

// handleAuth serves GET /v1/auth.
func (s *Server) handleAuth(x *exchange) error {
	q, err := x.params()
	if err != nil {
		return err
	}
	deny := 0
	if v, ok, err := single(q, "deny"); err != nil {
		return err
	} else if ok {
		if v != "401" && v != "403" {
			return errorf(http.StatusBadRequest, "parameter deny %q: want 401 or 403", v)
		}
		deny, _ = strconv.Atoi(v)
	}
	proceed, status, location, message, err := s.decide(x)
	h := x.Header()
	if err != nil {
		// transdbd's own answer, in JSON as every error.
		if deny == 0 {
			return err
		}
		status, message := statusOf(err)
		h.Set(HeaderStatus, strconv.Itoa(status))
		h.Set(HeaderMessage, headerValue(message))
		if status >= http.StatusInternalServerError && status != http.StatusServiceUnavailable {
			x.s.log.Error("httpprovider: request failed", "method", x.r.Method, "path", x.r.URL.Path, "status", status, "err", err)
		}
		return &httpError{status: deny, msg: message}
	}
	if proceed {
		if n := headerBytes(h); n > MaxAuthHeaderBytes {
			return tooLargeAnswer(x, deny, n)
		}
		h["Content-Length"] = zeroLength
		x.WriteHeader(http.StatusOK)
		return nil
	}
	return answerAuth(x, deny, status, location, message)
}

// MaxAuthHeaderBytes bounds the headers of an answer of GET /v1/auth, as
// transdbd bounds those of a request: a decision whose headers would be
// larger (thousands of %CTX values, a Location of a megabyte) is answered
// with a 500 that says so, not passed to a proxy that would refuse it
// with an error of its own (nginx's proxy_buffer_size is 4 or 8 KiB by
// default, HAProxy's tune.bufsize 16 KiB).
const MaxAuthHeaderBytes = 64 << 10

// headerBytes returns the size of h as an HTTP/1.1 answer writes it.
func headerBytes(h http.Header) int {
	n := 0
	for name, vals := range h {
		for _, v := range vals {
			n += len(name) + len(v) + 4 // ": " and CRLF
		}
	}
	return n
}

// tooLargeAnswer answers a decision whose headers would be n bytes,
// more than MaxAuthHeaderBytes, with a 500 saying so, without them.
func tooLargeAnswer(x *exchange, deny, n int) error {
	h := x.Header()
	for name := range h {
		if name == "Location" || strings.HasPrefix(name, "X-Transdb-") && name != HeaderGeneration {
			delete(h, name)
		}
	}
	return answerAuth(x, deny, http.StatusInternalServerError, "", fmt.Sprintf(
		"the decision's headers would be %d bytes, more than the %d bytes forward auth may answer", n, MaxAuthHeaderBytes))
}

// answerAuth answers /v1/auth with a redirect or an error: its status,
// Location and message, or with deny that status and the decision's in
// X-Transdb-* headers.
func answerAuth(x *exchange, deny, status int, location, message string) error {
	h := x.Header()
	if status < 300 {
		// A proxy takes any 2xx for leave to proceed, and a 1xx is no
		// answer at all: the table's answer cannot be passed on.
		message = "the table answers status " + strconv.Itoa(status) +
			", which forward auth cannot pass on: a proxy takes a 2xx for leave to proceed"
		status, location = http.StatusInternalServerError, ""
	}
	h["Cache-Control"] = noStore
	if deny != 0 {
		h.Set(HeaderStatus, strconv.Itoa(status))
		if location != "" {
			h.Set(HeaderLocation, headerValue(urlValue(location, true)))
		}
		if message != "" {
			h.Set(HeaderMessage, headerValue(message))
		}
		status = deny
	} else if location != "" {
		h.Set("Location", headerValue(urlValue(location, true)))
	}
	if message == "" {
		message = http.StatusText(status)
	}
	if n := headerBytes(h); n > MaxAuthHeaderBytes {
		return tooLargeAnswer(x, deny, n)
	}
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(message)+1))
	x.WriteHeader(status)
	if x.r.Method != http.MethodHead {
		_, _ = x.Write(append([]byte(message), '\n'))
	}
	return nil
}

var (
	zeroLength = []string{"0"}
	noStore    = []string{"no-store"}
)

// decide evaluates the table for the original request and returns
// what to answer: proceed, with the decision's headers set, or the
// status, Location and message of a redirect or an error (a malformed
// original request is a 400 of that kind). An error is transdbd's own
// failure, or a request that does not describe an original request.
func (s *Server) decide(x *exchange) (proceed bool, status int, location, message string, err error) {
	req, err := x.authRequest()
	if err != nil {
		var bt *badTarget
		if errors.As(err, &bt) {
			return false, http.StatusBadRequest, "", bt.msg, nil
		}
		return false, 0, "", "", err
	}
	x.key, x.uri = req.Key, req.URI
	snap, err := x.snapshot()
	if err != nil {
		return false, 0, "", "", err
	}
	defer snap.Release()
	err = x.prov.e.DecideIn(x.r.Context(), snap, req, func(d *engine.Decision) error {
		x.key, x.lookup, x.blocks = d.StartKey, true, d.Rows
		if d.Status != 0 {
			status, location, message = d.Status, d.Location, d.Message
			return nil
		}
		proceed = true
		SetDecisionHeaders(x.Header(), d)
		return nil
	})
	if err != nil {
		return false, 0, "", "", err
	}
	return proceed, status, location, message, nil
}

// SetDecisionHeaders sets in h the X-Transdb-* headers of a decision to
// proceed, as GET /v1/auth answers them: the proxy, file, uri, path info
// and handler, a header per note and per %CTX value. The proxy is a URL
// (see urlValue), the file a path in UTF-8 (see pathValue); any other
// value that cannot be a header value is an RFC 8187 ext-value.
func SetDecisionHeaders(h http.Header, d *engine.Decision) {
	// The values share one backing array: one allocation, not one per
	// header.
	n := 5 + len(d.CTX)
	for _, note := range d.Notes {
		n += len(note.Values)
	}
	vals := make([]string, 0, n)
	set := func(name, v string) {
		if v != "" {
			vals = append(vals, v)
			h[name] = vals[len(vals)-1 : len(vals) : len(vals)]
		}
	}
	set(HeaderProxy, headerValue(urlValue(d.Proxy, false)))
	set(HeaderFile, pathValue(d.File))
	set(HeaderURI, headerValue(d.URI))
	set(HeaderPathInfo, headerValue(d.PathInfo))
	set(HeaderHandler, headerValue(d.Handler))
	twins := caseTwins(len(d.Notes), func(i int) string { return d.Notes[i].Name })
	for i, note := range d.Notes {
		start := len(vals)
		for _, v := range note.Values {
			vals = append(vals, headerValue(v))
		}
		h[HeaderNotePrefix+headerName(note.Name, twins != nil && twins[i])] = vals[start:len(vals):len(vals)]
	}
	twins = caseTwins(len(d.CTX), func(i int) string { return d.CTX[i].Name })
	for i, v := range d.CTX {
		vals = append(vals, headerValue(v.Value))
		h[HeaderCtxPrefix+headerName(v.Name, twins != nil && twins[i])] = vals[len(vals)-1 : len(vals) : len(vals)]
	}
}

// caseTwins returns which of the n names, name(i), differ from another
// in case only and have capitals: HTTP ignores the case of header names,
// so such twins would be one header, and a proxy would pick one of them.
// Those get their capitals percent-encoded, while a twin in lower case
// keeps the plain name. nil means none.
func caseTwins(n int, name func(int) string) []bool {
	if n < 2 {
		return nil
	}
	var twins []bool
	mark := func(i int) {
		if twins == nil {
			twins = make([]bool, n)
		}
		twins[i] = true
	}
	if n <= 8 {
		for i := range n {
			for j := range n {
				if i != j && hasUpper(name(i)) && strings.EqualFold(name(i), name(j)) {
					mark(i)
				}
			}
		}
		return twins
	}
	count := make(map[string]int, n)
	for i := range n {
		count[strings.ToLower(name(i))]++
	}
	for i := range n {
		if hasUpper(name(i)) && count[strings.ToLower(name(i))] > 1 {
			mark(i)
		}
	}
	return twins
}

// hasUpper reports whether s has an ASCII capital letter.
func hasUpper(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return 'A' <= r && r <= 'Z' }) >= 0
}

// A badTarget is an original request target that cannot be translated:
// answered as the decision 400, which the client caused.
type badTarget struct{ msg string }

func (e *badTarget) Error() string { return e.msg }

// authRequest reads the original request from the headers of the
// subrequest and the parameters.
func (x *exchange) authRequest() (engine.Request, error) {
	var req engine.Request
	h := x.r.Header
	target, err := original(h, headerOriginalURI, headerForwardedURI)
	if err != nil {
		return req, err
	}
	if target == "" {
		return req, errorf(http.StatusBadRequest, "missing header X-Original-URI (or X-Forwarded-Uri): the request target of the original request")
	}
	if req.URI, req.Args, err = splitTarget(target); err != nil {
		return req, err
	}
	if req.Method, err = original(h, headerOriginalMethod, headerForwardedMethod); err != nil {
		return req, err
	}
	if req.Method == "" {
		req.Method = x.r.Method
	} else if !httpsyntax.IsToken(req.Method) {
		return req, errorf(http.StatusBadRequest, "header X-Original-Method %q: not an HTTP method", req.Method)
	}
	req.Host = firstElement(get(h, headerForwardedHost))
	if req.Host == "" {
		req.Host = x.r.Host
	}
	if proto := firstElement(get(h, headerForwardedProto)); proto != "" {
		req.Scheme = strings.ToLower(proto)
		if req.Scheme != "http" && req.Scheme != "https" {
			return req, errorf(http.StatusBadRequest, "header X-Forwarded-Proto %q: want http or https", proto)
		}
	}
	if port := firstElement(get(h, headerForwardedPort)); port != "" {
		if req.Port, err = engine.ParsePort(port); err != nil {
			return req, errorf(http.StatusBadRequest, "header X-Forwarded-Port: %v", err)
		}
	}
	req.ClientIP = x.s.clientIP(x.r)
	req.Header = make([]engine.Header, 0, len(h)+1)
	req.Header = append(req.Header, engine.Header{Name: "Host", Value: req.Host})
	for name, values := range h {
		if name == "Host" {
			continue
		}
		for _, v := range values {
			req.Header = append(req.Header, engine.Header{Name: name, Value: v})
		}
	}
	q, _ := x.params()
	req.Key, err = optionalKeyURI(q, "key")
	return req, err
}

// original returns the value of the header a or b, both in canonical
// form, that describes the original request: nginx and HAProxy send
// X-Original-*, Caddy's forward_auth and Traefik X-Forwarded-*, and each
// passes the client's own headers through. So when the two, or several
// of one, are present with other values, a client has sent one of them:
// the request is a badTarget, refused rather than guessed, whichever
// the proxy set.
func original(h http.Header, a, b string) (string, error) {
	v, from := "", ""
	for _, name := range [2]string{a, b} {
		for _, x := range h[name] {
			switch {
			case from == "":
				v, from = x, name
			case x == v:
			case name == from:
				return "", &badTarget{"the header " + name + " is sent twice with different values (" +
					strconv.Quote(v) + ", " + strconv.Quote(x) + "): the original request is ambiguous"}
			default:
				return "", &badTarget{"the headers " + from + " and " + name + " name different requests (" +
					strconv.Quote(v) + ", " + strconv.Quote(x) + "): the original request is ambiguous"}
			}
		}
	}
	return v, nil
}

// get is h.Get for a name in canonical form, without canonicalising it
// again.
func get(h http.Header, name string) string {
	if v := h[name]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// firstElement returns the first element of a comma-separated list, as
// X-Forwarded-Host and X-Forwarded-Proto are after several proxies: the
// one the client's request had.
func firstElement(v string) string {
	v, _, _ = strings.Cut(v, ",")
	return strings.TrimSpace(v)
}

// splitTarget splits a request target, as the client sent it (nginx's
// $request_uri), into the decoded and normalised path and the query
// string: the path is percent-decoded, then "." and ".." segments are
// resolved, as Apache does before its translation handlers run. A path
// that is not valid UTF-8, holds control characters or climbs above the
// root is a badTarget. An absolute-form target loses its scheme and
// authority; "*" stays as it is.
func splitTarget(target string) (path, args string, err error) {
	if target == "*" {
		return target, "", nil
	}
	if i := strings.Index(target, "://"); i > 0 && !strings.ContainsAny(target[:i], "/?") {
		rest := target[i+3:]
		if j := strings.IndexAny(rest, "/?"); j >= 0 {
			target = rest[j:]
		} else {
			target = "/"
		}
		if strings.HasPrefix(target, "?") {
			target = "/" + target
		}
	}
	raw, args, _ := strings.Cut(target, "?")
	if httpsyntax.HasControl(args) {
		return "", "", &badTarget{"the query string holds control characters"}
	}
	if !strings.HasPrefix(raw, "/") {
		return "", "", &badTarget{"the request target " + strconv.Quote(target) + " does not start with /"}
	}
	path = raw
	if strings.IndexByte(raw, '%') >= 0 {
		if path, err = url.PathUnescape(raw); err != nil {
			return "", "", &badTarget{"the path " + strconv.Quote(raw) + " has a malformed escape"}
		}
	}
	if !utf8.ValidString(path) || httpsyntax.HasControl(path) {
		return "", "", &badTarget{"the path " + strconv.Quote(raw) + " is not valid UTF-8 or holds control characters"}
	}
	if path, err = removeDotSegments(path); err != nil {
		return "", "", err
	}
	return path, args, nil
}

// removeDotSegments resolves the "." and ".." segments of an absolute
// path and collapses runs of '/'; a ".." above the root is a badTarget.
// A path without dot segments is returned as it is.
func removeDotSegments(p string) (string, error) {
	if !strings.Contains(p, "/.") {
		return p, nil
	}
	segs := strings.Split(p[1:], "/")
	out := make([]string, 0, len(segs))
	trailing := false
	for i, s := range segs {
		last := i == len(segs)-1
		switch s {
		case ".":
			trailing = last
		case "..":
			if len(out) == 0 {
				return "", &badTarget{"the path " + strconv.Quote(p) + " climbs above the root"}
			}
			out = out[:len(out)-1]
			trailing = last
		case "":
			trailing = last
		default:
			out = append(out, s)
			trailing = false
		}
	}
	res := "/" + strings.Join(out, "/")
	if trailing && len(out) > 0 {
		res += "/"
	}
	return res, nil
}

// clientIP returns the client's address: the peer's, or, when the peer
// is one of the trusted proxies, the address that X-Real-IP gives, else
// the last address in X-Forwarded-For that is not a trusted proxy's.
func (s *Server) clientIP(r *http.Request) string {
	peer := parseAddr(r.RemoteAddr)
	if !peer.IsValid() {
		host, _, _ := net.SplitHostPort(r.RemoteAddr)
		return host
	}
	if !s.trusted(peer) {
		return peer.String()
	}
	if a := parseAddr(strings.TrimSpace(get(r.Header, headerRealIP))); a.IsValid() {
		return a.String()
	}
	client := peer
	forwarded := r.Header[headerForwardedFor]
	for i := len(forwarded) - 1; i >= 0; i-- {
		list := forwarded[i]
		for list != "" {
			var item string
			if j := strings.LastIndexByte(list, ','); j >= 0 {
				list, item = list[:j], list[j+1:]
			} else {
				list, item = "", list
			}
			a := parseAddr(strings.TrimSpace(item))
			if !a.IsValid() {
				return client.String()
			}
			client = a
			if !s.trusted(a) {
				return a.String()
			}
		}
	}
	return client.String()
}

// trusted reports whether a is the address of a trusted proxy.
func (s *Server) trusted(a netip.Addr) bool {
	for _, p := range s.trustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// parseAddr parses an address, with or without a port and brackets, as
// in RemoteAddr, X-Real-IP and X-Forwarded-For; IPv4-mapped IPv6
// addresses become IPv4 ones. The zero Addr means it is none.
func parseAddr(s string) netip.Addr {
	a, err := netip.ParseAddr(s)
	if err != nil {
		ap, err := netip.ParseAddrPort(s)
		if err != nil {
			return netip.Addr{}
		}
		a = ap.Addr()
	}
	return a.Unmap().WithZone("")
}

// headerValue returns v as a header value: as it is when it is printable
// ASCII without white space at either end, else as an RFC 8187
// ext-value, "UTF-8”" and the percent-encoded bytes, which a value
// starting with "UTF-8”" gets too.
func headerValue(v string) string {
	plain := !strings.HasPrefix(v, encodedPrefix) &&
		(v == "" || v[0] != ' ' && v[len(v)-1] != ' ')
	for i := 0; plain && i < len(v); i++ {
		plain = v[i] >= 0x20 && v[i] < 0x7f
	}
	if plain {
		return v
	}
	var b strings.Builder
	b.Grow(len(encodedPrefix) + 3*len(v))
	b.WriteString(encodedPrefix)
	for i := 0; i < len(v); i++ {
		if c := v[i]; isAttrChar(c) {
			b.WriteByte(c)
		} else {
			b.WriteByte('%')
			b.WriteByte(upperHex[c>>4])
			b.WriteByte(upperHex[c&15])
		}
	}
	return b.String()
}

// urlValue returns the URL u as a proxy can send it on: the bytes that
// no URL holds as they are (controls, space, non-ASCII and "<>\^`{|})
// percent-encoded, and every '%'. A table builds its URLs from the
// decoded $URI, so a request for /a%20b proxied to 'http://backend'.$URI
// goes to http://backend/a%20b, not to a URL with a space in it, one for
// /%2561 to http://backend/%2561, not to /a, and a brace reaches no
// proxy's template language. A '#' starts a fragment only where
// fragment is true (a Location); in a Proxy URL, whose fragment would
// never reach the backend, it is encoded too. A table writes its URLs
// unescaped, then, as for Apache2::Translation, whose mod_proxy escapes
// them so.
func urlValue(u string, fragment bool) string {
	i := 0
	for ; i < len(u); i++ {
		if !urlByte(u, i, &fragment) {
			break
		}
	}
	if i == len(u) {
		return u
	}
	b := make([]byte, 0, len(u)+16)
	b = append(b, u[:i]...)
	for ; i < len(u); i++ {
		if urlByte(u, i, &fragment) {
			b = append(b, u[i])
		} else {
			b = append(b, '%', upperHex[u[i]>>4], upperHex[u[i]&15])
		}
	}
	return string(b)
}

// urlByte reports whether u[i] may stand in a URL as it is; the first
// '#' may when *fragment is set, which it then clears.
func urlByte(u string, i int, fragment *bool) bool {
	switch c := u[i]; {
	case c <= ' ' || c >= 0x7f || strings.IndexByte("\"<>\\^`{|}", c) >= 0:
		return false
	case c == '%':
		// A table builds its URLs from the decoded $URI: a '%' there
		// came from the client's %25, and kept as it is it would be
		// decoded again by the backend (/%2561dmin reaching /admin, a
		// path the table never saw). So every '%' is escaped, as
		// Apache's mod_proxy does for a reverse proxy's URL.
		return false
	case c == '#':
		ok := *fragment
		*fragment = false
		return ok
	}
	return true
}

// isHex reports a hexadecimal digit.
func isHex(c byte) bool { return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }

// pathValue returns the file path p as a header value: as it is when it
// is UTF-8 without control characters or white space at either end, so
// that a proxy finds the file by the bytes of its name (non-ASCII bytes
// are obs-text in a header); else, as headerValue does, an ext-value,
// which no proxy takes for a path.
func pathValue(p string) string {
	if p == "" || p[0] == ' ' || p[len(p)-1] == ' ' || strings.HasPrefix(p, encodedPrefix) ||
		!utf8.ValidString(p) || httpsyntax.HasControl(p) {
		return headerValue(p)
	}
	return p
}

// headerName returns a note or %CTX name as the end of a header name:
// the bytes that may not be in one, and '%', percent-encoded; with
// capitals, the capital letters too (see caseTwins).
func headerName(n string, capitals bool) string {
	if httpsyntax.IsToken(n) && strings.IndexByte(n, '%') < 0 && !capitals {
		return n
	}
	var b strings.Builder
	for i := 0; i < len(n); i++ {
		c := n[i]
		if c > ' ' && c < 0x7f && c != '%' && strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) < 0 && !(capitals && 'A' <= c && c <= 'Z') {
			b.WriteByte(c)
		} else {
			b.WriteByte('%')
			b.WriteByte(upperHex[c>>4])
			b.WriteByte(upperHex[c&15])
		}
	}
	return b.String()
}

// isAttrChar reports an attr-char of RFC 8187, which an ext-value holds
// as it is.
func isAttrChar(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		strings.IndexByte("!#$&+-.^_`|~", c) >= 0
}

const upperHex = "0123456789ABCDEF"
