package proxies

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
)

// What a proxy's configuration does not do, each with the reason in its
// file and in the README.
type limits struct {
	// noFiles: the proxy does not serve File decisions itself; it passes
	// the request to the backend with X-Transdb-File.
	noFiles bool
	// keepsClientHeaders: X-Transdb-* headers of the client that the
	// configuration does not set itself reach the backend.
	keepsClientHeaders bool
	// escapesAgain: the proxy escapes the path of the Proxy URL again,
	// so that each %XX in it reaches the backend as %25XX (Caddy 2.6).
	escapesAgain bool
}

// checkExampleTable sends the requests of every case of the example table
// through the proxy at addr and checks the answers, then commits a change
// of the table and checks that the next request obeys it.
func checkExampleTable(t *testing.T, s *stack, addr string, lim limits) {
	get := func(t *testing.T, from, host, target string) reply {
		t.Helper()
		return request(t, from, addr, "GET", host, target, "")
	}
	t.Run("foreign host is redirected", func(t *testing.T) {
		r := get(t, "127.0.0.1", "www.example.org", "/some/page?x=1")
		if r.status != http.StatusMovedPermanently || r.header.Get("Location") != "http://xyz.com/some/page" {
			t.Errorf("%d, Location %q, want 301 to http://xyz.com/some/page", r.status, r.header.Get("Location"))
		}
	})
	t.Run("appl1 is proxied to the computed upstream url", func(t *testing.T) {
		for host, lang := range map[string]string{"www.xyz.de": "de", "www.xyz.com": "en"} {
			e := get(t, "127.0.0.1", host, "/appl1/x").echoed(t)
			want := map[string]string{"X-Transdb-Ctx-Lang": lang, "X-Transdb-Uri": "/appl1/x", "X-Transdb-Path-Info": "/x"}
			if e.Method != "GET" || e.URI != "/"+lang+"/appl1/x" {
				t.Errorf("%s: the backend got %s %s, want GET /%s/appl1/x", host, e.Method, e.URI, lang)
			}
			checkHeaders(t, host, e, want)
			if e.Header.Get("X-Transdb-Generation") == "" {
				t.Errorf("%s: no X-Transdb-Generation", host)
			}
		}
	})
	t.Run("the query of the table's proxy url reaches the backend", func(t *testing.T) {
		// Record 8: Proxy: 'http://backend/'.$URI.'?l='.$CTX{lang}; the
		// url replaces the request's path and query, as mod_proxy does.
		for _, target := range []string{"/appl2/y", "/appl2/y?q=1"} {
			if e := get(t, "127.0.0.1", "www.xyz.com", target).echoed(t); e.URI != "//appl2/y?l=en" {
				t.Errorf("%s: the backend got %s, want //appl2/y?l=en", target, e.URI)
			}
		}
	})
	t.Run("a path that is no URL as it is reaches the backend escaped", func(t *testing.T) {
		// The decoded $URI goes into the Proxy URL, which transdbd
		// sends escaped; a brace is not expanded by any proxy's
		// template language.
		for target, want := range map[string]string{
			"/appl1/%C3%A9t%C3%A9":  "/de/appl1/%C3%A9t%C3%A9",
			"/appl1/a%20b":          "/de/appl1/a%20b",
			"/appl1/%7Benv.HOME%7D": "/de/appl1/%7Benv.HOME%7D",
		} {
			if lim.escapesAgain {
				want = strings.ReplaceAll(want, "%", "%25")
			}
			if e := get(t, "127.0.0.1", "www.xyz.de", target).echoed(t); e.URI != want {
				t.Errorf("%s: the backend got %s, want %s", target, e.URI, want)
			}
		}
	})
	t.Run("the client cannot forge the decision's headers", func(t *testing.T) {
		r := request(t, "127.0.0.1", addr, "GET", "www.xyz.de", "/appl1/x", "",
			"X-Transdb-Handler", "forged", "X-Transdb-File", s.docroot+"/en/img.png", "X-Transdb-Ctx-Lang", "fr",
			"X-Transdb-Note-Other", "forged")
		e := r.echoed(t)
		other := ""
		if lim.keepsClientHeaders {
			other = "forged"
		}
		checkHeaders(t, "forged", e, map[string]string{"X-Transdb-Handler": "", "X-Transdb-Ctx-Lang": "de", "X-Transdb-Note-Other": other})
	})
	t.Run("the request body and method reach the backend", func(t *testing.T) {
		r := request(t, "127.0.0.1", addr, "POST", "www.xyz.com", "/appl1/form", "a=1&b=2")
		e := r.echoed(t)
		if e.Method != "POST" || e.URI != "/en/appl1/form" || e.Body != "a=1&b=2" {
			t.Errorf("the backend got %s %s %q", e.Method, e.URI, e.Body)
		}
	})
	t.Run("static files come from the document root", func(t *testing.T) {
		for host, lang := range map[string]string{"www.xyz.de": "de", "www.xyz.com": "en"} {
			r := get(t, "127.0.0.1", host, "/static/img.png")
			want := docFiles[lang+"/img.png"]
			if lim.noFiles {
				e := r.echoed(t)
				checkHeaders(t, host, e, map[string]string{"X-Transdb-File": s.docroot + "/" + lang + "/img.png"})
				continue
			}
			if r.status != 200 || !bytes.Equal(r.body, want) {
				t.Errorf("%s: %d %q, want the file %q", host, r.status, r.body, want)
			}
			if ct := r.header.Get("Content-Type"); ct != "image/png" {
				t.Errorf("%s: Content-Type %q", host, ct)
			}
		}
		if !lim.noFiles {
			if r := get(t, "127.0.0.1", "www.xyz.de", "/static/missing.png"); r.status != http.StatusNotFound {
				t.Errorf("a missing file: %d, want 404", r.status)
			}
		}
		// Dot segments are resolved before the table sees the path.
		r := get(t, "127.0.0.1", "www.xyz.de", "/static/%2e%2e/static/img.png")
		if lim.noFiles {
			checkHeaders(t, "dot segments", r.echoed(t), map[string]string{"X-Transdb-File": s.docroot + "/de/img.png"})
		} else if r.status != 200 || !bytes.Equal(r.body, docFiles["de/img.png"]) {
			t.Errorf("dot segments: %d %q", r.status, r.body)
		}
	})
	t.Run("back forbids other clients with 403", func(t *testing.T) {
		r := get(t, "127.0.0.2", "back.xyz.com", "/appl1/x")
		if r.status != http.StatusForbidden || !strings.Contains(string(r.body), "Forbidden by Apache2::Translation(11)") {
			t.Errorf("%d %q, want 403 with the table's message", r.status, r.body)
		}
	})
	t.Run("back passes 127.0.0.1 to the backend with its handler", func(t *testing.T) {
		e := get(t, "127.0.0.1", "back.xyz.com", "/appl1/x?q=1").echoed(t)
		if e.URI != "/appl1/x?q=1" {
			t.Errorf("the backend got %s", e.URI)
		}
		checkHeaders(t, "back", e, map[string]string{"X-Transdb-Handler": "My::Application1"})
	})
	t.Run("a committed change is obeyed by the next request", func(t *testing.T) {
		// Record 7 proxies /appl1; a note for the backend comes along.
		s.commit(t, `[{"op":"update","old":{"key":"front","uri":"/appl1","block":0,"order":0,"id":7},`+
			`"new":{"key":"front","uri":"/appl1","block":0,"order":0,"action":"Proxy: 'http://backend/v2/'.$CTX{lang}.$URI"}},`+
			`{"op":"insert","key":"front","uri":"/appl1","block":0,"order":1,"action":"Do: $r->notes->{user}='jo'"}]`)
		e := get(t, "127.0.0.1", "www.xyz.de", "/appl1/x").echoed(t)
		if e.URI != "/v2/de/appl1/x" {
			t.Errorf("after the commit the backend got %s, want /v2/de/appl1/x", e.URI)
		}
		checkHeaders(t, "after the commit", e, map[string]string{"X-Transdb-Note-User": "jo", "X-Transdb-Ctx-Lang": "de"})
	})
	t.Run("the client cannot choose the request translated", func(t *testing.T) {
		// The proxy, not the client, describes the original request:
		// its address, target, method and port.
		r := request(t, "127.0.0.2", addr, "GET", "back.xyz.com", "/appl1/x", "",
			"X-Real-IP", "127.0.0.1", "X-Forwarded-For", "127.0.0.1")
		if r.status != http.StatusForbidden {
			t.Errorf("another client posing as 127.0.0.1: %d %q, want 403", r.status, r.body)
		}
		s.commit(t, `[{"op":"insert","key":"front","uri":"/secret","block":0,"order":0,"action":"Error: 403"},`+
			`{"op":"insert","key":"front","uri":"/m","block":0,"order":0,"action":"Cond: $r->method eq 'DELETE'"},`+
			`{"op":"insert","key":"front","uri":"/m","block":0,"order":1,"action":"Error: 405"},`+
			`{"op":"insert","key":"front","uri":"/port","block":0,"order":0,"action":"Cond: $r->get_server_port == 4444"},`+
			`{"op":"insert","key":"front","uri":"/port","block":0,"order":1,"action":"Error: 406"}]`)
		for _, c := range []struct {
			method, target string
			header         []string
			want           int
		}{
			{"GET", "/secret", []string{"X-Original-URI", "/appl1/x", "X-Forwarded-Uri", "/appl1/x"}, http.StatusForbidden},
			{"DELETE", "/m", []string{"X-Original-Method", "GET", "X-Forwarded-Method", "GET"}, http.StatusMethodNotAllowed},
			{"GET", "/port", []string{"X-Forwarded-Port", "4444"}, http.StatusOK},
		} {
			r := request(t, "127.0.0.1", addr, c.method, "www.xyz.com", c.target, "", c.header...)
			if r.status != c.want {
				t.Errorf("%s %s with %q: %d %q, want %d", c.method, c.target, c.header, r.status, r.body, c.want)
			}
		}
	})
	t.Run("a decision the proxy cannot carry out is an error", func(t *testing.T) {
		// A Proxy that is no URL, and a File that is no path a header
		// can hold as it is: neither may pass the request on as it came.
		s.commit(t, `[{"op":"insert","key":"front","uri":"/noproxy","block":0,"order":0,"action":"Proxy: 'backend/x'"},`+
			`{"op":"insert","key":"front","uri":"/nofile","block":0,"order":0,"action":"File: \"/var/www/\\x01\""}]`)
		targets := []string{"/noproxy"}
		if !lim.noFiles {
			targets = append(targets, "/nofile")
		}
		for _, target := range targets {
			if r := get(t, "127.0.0.1", "www.xyz.com", target); r.status < 400 {
				t.Errorf("%s: %d %q, want an error", target, r.status, r.body)
			}
		}
	})
}

// checkHeaders checks request headers the backend received.
func checkHeaders(t *testing.T, what string, e echoed, want map[string]string) {
	t.Helper()
	for name, v := range want {
		if got := e.Header.Get(name); got != v {
			t.Errorf("%s: the backend got %s %q, want %q", what, name, got, v)
		}
	}
}
