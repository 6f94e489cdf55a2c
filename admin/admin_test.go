package admin_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"

	"transdb/admin"
)

func get(t *testing.T, h http.Handler, method, path string, header ...string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(method, path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w.Result()
}

func TestHandlerServesThePageWithAStrictPolicy(t *testing.T) {
	h := admin.Handler(nil)
	for path, ct := range map[string]string{
		"/admin/":            "text/html; charset=utf-8",
		"/admin/index.html":  "text/html; charset=utf-8",
		"/admin/admin.js":    "text/javascript; charset=utf-8",
		"/admin/admin.css":   "text/css; charset=utf-8",
		"/admin/favicon.svg": "image/svg+xml",
	} {
		resp := get(t, h, http.MethodGet, path)
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != ct || len(body) == 0 {
			t.Errorf("GET %s: %d %q, %d bytes", path, resp.StatusCode, resp.Header.Get("Content-Type"), len(body))
		}
		for name, want := range map[string]string{
			"Content-Security-Policy": admin.ContentSecurityPolicy,
			"X-Frame-Options":         "DENY",
			"X-Content-Type-Options":  "nosniff",
			"Cache-Control":           "no-cache",
		} {
			if got := resp.Header.Get(name); got != want {
				t.Errorf("GET %s: %s %q, want %q", path, name, got, want)
			}
		}
		// Revalidation costs no body.
		tag := resp.Header.Get("ETag")
		if again := get(t, h, http.MethodGet, path, "If-None-Match", tag); tag == "" || again.StatusCode != http.StatusNotModified {
			t.Errorf("GET %s with If-None-Match %q: %d", path, tag, again.StatusCode)
		}
		if head := get(t, h, http.MethodHead, path); head.StatusCode != http.StatusOK {
			t.Errorf("HEAD %s: %d", path, head.StatusCode)
		}
	}
	for _, tt := range []struct {
		method, path string
		status       int
	}{
		{http.MethodGet, "/admin/nothing.js", http.StatusNotFound},
		{http.MethodGet, "/admin/menu.html", http.StatusNotFound},
		{http.MethodGet, "/admin/static/admin.js", http.StatusNotFound},
		{http.MethodGet, "/other/admin.js", http.StatusNotFound},
		{http.MethodPost, "/admin/", http.StatusMethodNotAllowed},
	} {
		resp := get(t, h, tt.method, tt.path)
		var e struct{ Error string }
		if err := json.NewDecoder(resp.Body).Decode(&e); err != nil || resp.StatusCode != tt.status || e.Error == "" {
			t.Errorf("%s %s: %d %+v %v", tt.method, tt.path, resp.StatusCode, e, err)
		}
	}
}

func TestHandlerServesTheMenuWhenItHasOne(t *testing.T) {
	const menu = `<ul><li><a href="/v1/stats">stats</a></li></ul>`
	page := func(h http.Handler) (string, string) {
		resp := get(t, h, http.MethodGet, "/admin/")
		body, _ := io.ReadAll(resp.Body)
		return string(body), resp.Header.Get("ETag")
	}
	// Without a menu the page hides the menu's button.
	plain, plainTag := page(admin.Handler(nil))
	if !strings.Contains(plain, `<div id="menu-box" hidden>`) {
		t.Fatal("the page without a menu does not hide the menu button")
	}
	h := admin.Handler([]byte(menu))
	resp := get(t, h, http.MethodGet, "/admin/menu.html")
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || string(body) != menu || resp.Header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Errorf("GET /admin/menu.html: %d %q %q", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	if resp.Header.Get("Content-Security-Policy") != admin.ContentSecurityPolicy || resp.Header.Get("ETag") == "" {
		t.Errorf("GET /admin/menu.html: headers %v", resp.Header)
	}
	// With one it shows the button, and is another page for the caches.
	withMenu, tag := page(h)
	if strings.Contains(withMenu, `<div id="menu-box" hidden>`) || !strings.Contains(withMenu, `<div id="menu-box">`) {
		t.Error("the page with a menu does not show the menu button")
	}
	if tag == plainTag {
		t.Errorf("the pages with and without a menu have one ETag %s", tag)
	}
	// The handler without a menu is unchanged.
	if again, _ := page(admin.Handler(nil)); again != plain {
		t.Error("a menu changed the page of a handler without one")
	}
}

func TestPageLoadsNothingFromElsewhereAndRunsNoInlineCode(t *testing.T) {
	read := func(name string) string {
		b, err := os.ReadFile("static/" + name)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	html, js, css := read("index.html"), read("admin.js"), read("admin.css")
	for name, text := range map[string]string{"index.html": html, "admin.js": js, "admin.css": css} {
		if m := regexp.MustCompile(`(?i)(https?:)?//[a-z0-9.-]+\.[a-z]{2,}/`).FindString(text); m != "" {
			t.Errorf("%s names another site: %q", name, m)
		}
	}
	// Scripts come from files; no inline handlers or styles, which the
	// policy would block anyway.
	for _, m := range regexp.MustCompile(`(?is)<script([^>]*)>(.*?)</script>`).FindAllStringSubmatch(html, -1) {
		if !strings.Contains(m[1], `src="admin.js"`) || strings.TrimSpace(m[2]) != "" {
			t.Errorf("inline script: %q", m[0])
		}
	}
	if m := regexp.MustCompile(`(?i)\s(on[a-z]+|style)=`).FindString(html); m != "" {
		t.Errorf("index.html has an inline %q", m)
	}
	// The page builds its DOM from text, never from HTML strings, so no
	// table content can inject markup; and it evaluates no code. The one
	// HTML it parses is the menu of the configuration.
	for _, bad := range []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function", "document.cookie", "localStorage"} {
		if strings.Contains(js, bad) {
			t.Errorf("admin.js uses %s", bad)
		}
	}
	if n := strings.Count(js, "parseFromString("); n != 1 || !strings.Contains(js, "parseFromString(await resp.text()") {
		t.Errorf("admin.js parses HTML %d times; once is for the menu", n)
	}
	if !strings.Contains(js, "$$('script', doc)") {
		t.Error("admin.js does not drop the menu's script elements")
	}
	if !strings.Contains(js, "sessionStorage") || !strings.Contains(js, "'Bearer '") {
		t.Error("admin.js does not keep the token in sessionStorage and send it as a bearer token")
	}
}
