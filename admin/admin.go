// Package admin is the admin page of transdbd: an editor of translation
// tables in the browser, after Apache2::Translation::Admin.
//
// The page is three files, index.html, admin.css and admin.js, plain
// HTML, CSS and JavaScript embedded in the binary: no build step, no
// library, nothing fetched from elsewhere at run time. Handler serves
// them under Prefix; package httpprovider mounts it when its Options ask
// for the page. The page does everything through the HTTP API of the
// same server: it browses with /v1/providers, /v1/lists and /v1/fetch,
// shows /v1/check's findings and /v1/journal's lines beside a list,
// tries requests with /v1/translate and saves a list's changes with one
// POST /v1/txn that carries the generation the list was loaded from, so
// that a save against a table that changed meanwhile is refused.
//
// Writes need the AdminToken. The page asks for it once and keeps it in
// the browser's sessionStorage (for the tab's session only) and sends it
// as "Authorization: Bearer" with each write; it sets no cookie. A page
// of another site cannot write: a browser sends no such header on its
// own, and cross-origin requests with one need a CORS permission the
// server never gives. The files are served with a Content-Security-Policy
// that allows scripts, styles and connections of the page's own origin
// only (no inline script) and forbids framing the page.
//
// An optional pop-up menu, an HTML fragment the daemon's configuration
// names (AdminMenu), is the one part of the page not built from text: see
// Handler.
package admin

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"maps"
	"net/http"
	"path"
	"strings"
	"time"
)

// Prefix is the path under which Handler serves the page; the page
// itself is Prefix.
const Prefix = "/admin/"

// ContentSecurityPolicy is the policy the files are served with: the
// page's own scripts, styles, images and connections only, no inline
// script, no plugins, no forms sent anywhere, no framing.
const ContentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; " +
	"connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

//go:embed static
var static embed.FS

// A file is one of the page's files, ready to serve.
type file struct {
	content     []byte
	contentType string
	etag        string
}

// types are the content types of the files by extension.
var types = map[string]string{
	".html": "text/html; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".svg":  "image/svg+xml",
}

// newFile returns the file of content, served as name.
func newFile(name string, content []byte) *file {
	sum := sha256.Sum256(content)
	return &file{content: content, contentType: types[path.Ext(name)], etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
}

// files are the page's files by the name they are served under; "" is
// index.html.
var files = func() map[string]*file {
	entries, err := static.ReadDir("static")
	if err != nil {
		panic(err) // the files are embedded: they are there
	}
	m := map[string]*file{}
	for _, e := range entries {
		b, err := static.ReadFile("static/" + e.Name())
		if err != nil {
			panic(err)
		}
		m[e.Name()] = newFile(e.Name(), b)
	}
	m[""] = m["index.html"]
	return m
}()

// MenuName is the name the menu is served under, after Prefix.
const MenuName = "menu.html"

// noMenu and withMenu are the element of index.html that holds the menu
// button and the menu, hidden and shown.
const (
	noMenu   = `<div id="menu-box" hidden>`
	withMenu = `<div id="menu-box">`
)

// Handler returns the handler of the page's files: GET and HEAD of
// Prefix (and Prefix+"index.html") answer the page, of Prefix+NAME the
// file NAME. Every answer has the Content-Security-Policy,
// X-Frame-Options: DENY and an ETag (If-None-Match gives 304); the files
// are revalidated before each use, so a new binary's page is never mixed
// with an old one's script. An unknown name is a JSON 404, another method
// a JSON 405, as the API's errors are.
//
// menu, when not nil, is an HTML fragment, the page's pop-up menu: it is
// served as Prefix+MenuName, and the page shows a button in its header
// that opens it. Without it, MenuName is an unknown name and the page
// shows no button. The page inserts the fragment as HTML: it is trusted
// as the configuration is. Its script elements are dropped, and the
// Content-Security-Policy (no inline script) is what keeps any other
// script in it, an event handler attribute or a javascript: link, from
// running; it blocks style attributes and elements too. Links work.
func Handler(menu []byte) http.Handler {
	fs := files
	if menu != nil {
		fs = maps.Clone(files)
		index := newFile("index.html", bytes.Replace(files["index.html"].content, []byte(noMenu), []byte(withMenu), 1))
		fs["index.html"], fs[""] = index, index
		fs[MenuName] = newFile(MenuName, bytes.Clone(menu))
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { serveFile(w, r, fs) })
}

func serveFile(w http.ResponseWriter, r *http.Request, files map[string]*file) {
	h := w.Header()
	h.Set("Content-Security-Policy", ContentSecurityPolicy)
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		h.Set("Allow", "GET, HEAD")
		jsonError(w, http.StatusMethodNotAllowed, "method "+r.Method+" not allowed for "+Prefix+" (allowed: GET, HEAD)")
		return
	}
	name, ok := strings.CutPrefix(r.URL.Path, Prefix)
	f := files[name]
	if !ok || f == nil {
		jsonError(w, http.StatusNotFound, "no such file: "+r.URL.Path)
		return
	}
	h.Set("Content-Type", f.contentType)
	h.Set("Cache-Control", "no-cache")
	h.Set("ETag", f.etag)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(f.content))
}

// jsonError answers {"error": msg} with status.
func jsonError(w http.ResponseWriter, status int, msg string) {
	b, _ := json.Marshal(map[string]string{"error": msg})
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}
