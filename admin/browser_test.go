package admin_test

// The harness of the browser tests: a real Chromium, headless, driven
// through the DevTools protocol (chromedp), against an httpprovider
// Server with the admin page, behind a real HTTP server. Every test
// checks its outcome in the database through the API, not only on the
// page, and fails on any JavaScript exception or console error of the
// page.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"transdb/httpprovider"
	"transdb/translation"
)

const token = "s3cret-admin-token"

// The browser, started once for the package by the first test that
// needs it, and stopped by TestMain.
var browser struct {
	once sync.Once
	ctx  context.Context // has the browser; tests open tabs under it
	stop func()
	err  error
}

// errNoChromium is browser.err when no Chromium is installed.
var errNoChromium = errors.New("chromium is not installed")

func TestMain(m *testing.M) {
	code := m.Run()
	if browser.stop != nil {
		browser.stop()
	}
	os.Exit(code)
}

// chromiumPath returns the Chromium to drive: $TRANSDB_CHROMIUM, else
// the Debian package's chromium on the PATH.
func chromiumPath() string {
	if p := os.Getenv("TRANSDB_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// newTab opens a browser tab for the test, starting the browser first if
// needed. Without Chromium the test is skipped, loudly, except in CI
// (CI=true), where the browser tests must run.
func newTab(t testing.TB) context.Context {
	t.Helper()
	browser.once.Do(func() {
		path := chromiumPath()
		if path == "" {
			browser.err = errNoChromium
			if os.Getenv("CI") != "true" {
				fmt.Fprintln(os.Stderr, "\n*** admin: chromium is not installed: the browser tests of the admin page are SKIPPED.\n"+
					"*** Install it (Debian: apt-get install chromium) or set TRANSDB_CHROMIUM to run them.")
			}
			return
		}
		opts := append(chromedp.DefaultExecAllocatorOptions[:],
			chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.WindowSize(1280, 800))
		actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
		bctx, cancelBrowser := chromedp.NewContext(actx)
		browser.stop = func() { cancelBrowser(); cancelAlloc() }
		browser.ctx = bctx
		browser.err = chromedp.Do(bctx) // starts the browser
	})
	switch {
	case browser.err == errNoChromium && os.Getenv("CI") == "true":
		t.Fatal("chromium is not installed, and CI must run the browser tests: .ci/run installs the Debian package chromium")
	case browser.err == errNoChromium:
		t.Skip("chromium is not installed: browser test skipped")
	case browser.err != nil:
		t.Fatalf("starting chromium: %v", browser.err)
	}
	ctx, cancel := chromedp.NewContext(browser.ctx)
	t.Cleanup(cancel)
	return ctx
}

// A page is the admin page in a browser tab, served by a server of its
// own over a database of its own.
type page struct {
	t   testing.TB
	ctx context.Context
	url string // of the server
	p   *translation.Provider

	mu      sync.Mutex
	errs    []string // exceptions and console errors of the page
	netErrs []string // the browser's own error log: failed requests and the like
}

// pageOptions say what the page's server serves.
type pageOptions struct {
	readOnly bool   // the provider is read-only
	noToken  bool   // no AdminToken: writes are disabled
	table    string // the table in the text format; default the example table
	extra    []translation.Record
	// other, when set, is the table of a second provider on the same
	// file, under the base key "other".
	other []translation.Record
	// menu, when set, is the HTML fragment of the page's menu.
	menu string
}

// insert inserts records through a new provider on path with the base key.
func insert(t testing.TB, path string, recs []translation.Record, baseKey ...string) {
	t.Helper()
	w, err := translation.New(translation.Options{FileName: path, BaseKey: baseKey})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Update(func(tx *translation.Txn) error {
		for _, r := range recs {
			if _, err := tx.Insert(r); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// exampleTable is the example table of Apache2::Translation.
func exampleTable(t testing.TB) string {
	b, err := os.ReadFile("../testdata/example.txt")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// openPage starts a server over a new database holding o's table and
// opens the admin page in a new tab, waiting until the block lists show.
func openPage(t testing.TB, o pageOptions) *page {
	t.Helper()
	tab := newTab(t)
	path := filepath.Join(t.TempDir(), "trans.mmdb")
	w, err := translation.New(translation.Options{FileName: path})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	table := o.table
	if table == "" {
		table = exampleTable(t)
	}
	if _, _, err := w.Load(strings.NewReader(table), translation.LoadOptions{}); err != nil {
		t.Fatal(err)
	}
	w.Stop()
	if len(o.extra) > 0 {
		insert(t, path, o.extra)
	}
	p, err := translation.New(translation.Options{FileName: path, ReadOnly: o.readOnly})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Stop() })
	providers := []*translation.Provider{p}
	if o.other != nil {
		insert(t, path, o.other, "other")
		other, err := translation.New(translation.Options{FileName: path, BaseKey: []string{"other"}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { other.Stop() })
		providers = append(providers, other)
	}
	opts := httpprovider.Options{
		Providers:      providers,
		AdminToken:     token,
		TranslationKey: "front",
		DocumentRoot:   "/var/www",
		Admin:          true,
		Flush:          true,
		VerifyInterval: -1,
	}
	if o.noToken {
		opts.AdminToken = ""
	}
	if o.menu != "" {
		opts.AdminMenu = []byte(o.menu)
	}
	srv, err := httpprovider.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		hs.Close()
		srv.Close()
	})
	ctx, cancel := context.WithTimeout(tab, 90*time.Second)
	t.Cleanup(cancel)
	pg := &page{t: t, ctx: ctx, url: hs.URL, p: p}
	if err := chromedp.Listen(tab, pg.listen); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if errs := pg.consoleErrors(); len(errs) > 0 {
			t.Errorf("the page had errors:\n%s", strings.Join(errs, "\n"))
		}
	})
	pg.do(chromedp.Navigate(hs.URL + "/admin/"))
	pg.waitFor(`document.querySelectorAll('.lists li').length > 0`, "the block lists")
	return pg
}

// listen records the page's exceptions and errors.
func (pg *page) listen(ev any) {
	pg.mu.Lock()
	defer pg.mu.Unlock()
	switch ev := ev.(type) {
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		msg := d.Text
		if d.Exception != nil && d.Exception.Description != "" {
			msg += " " + d.Exception.Description
		}
		pg.errs = append(pg.errs, fmt.Sprintf("exception: %s (%s:%d)", msg, d.URL, d.LineNumber+1))
	case *runtime.EventConsoleAPICalled:
		if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert {
			var args []string
			for _, a := range ev.Args {
				if len(a.Value) > 0 {
					args = append(args, string(a.Value))
				} else {
					args = append(args, a.Description)
				}
			}
			pg.errs = append(pg.errs, "console."+string(ev.Type)+": "+strings.Join(args, " "))
		}
	case *log.EventEntryAdded:
		if ev.Entry.Level == log.EntryLevelError {
			e := ev.Entry
			pg.netErrs = append(pg.netErrs, fmt.Sprintf("%s: %s %s", e.Source, e.Text, e.URL))
			// A policy violation is the page's fault, whatever else a
			// test provokes.
			if strings.Contains(e.Text, "Content Security Policy") {
				pg.errs = append(pg.errs, "csp: "+e.Text)
			}
		}
	}
}

func (pg *page) consoleErrors() []string {
	pg.mu.Lock()
	defer pg.mu.Unlock()
	return append([]string(nil), pg.errs...)
}

func (pg *page) browserErrors() []string {
	pg.mu.Lock()
	defer pg.mu.Unlock()
	return append([]string(nil), pg.netErrs...)
}

// do runs browser actions, failing the test on an error; an action
// waiting for an element that does not come fails after 15 seconds.
func (pg *page) do(actions ...chromedp.Action[chromedp.Void]) {
	pg.t.Helper()
	ctx, cancel := context.WithTimeout(pg.ctx, 15*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		pg.t.Fatalf("browser: %v", err)
	}
}

// eval evaluates a JavaScript expression in the page.
func eval[T any](pg *page, expr string) T {
	pg.t.Helper()
	v, err := chromedp.Run(pg.ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		pg.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// waitFor waits until the JavaScript expression is true. (chromedp's
// Poll builds its predicate with new Function, which the page's
// Content-Security-Policy forbids, as it should.)
func (pg *page) waitFor(expr, what string) {
	pg.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		ok, err := chromedp.Run(pg.ctx, chromedp.Evaluate[bool]("!!("+expr+")"))
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) || pg.ctx.Err() != nil {
			pg.t.Fatalf("waiting for %s (%s): %v; message: %q", what, expr, err, pg.text("#message"))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// click clicks the element the CSS selector finds.
func (pg *page) click(sel string) {
	pg.t.Helper()
	pg.do(chromedp.Click(chromedp.CSS(sel)))
}

// text returns the text of the first element the selector finds, ""
// when there is none.
func (pg *page) text(sel string) string {
	pg.t.Helper()
	return eval[string](pg, fmt.Sprintf(`(document.querySelector(%s) || {}).textContent || ''`, jsString(sel)))
}

// count returns the number of elements the selector finds.
func (pg *page) count(sel string) int {
	pg.t.Helper()
	return eval[int](pg, fmt.Sprintf(`document.querySelectorAll(%s).length`, jsString(sel)))
}

// visible reports whether the element the selector finds is shown.
func (pg *page) visible(sel string) bool {
	pg.t.Helper()
	return eval[bool](pg, fmt.Sprintf(`(() => { const e = document.querySelector(%s); return !!e && e.getClientRects().length > 0; })()`, jsString(sel)))
}

// typeText focuses the field the selector finds, selects its content and
// types text over it with key events, as a user does.
func (pg *page) typeText(sel, text string) {
	pg.t.Helper()
	pg.do(chromedp.Focus(chromedp.CSS(sel)),
		chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.querySelector(%s).select()`, jsString(sel))),
		chromedp.KeyEvent(text))
}

// key sends keys with modifiers to the focused element.
func (pg *page) key(keys string, mods ...chromedp.Modifier) {
	pg.t.Helper()
	pg.do(chromedp.KeyEvent(keys, chromedp.KeyModifiers(mods...)))
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// editor returns the CSS selector of the editor of key and uri.
func editor(key, uri string) string {
	return fmt.Sprintf(`.editor[data-key=%s][data-uri=%s]`, jsString(key), jsString(uri))
}

// listItem returns the CSS selector of the button of a list in the
// sections.
func listItem(key, uri string) string {
	return fmt.Sprintf(`.lists li[data-key=%s][data-uri=%s] button`, jsString(key), jsString(uri))
}

// A shownRow is a row of an editor as the page shows it.
type shownRow struct {
	ID      uint64   `json:"id"`
	Pos     string   `json:"pos"` // block.order
	Action  string   `json:"action"`
	Note    string   `json:"note"`
	Classes []string `json:"classes"`
	Finding string   `json:"finding"`
	Mark    string   `json:"mark"`
}

// rows returns the rows of an editor, in screen order.
func (pg *page) rows(sel string) []shownRow {
	pg.t.Helper()
	return eval[[]shownRow](pg, fmt.Sprintf(`Array.from(document.querySelectorAll(%s)).map((r) => ({
		id: Number(r.dataset.id || 0), pos: r.querySelector('.pos').textContent,
		action: r.querySelector('.action').value, note: r.querySelector('.note').value,
		classes: Array.from(r.classList), finding: r.querySelector('.finding').hidden ? '' : r.querySelector('.finding').textContent,
		mark: r.querySelector('.trace-mark').hidden ? '' : r.querySelector('.trace-mark').textContent}))`, jsString(sel+" .row")))
}

// openList clicks a list in the sections and waits for its editor.
func (pg *page) openList(key, uri string) string {
	pg.t.Helper()
	pg.click(listItem(key, uri))
	ed := editor(key, uri)
	pg.waitFor(fmt.Sprintf(`document.querySelector(%s + ' .loaded') && document.querySelector(%s + ' .loaded').textContent !== ''`,
		jsString(ed), jsString(ed)), "the editor of "+key+" "+uri)
	return ed
}

// editing opens a page, with the token tok set unless it is "", and the
// list of key and uri in an editor; it returns the page, the editor's
// selector, and the list's rows and generation as the API has them.
func editing(t *testing.T, tok, key, uri string) (*page, string, []storedRow, uint64) {
	t.Helper()
	pg := openPage(t, pageOptions{})
	if tok != "" {
		pg.setToken(tok)
	}
	ed := pg.openList(key, uri)
	rows, gen := pg.fetch(key, uri)
	return pg, ed, rows, gen
}

// setToken enters the AdminToken in the page.
func (pg *page) setToken(tok string) {
	pg.t.Helper()
	pg.typeText("#token", tok)
	pg.click(`#token-form button[type=submit]`)
	pg.waitFor(`!document.querySelector('#token-state').hidden`, "the token to be taken")
}

// A storedRow is a row as the API returns it.
type storedRow struct {
	Block  uint32  `json:"block"`
	Order  uint32  `json:"order"`
	Action string  `json:"action"`
	ID     uint64  `json:"id"`
	Note   *string `json:"note"`
}

// fetch returns the list of key and uri with its notes and the
// generation, through the API.
func (pg *page) fetch(key, uri string) ([]storedRow, uint64) {
	pg.t.Helper()
	var res struct {
		Generation uint64      `json:"generation"`
		Blocks     []storedRow `json:"blocks"`
	}
	pg.getJSON("/v1/fetch?notes=1&key="+url.QueryEscape(key)+"&uri="+url.QueryEscape(uri), &res)
	return res.Blocks, res.Generation
}

// getJSON gets a path of the API and decodes its body into v.
func (pg *page) getJSON(path string, v any) {
	pg.t.Helper()
	resp, err := http.Get(pg.url + path)
	if err != nil {
		pg.t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		pg.t.Fatalf("GET %s: %s", path, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		pg.t.Fatalf("GET %s: %v", path, err)
	}
}

// txn commits a txn body through the API, as another writer.
func (pg *page) txn(body string) uint64 {
	pg.t.Helper()
	req, err := http.NewRequest(http.MethodPost, pg.url+"/v1/txn", strings.NewReader(body))
	if err != nil {
		pg.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		pg.t.Fatal(err)
	}
	defer resp.Body.Close()
	var res struct {
		Generation uint64 `json:"generation"`
		Error      string `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&res); err != nil || resp.StatusCode != http.StatusOK {
		pg.t.Fatalf("txn: %s %s %v", resp.Status, res.Error, err)
	}
	return res.Generation
}

// summary returns stored rows as "block.order action [# note]" lines.
func summary(rows []storedRow) []string {
	out := []string{}
	for _, r := range rows {
		s := fmt.Sprintf("%d.%d %s", r.Block, r.Order, r.Action)
		if r.Note != nil {
			s += " # " + *r.Note
		}
		out = append(out, s)
	}
	return out
}

// shownSummary returns shown rows as summary does stored ones.
func shownSummary(rows []shownRow) []string {
	out := []string{}
	for _, r := range rows {
		s := r.Pos + " " + r.Action
		if r.Note != "" {
			s += " # " + r.Note
		}
		out = append(out, s)
	}
	return out
}

// watchFetch wraps the page's fetch: window.sent counts the requests
// sent by method, window.inflight those not answered yet, and POSTs wait
// delay before they go, to hold a save in flight.
func (pg *page) watchFetch(delay time.Duration) {
	pg.t.Helper()
	pg.do(evalVoid(fmt.Sprintf(`(() => {
		const f = window.fetch;
		window.sent = {};
		window.inflight = 0;
		window.fetch = async (u, i) => {
			const m = (i && i.method) || 'GET';
			window.sent[m] = (window.sent[m] || 0) + 1;
			window.inflight++;
			try {
				if (m === 'POST') await new Promise((r) => setTimeout(r, %d));
				return await f(u, i);
			} finally {
				window.inflight--;
			}
		};
	})()`, delay.Milliseconds())))
}

// evalVoid is an action that evaluates JavaScript for its effect.
func evalVoid(expr string) chromedp.Action[chromedp.Void] {
	return chromedp.Evaluate[chromedp.Void](expr)
}
