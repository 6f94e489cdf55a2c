package httpprovider_test

import (
	"io"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"transdb/httpprovider"
	"transdb/translation"
)

// serveAuth serves the example table with key front and document root
// /var/www; the proxies in trusted are believed.
func serveAuth(t *testing.T, trusted ...string) *testServer {
	t.Helper()
	var prefixes []netip.Prefix
	for _, p := range trusted {
		prefixes = append(prefixes, netip.MustParsePrefix(p))
	}
	s := serve(t, httpprovider.Options{
		Providers:      []*translation.Provider{newProvider(t, dbPath(t), false)},
		AdminToken:     token,
		TranslationKey: "front",
		DocumentRoot:   "/var/www",
		TrustedProxies: prefixes,
	})
	s.loadExample()
	return s
}

// auth asks /v1/auth with the query and the headers of an nginx
// auth_request subrequest for target on host, plus the extra headers.
func (s *testServer) auth(query, target, host string, extra ...string) response {
	s.t.Helper()
	h := append([]string{"X-Original-URI", target, "X-Original-Method", "GET", "X-Forwarded-Host", host}, extra...)
	req, err := http.NewRequest("GET", s.url+"/v1/auth"+query, nil)
	if err != nil {
		s.t.Fatal(err)
	}
	for i := 0; i+1 < len(h); i += 2 {
		req.Header.Add(h[i], h[i+1])
	}
	resp, err := http.DefaultTransport.RoundTrip(req) // redirects are answers here
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		s.t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: body}
}

func TestAuthProceedsWithTheDecisionInHeaders(t *testing.T) {
	s := serveAuth(t)
	for _, tt := range []struct {
		target, host, query string
		want                map[string]string
	}{
		{"/static/img.png", "www.xyz.de", "", map[string]string{
			"X-Transdb-File": "/var/www/de/img.png", "X-Transdb-Uri": "/static/img.png",
			"X-Transdb-Path-Info": "/img.png", "X-Transdb-Ctx-Lang": "de", "X-Transdb-Proxy": ""}},
		{"/appl1/x?a=1", "www.xyz.com:8080", "", map[string]string{
			"X-Transdb-Proxy": "http://backend/en/appl1/x", "X-Transdb-Path-Info": "/x",
			"X-Transdb-Ctx-Lang": "en", "X-Transdb-File": ""}},
		{"/appl2/a%20b", "www.xyz.de", "", map[string]string{
			"X-Transdb-Proxy": "http://backend//appl2/a%20b?l=de", "X-Transdb-Uri": "/appl2/a b"}},
		{"/appl1/x", "www.xyz.de", "?key=back", map[string]string{
			"X-Transdb-Handler": "My::Application1", "X-Transdb-Ctx-Lang": ""}},
	} {
		t.Run(tt.target, func(t *testing.T) {
			r := s.auth(tt.query, tt.target, tt.host)
			if r.status != http.StatusOK || len(r.body) != 0 {
				t.Fatalf("status %d, body %q", r.status, r.body)
			}
			for name, want := range tt.want {
				if got := r.header.Get(name); got != want {
					t.Errorf("%s: %q, want %q", name, got, want)
				}
			}
			if g := r.generation(t); g == 0 {
				t.Errorf("generation 0")
			}
		})
	}
}

