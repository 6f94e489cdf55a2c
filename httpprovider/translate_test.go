package httpprovider_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"transdb/engine"

	"transdb/httpprovider"
	"transdb/translation"
)

// serveExample serves the example table with key front and document
// root /var/www.
func serveExample(t *testing.T) *testServer {
	t.Helper()
	s := serve(t, httpprovider.Options{
		Providers:      []*translation.Provider{newProvider(t, dbPath(t), false, "trans", "db")},
		AdminToken:     token,
		TranslationKey: "front",
		DocumentRoot:   "/var/www",
	})
	s.loadExample()
	return s
}

func TestTranslateAnswersTheDecision(t *testing.T) {
	s := serveExample(t)
	r := s.get("/v1/translate?uri=/static/img.png&host=www.xyz.de")
	if r.status != http.StatusOK {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	gen := r.generation(t)
	want := `{"generation":` + strconv.FormatUint(gen, 10) + `,"key":"front","uri":"/static/img.png","status":0,` +
		`"file":"/var/www/de/img.png","config":[["/","AuthName \"secret\""],["/","AuthType Basic"]],"fixup_config":[],` +
		`"matched_uri":"/static","path_info":"/img.png","notes":{},"ctx":{"lang":"de"},"errors":[]}` + "\n"
	if string(r.body) != want {
		t.Errorf("body\n%s\nwant\n%s", r.body, want)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
}

func TestTranslateDecisionFields(t *testing.T) {
	s := serveExample(t)
	for _, tt := range []struct {
		query string
		want  map[string]any
	}{
		{"uri=/some/page&host=www.example.org",
			map[string]any{"status": 301.0, "location": "http://xyz.com/some/page"}},
		{"uri=/appl1/x&host=www.xyz.com",
			map[string]any{"status": 0.0, "proxy": "http://backend/en/appl1/x", "matched_uri": "/appl1", "path_info": "/x"}},
		{"uri=/appl1/x&host=www.xyz.de&key=back&client_ip=192.0.2.7",
			map[string]any{"status": 403.0, "message": "Forbidden by Apache2::Translation(11)", "key": "back"}},
		{"uri=/appl1/x&host=www.xyz.de&key=back&client_ip=127.0.0.1",
			map[string]any{"status": 0.0, "handler": "My::Application1"}},
		{"uri=static&host=www.xyz.de",
			map[string]any{"status": 400.0, "message": "BAD REQUEST: static"}},
		{"uri=/x&host=www.example.org&scheme=https&port=8443",
			map[string]any{"status": 301.0, "location": "http://xyz.com/x"}},
	} {
		t.Run(tt.query, func(t *testing.T) {
			var d map[string]any
			s.decode(s.get("/v1/translate?"+tt.query), http.StatusOK, &d)
			for k, v := range tt.want {
				if d[k] != v {
					t.Errorf("%s = %#v, want %#v", k, d[k], v)
				}
			}
			for _, k := range []string{"config", "fixup_config", "errors"} {
				if _, ok := d[k].([]any); !ok {
					t.Errorf("%s = %#v, want an array", k, d[k])
				}
			}
			for _, k := range []string{"notes", "ctx"} {
				if _, ok := d[k].(map[string]any); !ok {
					t.Errorf("%s = %#v, want an object", k, d[k])
				}
			}
			if _, ok := d["trace"]; ok {
				t.Error("trace without trace=1")
			}
		})
	}
}

func TestTranslateTrace(t *testing.T) {
	s := serveExample(t)
	var d struct {
		Trace []struct {
			State, Key, URI, Action string
			ID                      uint64
			Block, Order            uint32
			Ran                     bool
			CondFalse               bool `json:"cond_false"`
		}
	}
	decodeLoosely(t, s.get("/v1/translate?uri=/static/img.png&host=www.xyz.com&trace=1"), &d)
	if len(d.Trace) != 7 {
		t.Fatalf("%d steps: %+v", len(d.Trace), d.Trace)
	}
	first, skipped, last := d.Trace[0], d.Trace[1], d.Trace[6]
	if first.State != "PREPROC" || first.URI != ":PRE:" || first.ID == 0 || !first.Ran || !first.CondFalse {
		t.Errorf("first step %+v: want the false Cond of :PRE:", first)
	}
	if skipped.Ran || skipped.Order != 1 {
		t.Errorf("second step %+v: want the Redirect skipped", skipped)
	}
	if last.State != "PROC" || last.URI != "/" || !last.Ran {
		t.Errorf("last step %+v: want the Config of /", last)
	}
	// The answers after it have no trace: the translations reuse the
	// memory of the traced one, and an empty trace is no trace.
	for range 20 {
		if r := s.get("/v1/translate?uri=/static/img.png&host=www.xyz.com"); strings.Contains(string(r.body), `"trace"`) {
			t.Fatalf("an answer without trace=1 after one with it: %s", r.body)
		}
	}
}

func TestTranslateRefusesMalformedParameters(t *testing.T) {
	s := serveExample(t)
	for _, q := range []string{
		"", "host=www.xyz.de", "uri=", "uri=/a&uri=/b", "uri=%ff", "uri=/a%00b", "uri=/a&port=0",
		"uri=/a&port=65536", "uri=/a&port=x", "uri=/a&scheme=ftp", "uri=/a&client_ip=nowhere",
		"uri=/a&header=NoColon", "uri=/a&header=" + url.QueryEscape("Bad Name: x"), "uri=/a&method=" + url.QueryEscape("GE T"),
		"uri=/a&key=" + url.QueryEscape("a b"), "uri=/a&trace=maybe", "uri=/a&note=1", "uri=/a&basekey=nope",
		"uri=/a&port=%2B80", "uri=/a&port=-1", "uri=/a&port=", "uri=/a&header=" + url.QueryEscape("Host : x"),
		"uri=/a%0Ab", "uri=/a&host=a%0Ab", "uri=/a&key=",
	} {
		t.Run(q, func(t *testing.T) {
			r := s.get("/v1/translate?" + q)
			want := http.StatusBadRequest
			if strings.Contains(q, "basekey=nope") {
				want = http.StatusNotFound
			}
			s.wantError(r, want)
			if r.generation(t) == 0 {
				t.Error("no generation header")
			}
		})
	}
	// The message names the parameter and what is wrong with it, as
	// transdbd translate names its flag; /v1/fetch and /v1/resolve name a
	// key or uri alike.
	for path, msg := range map[string]string{
		"/v1/translate?uri=/a&key=":                  `parameter key "": is empty`,
		"/v1/translate?uri=/a&key=a%20b":             `parameter key "a b": contains white space`,
		"/v1/translate?uri=/a&port=0":                `parameter port "0": not a port number 1..65535`,
		"/v1/translate?uri=/a&client_ip=nowhere":     `parameter client_ip "nowhere": not an IP address`,
		"/v1/fetch?key=a%20b&uri=/":                  `parameter key "a b": contains white space`,
		"/v1/resolve?key=front&uri=%2Fa%C2%A0b":      `parameter uri "/a\u00a0b": contains white space`,
		"/v1/translate?uri=/a&header=NoColon":        `parameter header "NoColon": want 'Name: value'`,
		"/v1/translate?uri=/a&method=" + "GE%20T":    `parameter method "GE T": not an HTTP method`,
		"/v1/translate?uri=/a&scheme=ftp":            `parameter scheme "ftp": want http or https`,
		"/v1/translate?uri=/a&port=%2B80":            `parameter port "+80": not a port number 1..65535`,
		"/v1/translate?uri=/a&host=a%0Ab":            `parameter host "a\nb": not valid UTF-8 or holds control characters`,
		"/v1/translate?uri=/a&key=a%00b&trace=1":     `parameter key "a\x00b": contains a NUL byte`,
		"/v1/translate?uri=/a&key=%ff":               `parameter key "\xff": is not valid UTF-8`,
		"/v1/translate?uri=/a&uri=/b":                `parameter uri`,
		"/v1/translate?uri=/a&trace=maybe":           `parameter trace`,
		"/v1/translate?uri=/a&header=X%20A%3A%20v":   `parameter header "X A: v": want 'Name: value'`,
		"/v1/translate?uri=/a&port=65536":            `parameter port "65536": not a port number 1..65535`,
		"/v1/translate?uri=/a&client_ip=1.2.3.4.5":   `parameter client_ip "1.2.3.4.5": not an IP address`,
		"/v1/translate?uri=/a&header=Host%20%3A%20x": `parameter header "Host : x": want 'Name: value'`,
	} {
		if got := s.wantError(s.get(path), http.StatusBadRequest); !strings.Contains(got, msg) {
			t.Errorf("%s: %q, want %q", path, got, msg)
		}
	}
}

// TestCancelledTranslationIs503: a request whose context ends during
// its translation (the client went away, the server shuts down) is
// answered 503, not as a server error.
func TestCancelledTranslationIs503(t *testing.T) {
	s := serveExample(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req := httptest.NewRequestWithContext(ctx, http.MethodGet, "/v1/translate?uri=/static/img.png&host=www.xyz.de", nil)
	w := httptest.NewRecorder()
	s.srv.ServeHTTP(w, req)
	if w.Code != http.StatusServiceUnavailable || !strings.Contains(w.Body.String(), "the request was cancelled") {
		t.Errorf("status %d, body %s", w.Code, w.Body)
	}
}

func TestTranslatePassesHeadersMethodAndArgs(t *testing.T) {
	p := newProvider(t, dbPath(t), false)
	s := serve(t, httpprovider.Options{Providers: []*translation.Provider{p}, AdminToken: token})
	s.txn(`{"ops":[{"op":"insert","key":"default","uri":"/","block":0,"order":0,` +
		`"action":"Do: $CTX{h}=$HEADERS->{'X-Who'}; $CTX{m}=$METHOD; $CTX{q}=$QUERY_STRING; $CTX{r}=$REQUEST"}]}`)
	var d struct{ CTX map[string]string }
	decodeLoosely(t, s.get("/v1/translate?uri=/&method=POST&args="+url.QueryEscape("a=1&b=2")+
		"&header="+url.QueryEscape("x-who: me & you")), &d)
	want := map[string]string{"h": "me & you", "m": "POST", "q": "a=1&b=2", "r": "POST /?a=1&b=2 HTTP/1.1"}
	for k, v := range want {
		if d.CTX[k] != v {
			t.Errorf("ctx %s = %q, want %q", k, d.CTX[k], v)
		}
	}
}

func TestTranslateIsCountedByEndpoint(t *testing.T) {
	s := serveExample(t)
	s.get("/v1/translate?uri=/")
	s.get("/v1/translate?uri=/&port=0")
	body := string(s.get("/metrics").body)
	for _, want := range []string{
		`transdb_http_requests_total{code="200",endpoint="/v1/translate"} 1`,
		`transdb_http_requests_total{code="400",endpoint="/v1/translate"} 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

func TestWriteDecisionIsTheBodyOfTranslate(t *testing.T) {
	s := serveExample(t)
	r := s.get("/v1/translate?uri=/appl2/y&host=www.xyz.de&trace=1")
	e := engine.New(s.p, engine.Options{TranslationKey: "front", DocumentRoot: "/var/www"})
	d, err := e.Translate(context.Background(), engine.Request{URI: "/appl2/y", Host: "www.xyz.de", Trace: true})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := httpprovider.WriteDecision(&b, d); err != nil {
		t.Fatal(err)
	}
	if b.String() != string(r.body) {
		t.Errorf("WriteDecision\n%s\n/v1/translate\n%s", b.String(), r.body)
	}
}

// decodeLoosely decodes the JSON body of a 200 response into v, which
// names only the fields a test looks at.
func decodeLoosely(t *testing.T, r response, v any) {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

// A path the mux would redirect to a cleaned one is no endpoint: a JSON
// 404 with the generation, as every answer of the API, not a redirect
// with an HTML body.
func TestUncleanPathsAreJSON404s(t *testing.T) {
	s := serveExample(t)
	for _, path := range []string{"/v1//translate?uri=/x", "/v1/./fetch?key=front&uri=/", "//v1/fetch", "/v1/fetch/../keys"} {
		r := s.get(path)
		if msg := s.wantError(r, http.StatusNotFound); !strings.Contains(msg, "no such endpoint") {
			t.Errorf("%s: %q", path, msg)
		}
		if r.header.Get("Location") != "" || r.generation(t) == 0 {
			t.Errorf("%s: Location %q, generation %d", path, r.header.Get("Location"), r.generation(t))
		}
	}
}
