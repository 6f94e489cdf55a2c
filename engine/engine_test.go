package engine_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"transdb/engine"
	"transdb/engine/expr"
	"transdb/translation"
)

// exampleTable is the example table of DESIGN section 10, from the
// Apache2::Translation documentation.
var exampleTable = []tableRow{
	`front | :PRE: | 0 | 0 | Cond: $HOSTNAME !~ /^(?:www\.)xyz\.(?:com|de)$/`,
	`front | :PRE: | 0 | 1 | Redirect: 'http://xyz.com'.$URI, 301`,
	`front | :PRE: | 1 | 0 | Do: $CTX{lang}='en'`,
	`front | :PRE: | 1 | 1 | Cond: $HOSTNAME =~ /de$/`,
	`front | :PRE: | 1 | 2 | Do: $CTX{lang}='de'`,
	`front | /static | 0 | 0 | File: $DOCROOT.'/'.$CTX{lang}.$MATCHED_PATH_INFO`,
	`front | /appl1 | 0 | 0 | Proxy: 'http://backend/'.$CTX{lang}.$URI`,
	`front | /appl2 | 0 | 0 | Proxy: 'http://backend/'.$URI.'?l='.$CTX{lang}`,
	`front | / | 0 | 0 | Config: ['AuthName "secret"'], ['AuthType Basic']`,
	`back | :PRE: | 0 | 0 | Cond: $r->connection->remote_ip ne '127.0.0.1'`,
	`back | :PRE: | 0 | 1 | Error: 403, 'Forbidden by Apache2::Translation(11)'`,
	`back | /appl1 | 0 | 0 | PerlHandler: 'My::Application1'`,
	`back | /appl2 | 0 | 0 | PerlHandler: 'My::Application2'`,
}

func exampleEngine(t testing.TB) *engine.Engine {
	return engine.New(newTable(t, exampleTable...), engine.Options{TranslationKey: "front", DocumentRoot: "/var/www"})
}

func TestExampleTable(t *testing.T) {
	e := exampleEngine(t)
	authConfig := [][2]string{{"/", `AuthName "secret"`}, {"/", "AuthType Basic"}}
	for _, tt := range []struct {
		name string
		req  engine.Request
		want engine.Decision // the fields compared: Status, Location, Message, Proxy, File, Handler, Config, MatchedURI, PathInfo, CTX
	}{
		{"a foreign host is redirected to xyz.com",
			engine.Request{URI: "/some/page", Host: "www.example.org"},
			engine.Decision{Status: 301, Location: "http://xyz.com/some/page", MatchedURI: "/some/page"}},
		{"a static file on www.xyz.de is served from the German docroot",
			engine.Request{URI: "/static/img.png", Host: "www.xyz.de"},
			engine.Decision{File: "/var/www/de/img.png", MatchedURI: "/static", PathInfo: "/img.png",
				Config: authConfig, CTX: []engine.Var{{Name: "lang", Value: "de"}}}},
		{"a static file on www.xyz.com is served from the English docroot",
			engine.Request{URI: "/static/a/b.css", Host: "www.xyz.com:8080", Port: 8080},
			engine.Decision{File: "/var/www/en/a/b.css", MatchedURI: "/static", PathInfo: "/a/b.css",
				Config: authConfig, CTX: []engine.Var{{Name: "lang", Value: "en"}}}},
		{"appl1 is proxied with the language",
			engine.Request{URI: "/appl1/x", Host: "www.xyz.de"},
			engine.Decision{Proxy: "http://backend/de/appl1/x", MatchedURI: "/appl1", PathInfo: "/x",
				Config: authConfig, CTX: []engine.Var{{Name: "lang", Value: "de"}}}},
		{"appl2 gets the language as a parameter",
			engine.Request{URI: "/appl2/y", Host: "www.xyz.com"},
			engine.Decision{Proxy: "http://backend//appl2/y?l=en", MatchedURI: "/appl2", PathInfo: "/y",
				Config: authConfig, CTX: []engine.Var{{Name: "lang", Value: "en"}}}},
		{"the back key refuses a client that is not local",
			engine.Request{URI: "/appl1/x", Host: "www.xyz.de", Key: "back", ClientIP: "192.0.2.7"},
			engine.Decision{Status: 403, Message: "Forbidden by Apache2::Translation(11)", MatchedURI: "/appl1/x"}},
		{"the back key serves a local client",
			engine.Request{URI: "/appl1/x", Host: "www.xyz.de", Key: "back", ClientIP: "127.0.0.1"},
			engine.Decision{Handler: "My::Application1", MatchedURI: "/appl1", PathInfo: "/x"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d := translate(t, e, tt.req)
			got := engine.Decision{Status: d.Status, Location: d.Location, Message: d.Message, Proxy: d.Proxy,
				File: d.File, Handler: d.Handler, Config: d.Config, MatchedURI: d.MatchedURI, PathInfo: d.PathInfo, CTX: d.CTX}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("decision\n %+v\nwant\n %+v", got, tt.want)
			}
			if len(d.Errors) != 0 {
				t.Errorf("errors %+v", d.Errors)
			}
		})
	}
}