func TestAuthAnswersRedirectsAndErrors(t *testing.T) {
	s := serveAuth(t)
	r := s.auth("", "/some/page?x=1", "www.example.org")
	if r.status != http.StatusMovedPermanently || r.header.Get("Location") != "http://xyz.com/some/page" {
		t.Errorf("foreign host: %d, Location %q", r.status, r.header.Get("Location"))
	}
	// The client is the peer, 127.0.0.1 here: back lets it through; a
	// client elsewhere is forbidden (without TrustedProxies the headers
	// cannot say so).
	r = s.auth("?key=back", "/appl1/x", "www.xyz.de", "X-Real-IP", "192.0.2.7")
	if r.status != http.StatusOK {
		t.Errorf("untrusted X-Real-IP was believed: %d %s", r.status, r.body)
	}
	s = serveAuth(t, "127.0.0.0/8")
	r = s.auth("?key=back", "/appl1/x", "www.xyz.de", "X-Real-IP", "192.0.2.7")
	if r.status != http.StatusForbidden || string(r.body) != "Forbidden by Apache2::Translation(11)\n" {
		t.Errorf("back from 192.0.2.7: %d %q", r.status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "text/plain; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	r.generation(t)
	// Counted in the metrics as any endpoint, by the status answered.
	m := string(s.get("/metrics").body)
	if !strings.Contains(m, `transdb_http_requests_total{code="403",endpoint="/v1/auth"} 1`) {
		t.Errorf("/v1/auth not in the metrics:\n%s", m)
	}
}

func TestAuthDenyCarriesTheStatusInHeaders(t *testing.T) {
	s := serveAuth(t, "127.0.0.1/32")
	r := s.auth("?deny=403", "/x", "www.example.org")
	if r.status != http.StatusForbidden || r.header.Get("X-Transdb-Status") != "301" ||
		r.header.Get("X-Transdb-Location") != "http://xyz.com/x" || r.header.Get("Location") != "" {
		t.Errorf("redirect: %d %v", r.status, r.header)
	}
	r = s.auth("?deny=401&key=back", "/appl1/x", "www.xyz.de", "X-Forwarded-For", "192.0.2.7, 127.0.0.1")
	if r.status != http.StatusUnauthorized || r.header.Get("X-Transdb-Status") != "403" ||
		r.header.Get("X-Transdb-Message") != "Forbidden by Apache2::Translation(11)" {
		t.Errorf("error: %d %v", r.status, r.header)
	}
	r = s.auth("?deny=403", "/static/../../etc/passwd", "www.xyz.de")
	if r.status != http.StatusForbidden || r.header.Get("X-Transdb-Status") != "400" {
		t.Errorf("bad target: %d %v", r.status, r.header)
	}
	r = s.auth("?deny=403", "/static/img.png", "www.xyz.de")
	if r.status != http.StatusOK || r.header.Get("X-Transdb-Status") != "" {
		t.Errorf("proceed: %d %v", r.status, r.header)
	}
	// transdbd's own errors too, with their JSON body.
	r = s.do("GET", "/v1/auth?deny=403", nil)
	if r.status != http.StatusForbidden || r.header.Get("X-Transdb-Status") != "400" ||
		!strings.Contains(string(r.body), `"error":"missing header X-Original-URI`) {
		t.Errorf("missing uri: %d %v %s", r.status, r.header, r.body)
	}
}

func TestAuthClientAddress(t *testing.T) {
	for _, tt := range []struct {
		name    string
		trusted []string
		header  []string
		want    int // 200: the client is 127.0.0.1; 403: it is not
	}{
		{"peer without trust", nil, []string{"X-Forwarded-For", "192.0.2.7"}, 200},
		{"X-Real-IP from trusted", []string{"127.0.0.1/32"}, []string{"X-Real-IP", "192.0.2.7"}, 403},
		{"X-Real-IP first", []string{"127.0.0.1/32"}, []string{"X-Real-IP", "127.0.0.1", "X-Forwarded-For", "192.0.2.7"}, 200},
		{"last untrusted of X-Forwarded-For", []string{"127.0.0.1/32", "10.0.0.0/8"},
			[]string{"X-Forwarded-For", "127.0.0.1, 192.0.2.7, 10.1.1.1"}, 403},
		{"spoofed start of X-Forwarded-For", []string{"127.0.0.1/32"},
			[]string{"X-Forwarded-For", "127.0.0.1, 192.0.2.7"}, 403},
		{"all trusted", []string{"127.0.0.0/8"}, []string{"X-Forwarded-For", "127.0.0.1"}, 200},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := serveAuth(t, tt.trusted...)
			r := s.auth("?key=back", "/appl1/x", "www.xyz.de", tt.header...)
			if r.status != tt.want {
				t.Errorf("status %d, want %d", r.status, tt.want)
			}
		})
	}
}

