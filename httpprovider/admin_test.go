package httpprovider_test

import (
	"net/http"
	"strings"
	"testing"

	"transdb/admin"
	"transdb/httpprovider"
	"transdb/translation"
)

func TestAdminPageIsServedOnlyWhenAsked(t *testing.T) {
	off := serveNew(t)
	off.wantError(off.get("/admin/"), http.StatusNotFound)

	s := serve(t, httpprovider.Options{
		Providers:  []*translation.Provider{newProvider(t, dbPath(t), false)},
		AdminToken: token,
		Admin:      true,
	})
	s.loadExample()
	r := s.get("/admin/")
	if r.status != http.StatusOK || !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") || !strings.Contains(string(r.body), "admin.js") {
		t.Fatalf("GET /admin/: %d %q", r.status, r.header.Get("Content-Type"))
	}
	if r.header.Get("Content-Security-Policy") != admin.ContentSecurityPolicy || r.header.Get("X-Frame-Options") != "DENY" || r.generation(t) != 1 {
		t.Errorf("GET /admin/: headers %v", r.header)
	}
	if r := s.get("/admin/admin.js"); r.status != http.StatusOK {
		t.Errorf("GET /admin/admin.js: %d", r.status)
	}
	// Everything else under /admin/ answers as the API does.
	s.wantError(s.get("/admin/nothing"), http.StatusNotFound)
	if msg := s.wantError(s.get("/admin/?x=1"), http.StatusBadRequest); !strings.Contains(msg, `unknown parameter "x"`) {
		t.Errorf("a parameter: %q", msg)
	}
	r = s.post("/admin/", "")
	if s.wantError(r, http.StatusMethodNotAllowed); r.header.Get("Allow") != "GET, HEAD" {
		t.Errorf("POST /admin/: Allow %q", r.header.Get("Allow"))
	}
	req, _ := http.NewRequest(http.MethodGet, s.url+"/admin", nil)
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 3 || resp.Header.Get("Location") != "/admin/" {
		t.Errorf("GET /admin: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	// The page is counted as an endpoint of its own.
	if m := string(s.get("/metrics").body); !strings.Contains(m, `transdb_http_requests_total{code="200",endpoint="/admin/"} 2`) {
		t.Errorf("metrics lack the admin page:\n%s", m)
	}
}

func TestAdminMenuIsServedOnlyWhenConfigured(t *testing.T) {
	const menu = "<ul><li><a href=\"/metrics\">metrics</a></li></ul>\n"
	for _, tt := range []struct {
		name string
		menu []byte
	}{{"without", nil}, {"with", []byte(menu)}} {
		t.Run(tt.name, func(t *testing.T) {
			s := serve(t, httpprovider.Options{
				Providers: []*translation.Provider{newProvider(t, dbPath(t), false)},
				Admin:     true,
				AdminMenu: tt.menu,
			})
			r := s.get("/admin/menu.html")
			if tt.menu == nil {
				s.wantError(r, http.StatusNotFound)
				if !strings.Contains(string(s.get("/admin/").body), `<div id="menu-box" hidden>`) {
					t.Error("the page shows a menu button without a menu")
				}
				return
			}
			if r.status != http.StatusOK || string(r.body) != menu || r.header.Get("Content-Type") != "text/html; charset=utf-8" {
				t.Errorf("GET /admin/menu.html: %d %q %q", r.status, r.header.Get("Content-Type"), r.body)
			}
			if r.header.Get("Content-Security-Policy") != admin.ContentSecurityPolicy || r.header.Get("X-Frame-Options") != "DENY" {
				t.Errorf("GET /admin/menu.html: headers %v", r.header)
			}
			if !strings.Contains(string(s.get("/admin/").body), `<div id="menu-box">`) {
				t.Error("the page shows no menu button")
			}
		})
	}
	// Without the page there is no menu either.
	s := serve(t, httpprovider.Options{
		Providers: []*translation.Provider{newProvider(t, dbPath(t), false)},
		AdminMenu: []byte(menu),
	})
	s.wantError(s.get("/admin/menu.html"), http.StatusNotFound)
}

func TestCrossSiteRequestsCannotWrite(t *testing.T) {
	s := serve(t, httpprovider.Options{
		Providers:  []*translation.Provider{newProvider(t, dbPath(t), false)},
		AdminToken: token,
		Admin:      true,
	})
	// A page of another site cannot send the token: the preflight that a
	// cross-origin request with an Authorization header needs is refused
	// and grants nothing.
	r := s.do(http.MethodOptions, "/v1/txn", nil, "Origin", "https://evil.example",
		"Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "authorization, content-type")
	if r.status/100 == 2 || r.header.Get("Access-Control-Allow-Origin") != "" || r.header.Get("Access-Control-Allow-Headers") != "" {
		t.Errorf("preflight: %d %v", r.status, r.header)
	}
	// What it can send without one, a form or a simple request, carries
	// no token: the browser keeps none in a cookie.
	r = s.do(http.MethodPost, "/v1/txn", strings.NewReader(`{"ops":[{"op":"clear"}]}`),
		"Origin", "https://evil.example", "Content-Type", "text/plain")
	s.wantError(r, http.StatusUnauthorized)
	if g, _ := s.p.Generation(); g != 0 {
		t.Errorf("a cross-site request committed generation %d", g)
	}
}