func TestLimitsAnswer500(t *testing.T) {
	long := func(keyURI string, n int, action string) []tableRow {
		var rows []tableRow
		for i := range n {
			rows = append(rows, tableRow(fmt.Sprintf("%s | 0 | %d | %s", keyURI, i, action)))
		}
		return rows
	}
	for _, tt := range []struct {
		name string
		rows []tableRow
		opts engine.Options
		why  string
	}{
		{"endless Call", []tableRow{
			`default | / | 0 | 0 | Call: 'sub'`,
			`default | sub | 0 | 0 | Call: 'sub'`,
		}, engine.Options{}, "nested Calls"},
		{"keys switching back and forth in :PRE:", []tableRow{
			`default | :PRE: | 0 | 0 | Key: 'a'`,
			`a | :PRE: | 0 | 0 | Key: 'b'`,
			`b | :PRE: | 0 | 0 | Key: 'a'`,
		}, engine.Options{}, "state transitions"},
		{"a matched uri without a slash", []tableRow{
			`default | /x | 0 | 0 | Do: $MATCHED_URI='abc'`,
		}, engine.Options{}, "state transitions"},
		{"an unconditional State start", []tableRow{
			`default | :PRE: | 0 | 0 | State: 'start'`,
		}, engine.Options{}, "state transitions"},
		{"Restart in :PRE: of the configured key", []tableRow{
			`default | :PRE: | 0 | 0 | Restart: '/x'`,
			`default | /x | 0 | 0 | State: 'start'`,
		}, engine.Options{}, "state transitions"},
		// Upstream indexes its array of states with $STATE, and dies
		// when there is no state there.
		{"a state number too large", []tableRow{`default | / | 0 | 0 | Do: $STATE=1e300`}, engine.Options{}, `no state "1e+300"`},
		{"a state that is not a number", []tableRow{`default | / | 0 | 0 | Do: $STATE='nan'`}, engine.Options{}, `no state "nan"`},
		{"a state number past the states", []tableRow{`default | / | 0 | 0 | Do: $STATE=5`}, engine.Options{}, `no state "5"`},
		{"a negative state number", []tableRow{`default | / | 0 | 0 | Do: $STATE=-1`}, engine.Options{}, `no state "-1"`},
		// Rows skipped after a false Cond count: walking them takes time.
		{"a list longer than MaxRows", long("default | /x", 60, "Cond: 0"),
			engine.Options{MaxRows: 50}, "more than 50 rows walked"},
		{"lists longer than MaxRows together",
			append(long("default | :PRE:", 30, "Do: 1"), long("default | /x", 30, "Do: 1")...),
			engine.Options{MaxRows: 50}, "more than 50 rows walked"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := engine.New(newTable(t, tt.rows...), tt.opts)
			d := translate(t, e, get("/x"))
			if d.Status != 500 {
				t.Fatalf("status %d, want 500", d.Status)
			}
			if len(d.Errors) == 0 || !strings.Contains(d.Errors[len(d.Errors)-1].Error, tt.why) {
				t.Errorf("errors %+v, want one naming %q", d.Errors, tt.why)
			}
		})
	}
}

// TestLongURIsAreNoLoops: a walk over a uri of more segments than
// MaxSteps is the request's, not a loop of the table's: it ends as
// upstream's does, not with a 500. A table that loops still ends.
func TestLongURIsAreNoLoops(t *testing.T) {
	e := engine.New(newTable(t,
		`default | :PRE: | 0 | 0 | Do: $CTX{pre}=1`,
		`default | / | 0 | 0 | File: $DOCROOT.$MATCHED_PATH_INFO`,
	), engine.Options{DocumentRoot: "/var/www"})
	uri := strings.Repeat("/a", 1500)
	d := translate(t, e, get(uri))
	if d.Status != 0 || len(d.Errors) != 0 || d.File != "/var/www"+uri || d.MatchedURI != "/" {
		t.Errorf("a uri of 1,500 segments: status %d, errors %+v, file %.40q, matched %q", d.Status, d.Errors, d.File, d.MatchedURI)
	}
	// Restarting at the same long uri for ever: the allowance of the
	// uri's segments does not make the loop endless.
	e = engine.New(newTable(t,
		`default | / | 0 | 0 | Restart: $REAL_URI`,
	), engine.Options{})
	d = translate(t, e, get(uri))
	if d.Status != 500 || len(d.Errors) != 1 || !strings.Contains(d.Errors[0].Error, "more than 2500 state transitions") {
		t.Errorf("a Restart loop on a long uri: status %d, errors %+v", d.Status, d.Errors)
	}
}

// TestWhatATranslationKeepsIsBounded: %CTX entries, notes and
// configuration past engine.MaxKept bytes end the translation with a
// 500 that names the row (a value or directive left out would not be the
// table's); a replaced entry frees its room.
func TestWhatATranslationKeepsIsBounded(t *testing.T) {
	full := engine.MaxKept / 1000002 // %CTX entries of 1 MB that fit
	var big []tableRow
	for i := range full {
		big = append(big, tableRow(fmt.Sprintf(`default | / | 0 | %d | Do: $CTX{"k%d"} = 'x' x 1000000`, i, i)))
	}
	with := func(rows ...tableRow) []tableRow { return append(slices.Clone(big), rows...) }
	for _, tt := range []struct {
		name string
		rows []tableRow
	}{
		{"a %CTX entry", with(`default | / | 0 | 100 | Do: $CTX{more} = 'x' x 1000000`)},
		{"a note", with(`default | / | 0 | 100 | Do: $r->notes->add(n => 'x' x 1000000)`)},
		{"a configuration pair", with(`default | / | 0 | 100 | Config: 'y' x 1000000, 'AuthType Basic'`)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rows := append(tt.rows, `default | / | 0 | 101 | File: '/f'`)
			d := translate(t, engine.New(newTable(t, rows...), engine.Options{}), get("/x"))
			if d.Status != 500 || d.File != "" || len(d.Config) != 0 || len(d.Errors) != 1 {
				t.Fatalf("status %d, file %q, %d config pairs, %d errors: want the translation ended", d.Status, d.File, len(d.Config), len(d.Errors))
			}
			if e := d.Errors[0]; e.ID != uint64(full+1) || !strings.Contains(e.Error, fmt.Sprintf("would keep more than %d bytes", engine.MaxKept)) {
				t.Errorf("error of row %d: %.200s", e.ID, e.Error)
			}
		})
	}
	d := translate(t, engine.New(newTable(t, with(
		`default | / | 0 | 100 | Do: $CTX{k0} = 'small'`,
		`default | / | 0 | 101 | Do: $CTX{more} = 'x' x 1000000`,
		`default | / | 0 | 102 | File: '/f'`)...), engine.Options{}), get("/x"))
	if d.Status != 0 || d.File != "/f" || len(d.CTX) != full+1 || len(d.Errors) != 0 {
		t.Errorf("status %d, file %q, %d entries, %d errors: a replaced entry did not free its room", d.Status, d.File, len(d.CTX), len(d.Errors))
	}
}