func TestAuthReadsTheOriginalRequest(t *testing.T) {
	s := serveAuth(t)
	// A table that shows what the engine saw.
	// A table that shows what the engine saw.
	s.txn(`{"ops":[{"op":"insert","key":"show","uri":":PRE:","block":0,"order":0,` +
		`"action":"Do: $CTX{m}=$r->method; $CTX{h}=$HOSTNAME; $CTX{a}=$QUERY_STRING; $CTX{p}=$r->get_server_port; $CTX{c}=$HEADERS->{Cookie}; $CTX{u}=$URI"}]}`)
	for _, tt := range []struct {
		name   string
		header []string
		want   map[string]string
	}{
		{"nginx", []string{"X-Original-URI", "/a/./b/../c%3F/?q=%20", "X-Original-Method", "POST",
			"X-Forwarded-Host", "www.xyz.de", "X-Forwarded-Port", "8080", "Cookie", "k=v"},
			map[string]string{"m": "POST", "h": "www.xyz.de", "a": "q=%20", "p": "8080", "c": "k=v", "u": "/a/c?/"}},
		{"caddy", []string{"X-Forwarded-Uri", "/x", "X-Forwarded-Method", "PUT",
			"X-Forwarded-Host", "www.xyz.com, proxy.local", "X-Forwarded-Proto", "https"},
			map[string]string{"m": "PUT", "h": "www.xyz.com", "a": "", "p": "443", "u": "/x"}},
		{"absolute form", []string{"X-Original-URI", "http://www.xyz.com:81/y?z"},
			map[string]string{"m": "GET", "u": "/y", "a": "z"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := s.do("GET", "/v1/auth?key=show", nil, tt.header...)
			if r.status != http.StatusOK {
				t.Fatalf("status %d: %s", r.status, r.body)
			}
			for k, want := range tt.want {
				if got := r.header.Get("X-Transdb-Ctx-" + k); got != want {
					t.Errorf("%s: %q, want %q", k, got, want)
				}
			}
		})
	}
}

func TestAuthBadRequests(t *testing.T) {
	s := serveAuth(t)
	for _, tt := range []struct {
		name   string
		query  string
		header []string
		status int // the HTTP status; 400 decisions answer text, the others JSON
		json   bool
	}{
		{"missing uri", "", nil, 400, true},
		{"bad deny", "?deny=500", []string{"X-Original-URI", "/"}, 400, true},
		{"unknown parameter", "?uri=/", []string{"X-Original-URI", "/"}, 400, true},
		{"bad proto", "", []string{"X-Original-URI", "/", "X-Forwarded-Proto", "gopher"}, 400, true},
		{"bad port", "", []string{"X-Original-URI", "/", "X-Forwarded-Port", "0"}, 400, true},
		{"signed port", "", []string{"X-Original-URI", "/", "X-Forwarded-Port", "+80"}, 400, true},
		{"empty key", "?key=", []string{"X-Original-URI", "/"}, 400, true},
		{"key with a blank", "?key=a%20b", []string{"X-Original-URI", "/"}, 400, true},
		{"bad method", "", []string{"X-Original-URI", "/", "X-Original-Method", "G T"}, 400, true},
		{"unknown basekey", "?basekey=nope", []string{"X-Original-URI", "/"}, 404, true},
		{"above the root", "", []string{"X-Original-URI", "/../x"}, 400, false},
		{"encoded dots above the root", "", []string{"X-Original-URI", "/a/%2e%2e/%2E%2E/x"}, 400, false},
		{"bad escape", "", []string{"X-Original-URI", "/a%zz"}, 400, false},
		{"NUL", "", []string{"X-Original-URI", "/a%00"}, 400, false},
		{"not UTF-8", "", []string{"X-Original-URI", "/a%ff"}, 400, false},
		{"relative", "", []string{"X-Original-URI", "a/b"}, 400, false},
		// A client's own header of the other family: refused, whichever
		// of the two the proxy set.
		{"two targets", "", []string{"X-Original-URI", "/public", "X-Forwarded-Uri", "/secret"}, 400, false},
		{"a target twice", "", []string{"X-Original-URI", "/public", "X-Original-URI", "/secret"}, 400, false},
		{"two methods", "", []string{"X-Original-URI", "/", "X-Original-Method", "GET", "X-Forwarded-Method", "DELETE"}, 400, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := s.do("GET", "/v1/auth"+tt.query, nil, tt.header...)
			if r.status != tt.status {
				t.Fatalf("status %d, want %d: %s", r.status, tt.status, r.body)
			}
			if isJSON := strings.HasPrefix(r.header.Get("Content-Type"), "application/json"); isJSON != tt.json {
				t.Errorf("Content-Type %q: %s", r.header.Get("Content-Type"), r.body)
			}
			r.generation(t)
		})
	}
	r := s.do("POST", "/v1/auth", nil, "X-Original-URI", "/")
	if r.status != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d", r.status)
	}
}

// nginx and HAProxy set X-Original-*, Caddy's forward_auth and Traefik
// X-Forwarded-*, and each passes the client's headers through: a client
// that sends the other family must not choose the request translated.
func TestAuthRefusesAnAmbiguousOriginalRequest(t *testing.T) {
	s := serveAuth(t)
	s.txn(`{"ops":[{"op":"insert","key":"front","uri":"/secret","block":0,"order":0,"action":"Error: 403"},` +
		`{"op":"insert","key":"front","uri":"/open","block":0,"order":0,"action":"Cond: $r->method eq 'DELETE'"},` +
		`{"op":"insert","key":"front","uri":"/open","block":0,"order":1,"action":"Error: 405"}]}`)
	for _, tt := range []struct {
		name   string
		header []string
		status int
		msg    string
	}{
		{"forward_auth, client's X-Original-URI", []string{"X-Forwarded-Uri", "/secret", "X-Original-URI", "/public"}, 400,
			`the headers X-Original-Uri and X-Forwarded-Uri name different requests ("/public", "/secret"): the original request is ambiguous`},
		{"auth_request, client's X-Forwarded-Uri", []string{"X-Original-URI", "/secret", "X-Forwarded-Uri", "/public"}, 400, "ambiguous"},
		{"forward_auth, client's X-Original-Method", []string{"X-Forwarded-Uri", "/open", "X-Forwarded-Method", "DELETE",
			"X-Original-Method", "GET"}, 400, "X-Original-Method and X-Forwarded-Method name different requests"},
		{"one header twice", []string{"X-Original-URI", "/public", "X-Original-URI", "/secret"}, 400,
			`the header X-Original-Uri is sent twice with different values ("/public", "/secret"): the original request is ambiguous`},
		{"both agree", []string{"X-Forwarded-Uri", "/secret", "X-Original-URI", "/secret"}, 403, "unspecified error"},
		{"forward_auth alone", []string{"X-Forwarded-Uri", "/open", "X-Forwarded-Method", "DELETE"}, 405, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := s.do("GET", "/v1/auth", nil, append([]string{"X-Forwarded-Host", "www.xyz.de"}, tt.header...)...)
			if r.status != tt.status || !strings.Contains(string(r.body), tt.msg) {
				t.Errorf("status %d %q, want %d %q", r.status, r.body, tt.status, tt.msg)
			}
		})
	}
	r := s.do("GET", "/v1/auth?deny=403", nil, "X-Forwarded-Uri", "/secret", "X-Original-URI", "/public")
	if r.status != http.StatusForbidden || r.header.Get("X-Transdb-Status") != "400" {
		t.Errorf("with deny=403: %d %v", r.status, r.header)
	}
}

// An Error (or $RC) of a 2xx would tell the proxy to proceed, and a 1xx
// is no answer: neither is passed on as it is.
func TestAuthNeverAnswersAnErrorWithA2xx(t *testing.T) {
	s := serveAuth(t)
	s.txn(`{"ops":[{"op":"insert","key":"front","uri":"/e204","block":0,"order":0,"action":"Error: 204"},` +
		`{"op":"insert","key":"front","uri":"/e200","block":0,"order":0,"action":"Error: 200, 'OK'"},` +
		`{"op":"insert","key":"front","uri":"/r201","block":0,"order":0,"action":"Redirect: '/x', 201"},` +
		`{"op":"insert","key":"front","uri":"/rc","block":0,"order":0,"action":"Do: $RC=200"},` +
		`{"op":"insert","key":"front","uri":"/e103","block":0,"order":0,"action":"Error: 103"}]}`)
	for _, tt := range []struct{ target, msg string }{
		{"/e204", "the table answers status 204, which forward auth cannot pass on"},
		{"/e200", "the table answers status 200"},
		{"/r201", "the table answers status 201"},
		{"/rc", "the table answers status 200"},
		{"/e103", "unspecified error"}, // and the row's error: status 103 is no status of an answer
	} {
		r := s.auth("", tt.target, "www.xyz.de")
		if r.status != http.StatusInternalServerError || !strings.Contains(string(r.body), tt.msg) ||
			r.header.Get("X-Transdb-Proxy") != "" || r.header.Get("Location") != "" {
			t.Errorf("%s: %d %q %v, want 500 %q", tt.target, r.status, r.body, r.header, tt.msg)
		}
		r = s.auth("?deny=403", tt.target, "www.xyz.de")
		if r.status != http.StatusForbidden || r.header.Get("X-Transdb-Status") != "500" {
			t.Errorf("%s with deny=403: %d %v", tt.target, r.status, r.header)
		}
	}
}