// TestReportedErrorsAreBounded: a die message is cut at 4 KiB, and past
// engine.MaxKept the errors of later rows are left out, the first one
// left out saying so.
func TestReportedErrorsAreBounded(t *testing.T) {
	var rows []tableRow
	for i := range 16 {
		rows = append(rows, tableRow(fmt.Sprintf(`default | / | 0 | %d | Do: $CTX{"k%d"} = 'x' x 1000000`, i, i)))
	}
	for i := range 300 {
		rows = append(rows, tableRow(fmt.Sprintf(`default | / | 1 | %d | Do: die(('e' x 5000) . %d)`, i, i)))
	}
	rows = append(rows, `default | / | 2 | 0 | File: '/f'`)
	d := translate(t, engine.New(newTable(t, rows...), engine.Options{}), get("/x"))
	if d.File != "/f" || len(d.CTX) != 16 {
		t.Fatalf("file %q, %d %%CTX entries: the translation did not go on, or refused an entry", d.File, len(d.CTX))
	}
	if n := len(d.Errors); n < 100 || n >= 300 {
		t.Fatalf("%d errors reported, want some, not all 300", n)
	}
	for _, e := range d.Errors[:len(d.Errors)-1] {
		if len(e.Error) > 4<<10+3 || !strings.HasSuffix(e.Error, "...") {
			t.Fatalf("an error of %d bytes, %.40q...: want it cut at 4 KiB", len(e.Error), e.Error)
		}
	}
	if last := d.Errors[len(d.Errors)-1].Error; !strings.Contains(last, "the errors of later rows are left out") {
		t.Errorf("the last error %.100q does not say the rest are left out", last)
	}
}

// TestWorkIsBounded: the actions of one translation together build,
// compare and match at most engine.MaxWork bytes; the action that would
// pass it ends the translation with a 500, reported. 64 KiB of
// "'a' x 1e6," once built 7 GB in one action.
func TestWorkIsBounded(t *testing.T) {
	var rows []tableRow
	for i := range 100 {
		rows = append(rows, tableRow(fmt.Sprintf(`default | / | 0 | %d | Do: $CTX{x} = 'x' x 1000000`, i)))
	}
	rows = append(rows, `default | / | 0 | 100 | File: '/f'`)
	hostile := "Config: " + strings.Repeat("'a' x 1e6, ", (expr.MaxSource-8)/11)
	for _, tt := range []struct {
		name string
		rows []tableRow
		id   uint64 // of the row that passes the bound
	}{
		// Each row builds 1 MB and keeps it in %CTX: 2 MB of work.
		{"many rows", rows, engine.MaxWork/2_000_000 + 1},
		{"one row", []tableRow{tableRow("default | / | 0 | 0 | " + hostile), `default | / | 0 | 1 | File: '/f'`}, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d := translate(t, engine.New(newTable(t, tt.rows...), engine.Options{}), get("/x"))
			if d.Status != 500 || d.File != "" || len(d.Config) != 0 || len(d.Errors) != 1 {
				t.Fatalf("status %d, file %q, %d config entries, %d errors: want the translation ended", d.Status, d.File, len(d.Config), len(d.Errors))
			}
			if e := d.Errors[0]; e.ID != tt.id || !strings.Contains(e.Error, "would build, compare or match more than") {
				t.Errorf("error of row %d: %.200s; want row %d's work refused", e.ID, e.Error, tt.id)
			}
		})
	}
}

// TestLimitsFailClosed: a request whose data makes an action pass a
// bound on resources ends with a 500; it cannot make a Cond false and so
// skip the refusal it guards.
func TestLimitsFailClosed(t *testing.T) {
	var rows []tableRow
	for i := range 60 {
		rows = append(rows, tableRow(fmt.Sprintf(`default | :PRE: | %d | 0 | Cond: $URI =~ /\/legacy%d\/(\w+)\/(\w+)$/`, i, i)))
	}
	rows = append(rows, `default | :PRE: | 60 | 0 | Cond: $URI =~ /^\/private\/.*\.php$/`,
		`default | :PRE: | 60 | 1 | Error: 403`,
		`default | :PRE: | 61 | 0 | Cond: $URI x 100 eq 'x'`,
		`default | :PRE: | 61 | 1 | Error: 404`)
	e := engine.New(newTable(t, rows...), engine.Options{})
	if d := translate(t, e, get("/private/x.php")); d.Status != 403 {
		t.Fatalf("status %d for a short uri, want 403", d.Status)
	}
	for _, uri := range []string{
		"/private/" + strings.Repeat("a", 60_000) + ".php", // past MaxWork
		"/private/" + strings.Repeat("a", 20_000) + ".x",   // past MaxString
	} {
		d := translate(t, e, get(uri))
		if d.Status != 500 || len(d.Errors) != 1 {
			t.Errorf("a uri of %d bytes: status %d, %d errors; want 500", len(uri), d.Status, len(d.Errors))
		}
	}
}

// TestTraceIsBounded: a trace keeps at most engine.MaxKept bytes of
// steps, the last saying the rest are left out, and tracing does not
// change the decision.
func TestTraceIsBounded(t *testing.T) {
	const n = 160_000 // steps of 112 bytes: more than MaxKept
	rows := make([]tableRow, 0, n+1)
	for i := range n {
		rows = append(rows, tableRow(fmt.Sprintf("default | / | 0 | %d | Cond: 0", i)))
	}
	rows = append(rows, `default | / | 1 | 0 | File: '/f'`)
	e := engine.New(newTable(t, rows...), engine.Options{MaxRows: 200_000})
	req := get("/x")
	req.Trace = true
	d := translate(t, e, req)
	if d.File != "/f" || d.Status != 0 || len(d.Errors) != 0 {
		t.Fatalf("file %q, status %d, errors %+v: tracing changed the decision", d.File, d.Status, d.Errors)
	}
	if len(d.Trace) < n/2 || len(d.Trace) >= n {
		t.Fatalf("%d steps traced, want some, not all %d", len(d.Trace), n)
	}
	if last := d.Trace[len(d.Trace)-1]; !strings.Contains(last.Note, "trace cut") || last.ID != 0 {
		t.Errorf("the last step %+v does not say the rest are left out", last)
	}

	// Call names made anew for each step count: 990 names of 1 MiB
	// once kept 990 MiB alive through the trace.
	e = engine.New(newTable(t, `default | / | 0 | 0 | Call: 'x' x 1048576`,
		tableRow("default | "+strings.Repeat("x", 1<<20)+" | 0 | 0 | Call: 'x' x 1048576")),
		engine.Options{MaxCallDepth: 1000, MaxSteps: 10_000})
	d = translate(t, e, req)
	kept, cut := 0, false
	for _, s := range d.Trace {
		kept += len(s.Key) + len(s.URI) + len(s.Note)
		cut = cut || strings.Contains(s.Note, "trace cut")
	}
	if kept > engine.MaxKept || !cut {
		t.Errorf("%d steps keep %d bytes; want at most MaxKept, and the cut said", len(d.Trace), kept)
	}
}

func TestLimitIsReportedInTheTrace(t *testing.T) {
	e := engine.New(newTable(t, `default | / | 0 | 0 | Call: 'sub'`, `default | sub | 0 | 0 | Call: 'sub'`),
		engine.Options{MaxCallDepth: 5})
	req := get("/")
	req.Trace = true
	d := translate(t, e, req)
	last := d.Trace[len(d.Trace)-1]
	if d.Status != 500 || !strings.Contains(last.Note, "more than 5 nested Calls") {
		t.Fatalf("status %d, last trace step %+v", d.Status, last)
	}
	calls := 0
	for _, s := range d.Trace {
		if s.ID != 0 {
			calls++
		}
	}
	if calls != 6 { // the row of / and five nested ones
		t.Errorf("%d rows ran, want 6", calls)
	}
}

func TestTraceShowsSkippedRows(t *testing.T) {
	e := engine.New(newTable(t,
		`default | / | 0 | 0 | Cond: 0`,
		`default | / | 0 | 1 | Do: 1`,
		`default | / | 1 | 0 | Cond: 1`,
		`default | / | 1 | 1 | Do: 2`), engine.Options{})
	req := get("/")
	req.Trace = true
	d := translate(t, e, req)
	type step struct {
		order          uint32
		block          uint32
		ran, condFalse bool
	}
	var got []step
	for _, s := range d.Trace {
		got = append(got, step{s.Order, s.Block, s.Ran, s.CondFalse})
		if s.State != "PROC" || s.Key != "default" || s.URI != "/" {
			t.Errorf("step %+v: want state PROC, key default, uri /", s)
		}
	}
	want := []step{{0, 0, true, true}, {1, 0, false, false}, {0, 1, true, false}, {1, 1, true, false}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("trace %+v, want %+v", got, want)
	}
	if untraced := translate(t, e, get("/")); untraced.Trace != nil {
		t.Errorf("a request without trace got %d steps", len(untraced.Trace))
	}
}

func TestUnsupportedRowsAreReportedAndEvaluateToUndef(t *testing.T) {
	e := engine.New(newTable(t,
		`default | / | 0 | 0 | Do: $CTX{a}='before'`,
		`default | / | 0 | 1 | Do: require Foo; Foo::bar()`,
		`default | / | 0 | 2 | Cond: my $x = 1`,
		`default | / | 0 | 3 | Do: $CTX{a}='not reached: the Cond is undef'`,
		`default | / | 1 | 0 | File: $r->lookup_uri('/x')`,
		`default | / | 1 | 1 | Do: $CTX{b}='after'`,
		`default | / | 1 | 2 | Frobnicate: 1`,
	), engine.Options{})
	d := translate(t, e, get("/"))
	if a, _ := ctxValue(d, "a"); a != "before" {
		t.Errorf("CTX a = %q", a)
	}
	if b, _ := ctxValue(d, "b"); b != "after" {
		t.Errorf("CTX b = %q: the request did not go on", b)
	}
	if d.Status != 0 || d.File != "" {
		t.Errorf("status %d file %q", d.Status, d.File)
	}
	if len(d.Errors) != 4 {
		t.Fatalf("errors %+v, want four rows", d.Errors)
	}
	findings, err := e.Check()
	if err != nil {
		t.Fatal(err)
	}
	if len(findings) != 4 {
		t.Fatalf("Check found %+v, want four rows", findings)
	}
	for _, f := range findings[:3] {
		if !f.Unsupported {
			t.Errorf("finding %+v is not marked unsupported", f)
		}
	}
	if findings[3].Action != "Frobnicate: 1" || findings[3].Unsupported {
		t.Errorf("finding %+v, want the unknown action", findings[3])
	}
}