// Proxy URLs and locations are sent as URLs, which every proxy can send
// on; a file's path is sent as its bytes, by which a proxy finds it.
func TestAuthSendsURLsAsURLsAndPathsAsTheirBytes(t *testing.T) {
	s := serveAuth(t)
	s.txn(`{"ops":[{"op":"insert","key":"u","uri":"/","block":0,"order":0,` +
		`"action":"Proxy: 'http://backend/en'.$URI.'?q=' . $QUERY_STRING"},` +
		`{"op":"insert","key":"f","uri":"/","block":0,"order":0,"action":"File: $DOCROOT.$URI"},` +
		`{"op":"insert","key":"r","uri":"/","block":0,"order":0,"action":"Redirect: 'http://xyz.com'.$URI.'#top'"}]}`)
	for _, tt := range []struct {
		key, target, header, want string
	}{
		{"u", "/%C3%A9%20x%7Benv.SECRET%7D", "X-Transdb-Proxy", "http://backend/en/%C3%A9%20x%7Benv.SECRET%7D?q="},
		{"u", "/a%23b%2541%25zz%22%3C%3E%5E%60%7C%5C", "X-Transdb-Proxy", "http://backend/en/a%23b%2541%25zz%22%3C%3E%5E%60%7C%5C?q="},
		// A decoded escape is not decoded again by the backend.
		{"u", "/%2561dmin", "X-Transdb-Proxy", "http://backend/en/%2561dmin?q="},
		{"u", "/a/b;c@d:e=f&g+h!$'()*,~?x=1&y", "X-Transdb-Proxy", "http://backend/en/a/b;c@d:e=f&g+h!$'()*,~?q=x=1&y"},
		{"f", "/%C3%A9t%C3%A9.png", "X-Transdb-File", "/var/www/été.png"},
		{"f", "/a%20b.png", "X-Transdb-File", "/var/www/a b.png"},
		{"r", "/%C3%A9", "Location", "http://xyz.com/%C3%A9#top"},
		{"r", "/a%23b", "Location", "http://xyz.com/a#b%23top"},
	} {
		r := s.auth("?key="+tt.key, tt.target, "www.xyz.de")
		if got := r.header.Get(tt.header); got != tt.want {
			t.Errorf("%s %s: %s %q, want %q", tt.key, tt.target, tt.header, got, tt.want)
		}
	}
	r := s.auth("?key=r&deny=403", "/%C3%A9", "www.xyz.de")
	if got := r.header.Get("X-Transdb-Location"); got != "http://xyz.com/%C3%A9#top" {
		t.Errorf("X-Transdb-Location %q", got)
	}
}

func TestAuthEncodesValuesThatCannotBeHeaderValues(t *testing.T) {
	s := serveAuth(t)
	s.txn(`{"ops":[{"op":"insert","key":"enc","uri":":PRE:","block":0,"order":0,` +
		`"action":"Do: $CTX{plain}='a b, c%d'; $CTX{'x y'}='y'; $CTX{utf}='Jürgen'; $CTX{sp}=' x'; $CTX{pre}=\"UTF-8''x\"; $r->notes->{n}='1'; $r->notes->add('n', '2')"}]}`)
	r := s.do("GET", "/v1/auth?key=enc", nil, "X-Original-URI", "/")
	if r.status != http.StatusOK {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	for name, want := range map[string]string{
		"X-Transdb-Ctx-Plain": "a b, c%d",
		"X-Transdb-Ctx-X%20y": "y",
		"X-Transdb-Ctx-Utf":   "UTF-8''J%C3%BCrgen",
		"X-Transdb-Ctx-Sp":    "UTF-8''%20x",
		"X-Transdb-Ctx-Pre":   "UTF-8''UTF-8%27%27x",
		"X-Transdb-Note-N":    "1",
	} {
		if got := r.header.Get(name); got != want {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
	if got := r.header.Values("X-Transdb-Note-N"); len(got) != 2 || got[1] != "2" {
		t.Errorf("note n: %q, want one header per value", got)
	}
}

// Names of a table are case-sensitive, header names are not: names that
// differ in case only are not sent as one header, which a proxy would
// read as either; the lower-case one keeps the plain name. (Nine %CTX
// names and two notes: both ways of finding twins.)
func TestAuthKeepsNamesThatDifferInCaseApart(t *testing.T) {
	s := serveAuth(t)
	s.txn(`{"ops":[{"op":"insert","key":"case","uri":":PRE:","block":0,"order":0,` +
		`"action":"Do: $CTX{lang}='a'; $CTX{Lang}='b'; $CTX{LANG}='c'; $CTX{Other}='d'; $CTX{a1}=1; $CTX{a2}=2; $CTX{a3}=3; $CTX{a4}=4; $CTX{a5}=5; $r->notes->{Who}='e'; $r->notes->{who}='f'"}]}`)
	r := s.do("GET", "/v1/auth?key=case", nil, "X-Original-URI", "/")
	if r.status != http.StatusOK {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	for name, want := range map[string][]string{
		"X-Transdb-Ctx-Lang":         {"a"},
		"X-Transdb-Ctx-%4cang":       {"b"},
		"X-Transdb-Ctx-%4c%41%4e%47": {"c"},
		"X-Transdb-Ctx-Other":        {"d"},
		"X-Transdb-Note-%57ho":       {"e"},
		"X-Transdb-Note-Who":         {"f"},
	} {
		if got := r.header.Values(name); !slices.Equal(got, want) {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
}

// A decision whose headers would pass MaxAuthHeaderBytes is answered
// with a 500 that says so, without them: a proxy would refuse the
// answer with an error of its own.
func TestAuthRefusesHeadersPastTheLimit(t *testing.T) {
	s := serveAuth(t)
	s.txn(`{"ops":[{"op":"insert","key":"front","uri":"/ctx","block":0,"order":0,"action":"Do: $CTX{a} = 'x' x 70000"},` +
		`{"op":"insert","key":"front","uri":"/fits","block":0,"order":0,"action":"Do: $CTX{a} = 'x' x 60000"},` +
		`{"op":"insert","key":"front","uri":"/far","block":0,"order":0,"action":"Redirect: '/' . ('%' x 30000), 302"}]}`)
	for _, tt := range []struct {
		uri    string
		status int
	}{{"/ctx", 500}, {"/far", 500}, {"/fits", 200}} {
		r := s.do("GET", "/v1/auth", nil, "X-Forwarded-Host", "www.xyz.de", "X-Original-URI", tt.uri)
		if r.status != tt.status {
			t.Fatalf("%s: status %d, want %d: %.200s", tt.uri, r.status, tt.status, r.body)
		}
		if tt.status != 500 {
			if len(r.header.Get(httpprovider.HeaderCtxPrefix+"a")) != 60000 {
				t.Errorf("%s: the %%CTX header is missing", tt.uri)
			}
			continue
		}
		if !strings.Contains(string(r.body), "the decision's headers would be") || r.header.Get("Location") != "" || r.header.Get(httpprovider.HeaderCtxPrefix+"a") != "" {
			t.Errorf("%s: %q, Location %.40q: want the 500 to say why, without the decision's headers", tt.uri, r.body, r.header.Get("Location"))
		}
		r = s.do("GET", "/v1/auth?deny=403", nil, "X-Forwarded-Host", "www.xyz.de", "X-Original-URI", tt.uri)
		if r.status != 403 || r.header.Get(httpprovider.HeaderStatus) != "500" || !strings.Contains(r.header.Get(httpprovider.HeaderMessage), "headers would be") {
			t.Errorf("%s with deny=403: %d %v", tt.uri, r.status, r.header)
		}
	}
}