func TestTranslationsRunConcurrentlyOnOneVersion(t *testing.T) {
	p := newTable(t, exampleTable...)
	e := engine.New(p, engine.Options{TranslationKey: "front", DocumentRoot: "/var/www"})
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				host := "www.xyz.de"
				want := fmt.Sprintf("/var/www/de/%d-%d.png", g, i)
				if i%2 == 1 {
					host, want = "www.xyz.com", fmt.Sprintf("/var/www/en/%d-%d.png", g, i)
				}
				d, err := e.Translate(context.Background(), engine.Request{URI: fmt.Sprintf("/static/%d-%d.png", g, i), Host: host})
				if err != nil {
					errs <- err
					return
				}
				if d.File != want {
					errs <- fmt.Errorf("file %q, want %q", d.File, want)
					return
				}
			}
		}()
	}
	// Commits switch versions meanwhile; each translation sees one.
	for i := range 5 {
		if _, err := p.Update(func(tx *translation.Txn) error {
			_, err := tx.Insert(translation.Record{Key: "front", URI: fmt.Sprintf("/other%d", i), Action: "Do: 1"})
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestEveryTranslationSeesOneVersion(t *testing.T) {
	// The decision's generation is the version of every list it read.
	p := newTable(t, `default | / | 0 | 0 | Do: $CTX{v}='1'`)
	e := engine.New(p, engine.Options{})
	s, err := p.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Release()
	if _, err := p.Update(func(tx *translation.Txn) error {
		if _, err := tx.Clear(); err != nil {
			return err
		}
		_, err := tx.Insert(translation.Record{Key: "default", URI: "/", Action: "Do: $CTX{v}='2'"})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	old, err := e.TranslateIn(context.Background(), s, get("/"))
	if err != nil {
		t.Fatal(err)
	}
	cur := translate(t, e, get("/"))
	if v, _ := ctxValue(old, "v"); v != "1" || old.Generation != 1 {
		t.Errorf("pinned snapshot: v=%q generation %d", v, old.Generation)
	}
	if v, _ := ctxValue(cur, "v"); v != "2" || cur.Generation != 2 {
		t.Errorf("newest version: v=%q generation %d", v, cur.Generation)
	}
}

func TestCanceledContextGivesNoDecision(t *testing.T) {
	e := exampleEngine(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := e.Translate(ctx, engine.Request{URI: "/"}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Translate with a canceled context: %v", err)
	}
}

func TestActionKeywords(t *testing.T) {
	for _, tt := range []struct {
		action string
		ctx    string // %CTX{x} after the row ran, "" when it did not set it
	}{
		{`Do: $CTX{x}='do'`, "do"},
		{`DO: $CTX{x}='upper'`, "upper"},
		{`$CTX{x}='bare code'`, "bare code"},
		{`Do : $CTX{x}='no argument'`, ""},
		{`Cond: 1`, ""},
		{`Do extra words: $CTX{x}='ignored'`, ""},
	} {
		t.Run(tt.action, func(t *testing.T) {
			e := engine.New(newTable(t, tableRow(`default | / | 0 | 0 | `+tt.action)), engine.Options{})
			d := translate(t, e, get("/"))
			if got, _ := ctxValue(d, "x"); got != tt.ctx {
				t.Errorf("CTX x = %q, want %q", got, tt.ctx)
			}
		})
	}
}

func TestRestart(t *testing.T) {
	e := engine.New(newTable(t,
		`default | :PRE: | 0 | 0 | Do: $r->notes->{t}.=' pre:'.$KEY`,
		`default | /old | 0 | 0 | Restart: '/new//path', 'k2', '/pi'`,
		`k2 | :PRE: | 0 | 0 | Do: $r->notes->{t}.=' pre:'.$KEY`,
		`k2 | /new/path | 0 | 0 | Do: $r->notes->{t}.=' '.$MATCHED_URI.'|'.$MATCHED_PATH_INFO.'|'.$URI`,
		`k2 | /new/path | 0 | 1 | Done`,
		`default | /bad | 0 | 0 | Restart: 'bad'`,
	), engine.Options{})
	d := translate(t, e, get("/old"))
	if got := note(d, "t"); !reflect.DeepEqual(got, []string{" pre:default pre:k2 /new/path|/pi|/new//path"}) {
		t.Errorf("note t %q", got)
	}
	if d.URI != "/new//path" || d.Key != "k2" {
		t.Errorf("uri %q key %q", d.URI, d.Key)
	}
	if d := translate(t, e, get("/bad")); d.Status != 400 {
		t.Errorf("Restart to a bad uri: status %d, want 400", d.Status)
	}
}

func TestRedirectLocations(t *testing.T) {
	for _, tt := range []struct {
		req      engine.Request
		action   string
		status   int
		location string
	}{
		{engine.Request{URI: "/redr/1", Host: "h.example"}, `Redirect: 'otto/1'`, 302, "http://h.example/redr/otto/1"},
		{engine.Request{URI: "/redr/1", Host: "h.example:8080", Port: 8080}, `Redirect: '/abs'`, 302, "http://h.example:8080/abs"},
		{engine.Request{URI: "/redr/1", Host: "h.example", Scheme: "https"}, `Redirect: '/abs', 307`, 307, "https://h.example/abs"},
		{engine.Request{URI: "/redr/1", Host: "h.example", Scheme: "https", Port: 8443}, `Redirect: '/abs', 301`, 301, "https://h.example:8443/abs"},
		{engine.Request{URI: "/redr/1", Host: "h.example"}, `Redirect: 'ftp://elsewhere/x'`, 302, "ftp://elsewhere/x"},
		{engine.Request{URI: "/redr/1", Host: "h.example"}, `Redirect: '/x', 404`, 404, ""},
		{engine.Request{URI: "/redr/1", Header: []engine.Header{{Name: "host", Value: "from.header:81"}}, Port: 81},
			`Redirect: '/x'`, 302, "http://from.header:81/x"},
	} {
		t.Run(tt.action, func(t *testing.T) {
			e := engine.New(newTable(t, tableRow(`default | /redr | 0 | 0 | `+tt.action)), engine.Options{})
			d := translate(t, e, tt.req)
			if d.Status != tt.status || d.Location != tt.location {
				t.Errorf("status %d location %q, want %d %q", d.Status, d.Location, tt.status, tt.location)
			}
		})
	}
}

func TestInvalidStatusCodes(t *testing.T) {
	// A code that is no HTTP status becomes 500 with a row error naming
	// it: the decision never carries a status a proxy cannot send.
	for _, tt := range []struct {
		action string
		status int
		err    string
	}{
		{`Error: 1`, 500, "Action ERROR: status 1 is not an HTTP status of an answer (200-999)"},
		{`Error: -404, 'no'`, 500, "Action ERROR: status -404 is not an HTTP status of an answer (200-999)"},
		{`Error: 1e300`, 500, "Action ERROR: status 1e+300 is not an HTTP status of an answer (200-999)"},
		{`Error: 'abc'`, 500, ""}, // not a number: 0, the default
		{`Error: 999`, 999, ""},
		{`Redirect: '/x', 1000`, 500, "Action REDIRECT: status 1000 is not an HTTP status of an answer (200-999)"},
		{`Error: 103`, 500, "Action ERROR: status 103 is not an HTTP status of an answer (200-999)"},
		{`Error: 204`, 204, ""},
		{`Redirect: '/x', 99`, 500, "Action REDIRECT: status 99 is not an HTTP status of an answer (200-999)"},
	} {
		t.Run(tt.action, func(t *testing.T) {
			e := engine.New(newTable(t, tableRow(`default | / | 0 | 0 | `+tt.action)), engine.Options{})
			d := translate(t, e, get("/"))
			if d.Status != tt.status || d.Location != "" {
				t.Errorf("status %d location %q, want %d and none", d.Status, d.Location, tt.status)
			}
			var errs []string
			for _, re := range d.Errors {
				errs = append(errs, re.Error)
			}
			if tt.err == "" && len(errs) != 0 || tt.err != "" && !reflect.DeepEqual(errs, []string{tt.err}) {
				t.Errorf("errors %q, want %q", errs, tt.err)
			}
			// A Redirect's 500 says why; an Error's keeps its message.
			if strings.HasPrefix(tt.action, "Redirect") && d.Message != tt.err {
				t.Errorf("message %q, want %q", d.Message, tt.err)
			}
		})
	}
}

func TestQuirkDoneInDoneStartsOver(t *testing.T) {
	// Q3: Done when the state is already DONE sets it to START: the
	// translation starts over, with the configured key.
	e := engine.New(newTable(t,
		`default | :PRE: | 0 | 0 | Do: $r->notes->{t}.=' pre'`,
		`default | / | 0 | 0 | Cond: !$CTX{again}`,
		`default | / | 0 | 1 | Do: $CTX{again}=1`,
		`default | / | 0 | 2 | State: 'done'`,
		`default | / | 0 | 3 | Done`,
	), engine.Options{})
	d := translate(t, e, get("/"))
	if got := note(d, "t"); !reflect.DeepEqual(got, []string{" pre pre"}) {
		t.Errorf("note t %q, want :PRE: run twice", got)
	}
}

func TestDocWithOneElementIsPlainText(t *testing.T) {
	e := engine.New(newTable(t, `default | / | 0 | 0 | Doc: "hello"`), engine.Options{})
	d := translate(t, e, get("/"))
	if d.Doc == nil || *d.Doc != (engine.Doc{ContentType: "text/plain", Body: "hello"}) {
		t.Errorf("doc %+v", d.Doc)
	}
}

func TestRCStatus(t *testing.T) {
	for _, tt := range []struct {
		rc     string
		status int
	}{
		{"403", 403},
		{"0", 0},     // OK: proceed
		{"1", 0},     // no status: as before, ignored
		{"103", 500}, // interim: no answer, and not one to proceed on
	} {
		e := engine.New(newTable(t, tableRow(`default | / | 0 | 0 | Do: $RC=`+tt.rc)), engine.Options{})
		if d := translate(t, e, get("/")); d.Status != tt.status {
			t.Errorf("$RC=%s: status %d, want %d", tt.rc, d.Status, tt.status)
		}
	}
}

func TestQuirks(t *testing.T) {
	for _, tt := range []struct {
		name string
		rows []tableRow
		uri  string
		t    string // note t at the end
	}{
		{"Q2 a Cond after white space is code, not a Cond", []tableRow{
			`default | / | 0 | 0 | Do: $r->notes->{t}.=' a'`,
			`default | / | 0 | 1 |   Cond: 0`,
			`default | / | 0 | 2 | Do: $r->notes->{t}.=' b'`,
		}, "/", " a b"},
		{"Q4 a Call of an empty list moves PREPROC on despite a new key", []tableRow{
			`default | :PRE: | 0 | 0 | Key: 'other'`,
			`default | :PRE: | 0 | 1 | Call: 'nothing'`,
			`other | :PRE: | 0 | 0 | Do: $r->notes->{t}.=' other-pre'`,
			`other | / | 0 | 0 | Do: $r->notes->{t}.=' other-/'`,
		}, "/", " other-/"},
		{"Q5 Done in a called list ends only that list", []tableRow{
			`default | / | 0 | 0 | Call: 'sub'`,
			`default | / | 0 | 1 | Do: $r->notes->{t}.=' after'`,
			`default | sub | 0 | 0 | Do: $r->notes->{t}.=' sub'`,
			`default | sub | 0 | 1 | Done`,
			`default | sub | 0 | 2 | Do: $r->notes->{t}.=' not'`,
		}, "/", " sub after"},
		// Restart leads into PREPROC: the configured key's :PRE: runs again.
		{"Q6 Restart without a key goes back to the configured key", []tableRow{
			`default | :PRE: | 0 | 0 | Do: $r->notes->{t}.=' pre-'.$KEY`,
			`default | :PRE: | 0 | 1 | Cond: $KEY eq 'default' && !$CTX{once}`,
			`default | :PRE: | 0 | 2 | Do: $CTX{once}=1; $KEY='k'`,
			`k | :PRE: | 0 | 0 | Do: $r->notes->{t}.=' pre-'.$KEY`,
			`k | /x | 0 | 0 | Restart: '/y'`,
			`default | /y | 0 | 0 | Do: $r->notes->{t}.=' y-'.$KEY`,
		}, "/x", " pre-default pre-k pre-default y-default"},
		{"Q8 an unknown action counts as executed", []tableRow{
			`default | :PRE: | 0 | 0 | Frobnicate`,
			`default | :PRE: | 0 | 1 | Key: 'k'`,
			`k | :PRE: | 0 | 0 | Do: $r->notes->{t}.=' k-pre'`,
		}, "/", " k-pre"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := engine.New(newTable(t, tt.rows...), engine.Options{})
			d := translate(t, e, get(tt.uri))
			got := note(d, "t")
			if len(got) != 1 || got[0] != tt.t {
				t.Errorf("note t %q, want %q", got, tt.t)
			}
			if d.Status != 0 {
				t.Errorf("status %d", d.Status)
			}
		})
	}
}

func TestQuirk7FirstProxyWins(t *testing.T) {
	e := engine.New(newTable(t,
		`default | /a | 0 | 0 | Proxy: 'http://first/'`,
		`default | / | 0 | 0 | Proxy: 'http://second/'`,
		`default | / | 0 | 1 | PerlHandler: 'First'`,
		`default | / | 0 | 2 | PerlHandler: 'Second'`), engine.Options{})
	d := translate(t, e, get("/a/b"))
	if d.Proxy != "http://first/" || d.Handler != "First" || d.MatchedURI != "/a" || d.PathInfo != "/b" {
		t.Errorf("proxy %q handler %q matched %q %q", d.Proxy, d.Handler, d.MatchedURI, d.PathInfo)
	}
}

func TestCheckInRestrictsTheRowsToAKeyOrAList(t *testing.T) {
	p := newTable(t,
		`a | / | 0 | 0 | Do: my $x = 1`,
		`a | / | 0 | 1 | Done`,
		`a | /x | 0 | 0 | Frobnicate: 1`,
		`b | / | 0 | 0 | Cond: (`,
	)
	e := engine.New(p, engine.Options{})
	s, err := p.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Release()
	for _, tt := range []struct {
		key, uri string
		want     []string // the actions found
	}{
		{"", "", []string{"Do: my $x = 1", "Frobnicate: 1", "Cond: ("}},
		{"a", "", []string{"Do: my $x = 1", "Frobnicate: 1"}},
		{"a", "/x", []string{"Frobnicate: 1"}},
		{"b", "/", []string{"Cond: ("}},
		{"b", "/x", []string{}},
		{"c", "", []string{}},
	} {
		findings, err := e.CheckIn(s, tt.key, tt.uri)
		if err != nil {
			t.Fatalf("CheckIn(%q, %q): %v", tt.key, tt.uri, err)
		}
		got := []string{}
		for _, f := range findings {
			got = append(got, f.Action)
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("CheckIn(%q, %q) found %q, want %q", tt.key, tt.uri, got, tt.want)
		}
	}
	if _, err := e.CheckIn(s, "", "/"); err == nil {
		t.Error("CheckIn with a uri and no key: no error")
	}
}

// TestManyEntriesAndNotes: %CTX and the notes are found by name through
// a map once they are long (a table making thousands of them was
// quadratic); the decision keeps them in the order they were made.
func TestManyEntriesAndNotes(t *testing.T) {
	var rows []tableRow
	for i := range 100 {
		rows = append(rows, tableRow(fmt.Sprintf(`default | / | 0 | %d | Do: $CTX{"k%d"} = %d; $r->notes->{"n%d"} = %d`, i, i, i, i, i)))
	}
	rows = append(rows,
		`default | / | 0 | 100 | Do: $CTX{k50} .= 'x'; $r->notes->add('n7', 'y')`,
		`default | / | 0 | 101 | Do: $CTX{sum} = $CTX{k50} . $CTX{k99} . $r->notes->{n70} . $r->notes->{n7}`)
	d := translate(t, engine.New(newTable(t, rows...), engine.Options{}), get("/x"))
	if len(d.CTX) != 101 || d.CTX[0].Name != "k0" || d.CTX[100] != (engine.Var{Name: "sum", Value: "50x99707"}) {
		t.Fatalf("%d entries, first %+v, last %+v", len(d.CTX), d.CTX[0], d.CTX[len(d.CTX)-1])
	}
	if d.CTX[50].Value != "50x" || len(d.Notes) != 100 || d.Notes[7].Name != "n7" || len(d.Notes[7].Values) != 2 {
		t.Errorf("k50 %+v, %d notes, n7 %+v", d.CTX[50], len(d.Notes), d.Notes[7])
	}
}

// TestReadsAndFetchesCountAsWork: $REQUEST is made anew at each read,
// and a fetch hashes its key: both count against engine.MaxWork.
func TestReadsAndFetchesCountAsWork(t *testing.T) {
	var rows []tableRow
	for i := range 1200 {
		rows = append(rows, tableRow(fmt.Sprintf(`default | :PRE: | 0 | %d | Do: length($REQUEST)`, i)))
	}
	e := engine.New(newTable(t, rows...), engine.Options{})
	if d := translate(t, e, get("/x")); d.Status != 0 || len(d.Errors) != 0 {
		t.Fatalf("a short uri: status %d, %d errors", d.Status, len(d.Errors))
	}
	d := translate(t, e, get("/"+strings.Repeat("a", 60_000)))
	if d.Status != 500 || len(d.Errors) != 1 || !strings.Contains(d.Errors[0].Error, "would build, compare or match") {
		t.Errorf("a uri of 60 KB read 1,200 times: status %d, %d errors", d.Status, len(d.Errors))
	}

	// Calls of a 1 MB name: each fetch hashes it.
	rows = []tableRow{`default | :PRE: | 0 | 0 | Do: $CTX{big} = 'k' x 1000000`}
	for i := range 70 {
		rows = append(rows, tableRow(fmt.Sprintf(`default | :PRE: | 0 | %d | Call: $CTX{big}`, i+1)))
	}
	d = translate(t, engine.New(newTable(t, rows...), engine.Options{}), get("/x"))
	if d.Status != 500 || len(d.Errors) != 1 || !strings.Contains(d.Errors[0].Error, "would build, compare or match") {
		t.Errorf("70 Calls of a 1 MB name: status %d, %d errors", d.Status, len(d.Errors))
	}
}

// A version written over the table's file in place, its size and time
// kept, is translated with its own actions, not with those compiled from
// the version it replaced at the same place in the mapping.
func TestAFileWrittenOverInPlaceIsTranslatedAsItIsNow(t *testing.T) {
	p := newTable(t, `default | :PRE: | 0 | 0 | Do: $CTX{v}='A'`)
	other := newTable(t, `default | :PRE: | 0 | 0 | Do: $CTX{v}='B'`)
	e := engine.New(p, engine.Options{})
	if v, _ := ctxValue(translate(t, e, get("/x")), "v"); v != "A" {
		t.Fatalf("before: v=%q", v)
	}
	b, err := os.ReadFile(other.Path())
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(p.Path())
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() != int64(len(b)) {
		t.Fatalf("the two files have %d and %d bytes, want the same size", fi.Size(), len(b))
	}
	f, err := os.OpenFile(p.Path(), os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	// Header first, as rsync --inplace writes it, with a translation
	// between the header and the body (where the texts differ): the
	// compiled actions must not be kept for a mapping that changes.
	a, err := os.ReadFile(p.Path())
	if err != nil {
		t.Fatal(err)
	}
	cut := 256
	for cut < len(b) && b[cut] == a[cut] {
		cut++
	}
	if _, err := f.WriteAt(b[:cut], 0); err != nil {
		t.Fatal(err)
	}
	translate(t, e, get("/x"))
	if _, err := f.WriteAt(b[cut:], int64(cut)); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(p.Path(), fi.ModTime(), fi.ModTime()); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond) // past the pause after a failed switch
	if v, _ := ctxValue(translate(t, e, get("/x")), "v"); v != "B" {
		t.Errorf("after: v=%q, want B", v)
	}
}

// TestRowsRunCountAsWork: a row run costs its text's length many times
// over, what compiling it takes, whether or not the cache holds it; so a
// table of long chains of arithmetic, which build no strings, cannot make
// a translation compile or evaluate for seconds, and its decision is the
// same with a cold cache and a warm one.
func TestRowsRunCountAsWork(t *testing.T) {
	long := "Do: 0" + strings.Repeat("+$DEBUG", 9000) // 63 KB: 4 MB of work a run
	var rows []tableRow
	for i := range 20 {
		rows = append(rows, tableRow(fmt.Sprintf(`default | H | 0 | %d | %s`, i, long)))
	}
	for i := range 1000 {
		rows = append(rows, tableRow(fmt.Sprintf(`default | / | 0 | %d | Call: 'H'`, i)))
	}
	e := engine.New(newTable(t, rows...), engine.Options{})
	var first *engine.Decision
	for run := range 2 {
		d := translate(t, e, get("/x"))
		if d.Status != 500 || len(d.Errors) != 1 || !strings.Contains(d.Errors[0].Error, "would build, compare or match") {
			t.Fatalf("run %d: status %d, errors %+v; want the work bound to end it", run, d.Status, d.Errors)
		}
		// 64 MiB of work are 16 runs of the long row: the 17th, the
		// first Call's 17th row, passes it.
		if id := d.Errors[0].ID; id != 17 {
			t.Errorf("run %d: row %d passed the bound, want 17", run, id)
		}
		if run == 0 {
			first = d
		} else if d.Status != first.Status || d.Message != first.Message || d.Rows != first.Rows {
			t.Errorf("with the cache warm: %d %q %d rows; cold: %d %q %d rows", d.Status, d.Message, d.Rows, first.Status, first.Message, first.Rows)
		}
	}
	// Rows of the usual length run by the ten thousand.
	var small []tableRow
	for i := range 50 {
		small = append(small, tableRow(fmt.Sprintf(`default | H | 0 | %d | Do: $CTX{n} += 1`, i)))
	}
	for i := range 200 {
		small = append(small, tableRow(fmt.Sprintf(`default | / | 0 | %d | Call: 'H'`, i)))
	}
	d := translate(t, engine.New(newTable(t, small...), engine.Options{}), get("/x"))
	if d.Status != 0 || len(d.Errors) != 0 || len(d.CTX) != 1 || d.CTX[0].Value != "10000" {
		t.Errorf("10,000 runs of a short row: status %d, errors %+v, ctx %+v", d.Status, d.Errors, d.CTX)
	}
}

// TestKeptVariablesAreBounded: $DEBUG and $RC keep what they are given,
// as %CTX does, and count against engine.MaxKept: an array holding the
// last one, made anew at each run, once grew to gigabytes.
func TestKeptVariablesAreBounded(t *testing.T) {
	for _, v := range []string{"$DEBUG", "$RC", "$CTX{d}"} {
		t.Run(v, func(t *testing.T) {
			var rows []tableRow
			for i := range 50 {
				rows = append(rows, tableRow(fmt.Sprintf(`default | H | 0 | %d | Do: %s = [%s]`, i, v, v)))
			}
			for i := range 900 {
				rows = append(rows, tableRow(fmt.Sprintf(`default | / | 0 | %d | Call: 'H'`, i)))
			}
			d := translate(t, engine.New(newTable(t, rows...), engine.Options{}), get("/x"))
			if d.Status != 500 || len(d.Errors) != 1 || !strings.Contains(d.Errors[0].Error, "more than") {
				t.Fatalf("status %d, errors %+v: want a bound to end it", d.Status, d.Errors)
			}
			if d.Rows > 10_000 {
				t.Errorf("%d rows walked before the bound, want a few thousand", d.Rows)
			}
		})
	}
}

// TestReportedActionsAreCut: the action of a reported error is cut at
// 4 KiB, as its message is: each decision repeats it, and a row that
// does not compile may be as long as the database holds.
func TestReportedActionsAreCut(t *testing.T) {
	action := "Do: " + strings.Repeat("1;", 100_000) // past expr.MaxSource
	d := translate(t, engine.New(newTable(t, tableRow("default | / | 0 | 0 | "+action)), engine.Options{}), get("/x"))
	if len(d.Errors) != 1 {
		t.Fatalf("errors %d, want 1", len(d.Errors))
	}
	if a := d.Errors[0].Action; len(a) != 4<<10+3 || !strings.HasPrefix(action, strings.TrimSuffix(a, "...")) {
		t.Errorf("action of %d bytes, %.20q..., want the action's first 4 KiB and ...", len(a), a)
	}
}
