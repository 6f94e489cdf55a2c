package admin_test

import (
	"fmt"
	"net/url"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"transdb/translation"
)

// tryRequest fills in the form of "Try a request" (fields by name; an
// empty one is cleared) and waits for the decision.
func (pg *page) tryRequest(fields map[string]string) {
	pg.t.Helper()
	names := make([]string, 0, len(fields))
	for n := range fields {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		sel := fmt.Sprintf(`#try-form [name=%s]`, n)
		if fields[n] == "" {
			pg.typeText(sel, "\b")
		} else {
			pg.typeText(sel, fields[n])
		}
	}
	pg.do(evalVoid(`document.querySelector('#decision').replaceChildren()`))
	pg.click(`#try-form button[type=submit]`)
	pg.waitFor(`document.querySelector('#decision .outcome')`, "the decision")
}

// traceMarks returns the rows of the open editors that a trace marked:
// "key uri block.order" -> ran, cond-false or skipped.
func (pg *page) traceMarks() map[string]string {
	pg.t.Helper()
	return eval[map[string]string](pg, `Object.fromEntries(Array.from(document.querySelectorAll('.editor .row')).flatMap((r) => {
		const cls = ['ran', 'cond-false', 'skipped'].find((c) => r.classList.contains(c));
		const ed = r.closest('.editor');
		return cls ? [[ed.dataset.key + ' ' + ed.dataset.uri + ' ' + r.querySelector('.pos').textContent, cls]] : [];
	}))`)
}

// apiTrace returns what the API's trace says of each row, as traceMarks
// does for the page.
func (pg *page) apiTrace(query string) (map[string]string, map[string]any) {
	pg.t.Helper()
	var d map[string]any
	pg.getJSON("/v1/translate?trace=1&"+query, &d)
	marks := map[string]string{}
	rank := map[string]int{"skipped": 0, "cond-false": 1, "ran": 2}
	for _, s := range d["trace"].([]any) {
		step := s.(map[string]any)
		if step["id"].(float64) == 0 {
			continue
		}
		cls := "ran"
		if step["ran"] != true {
			cls = "skipped"
		} else if step["cond_false"] == true {
			cls = "cond-false"
		}
		k := fmt.Sprintf("%s %s %v.%v", step["key"], step["uri"], step["block"], step["order"])
		if old, ok := marks[k]; !ok || rank[cls] > rank[old] {
			marks[k] = cls
		}
	}
	return marks, d
}

func TestTryARequestShowsTheDecisionAndHighlightsItsTrace(t *testing.T) {
	pg := openPage(t, pageOptions{extra: []translation.Record{
		{Key: "front", URI: "/hdr", Action: "Cond: $HEADERS->{'X-Test'} eq 'yes'"},
		{Key: "front", URI: "/hdr", Order: 1, Action: "Proxy: 'http://hdr'.$URI"},
	}})
	for _, tt := range []struct {
		name    string
		fields  map[string]string
		query   url.Values
		outcome string
		lists   []string // the editors open after it, in order
	}{
		{"a file from the German docroot",
			map[string]string{"uri": "/static/img.png", "host": "www.xyz.de"},
			url.Values{"uri": {"/static/img.png"}, "host": {"www.xyz.de"}},
			"file /var/www/de/img.png",
			[]string{"front :PRE:", "front /static", "front /"}},
		{"a foreign host is redirected",
			map[string]string{"uri": "/x", "host": "www.example.org"},
			url.Values{"uri": {"/x"}, "host": {"www.example.org"}},
			"301 redirect to http://xyz.com/x",
			[]string{"front :PRE:", "front /static", "front /"}},
		{"the back key forbids other clients",
			map[string]string{"uri": "/appl1", "host": "", "key": "back", "client_ip": "10.1.2.3"},
			url.Values{"uri": {"/appl1"}, "key": {"back"}, "client_ip": {"10.1.2.3"}},
			"403 error: Forbidden by Apache2::Translation(11)",
			[]string{"front :PRE:", "front /static", "front /", "back :PRE:"}},
		{"headers reach the actions",
			map[string]string{"uri": "/hdr/a", "host": "www.xyz.com", "key": "", "client_ip": "", "headers": "X-Test: yes\nAccept: */*"},
			url.Values{"uri": {"/hdr/a"}, "host": {"www.xyz.com"}, "header": {"X-Test: yes", "Accept: */*"}},
			"proxy to http://hdr/hdr/a",
			[]string{"front :PRE:", "front /static", "front /", "back :PRE:", "front /hdr"}},
	} {
		pg.tryRequest(tt.fields)
		if got := pg.text("#decision .outcome"); got != tt.outcome {
			t.Errorf("%s: outcome %q, want %q", tt.name, got, tt.outcome)
		}
		want, d := pg.apiTrace(tt.query.Encode())
		if !strings.Contains(tt.outcome, fmt.Sprint(d["status"])) && d["status"].(float64) != 0 {
			t.Errorf("%s: the API decides status %v", tt.name, d["status"])
		}
		pg.waitFor(fmt.Sprintf(`document.querySelectorAll('.editor').length === %d`, len(tt.lists)), "the lists of the trace")
		open := eval[[]string](pg, `Array.from(document.querySelectorAll('.editor')).map((e) => e.dataset.key + ' ' + e.dataset.uri)`)
		if !reflect.DeepEqual(open, tt.lists) {
			t.Errorf("%s: open lists %q, want %q", tt.name, open, tt.lists)
		}
		// The lists load one after the other; the marks follow.
		deadline := time.Now().Add(10 * time.Second)
		for got := pg.traceMarks(); !reflect.DeepEqual(got, want); got = pg.traceMarks() {
			if time.Now().After(deadline) {
				t.Fatalf("%s: the page marks %v, the trace says %v", tt.name, got, want)
			}
			time.Sleep(20 * time.Millisecond)
		}
		if tt.name == "a file from the German docroot" {
			// The first Cond is false for xyz.de: it ran, the Redirect after
			// it was skipped.
			marks := pg.traceMarks()
			if marks["front :PRE: 0.0"] != "cond-false" || marks["front :PRE: 0.1"] != "skipped" || marks["front /static 0.0"] != "ran" {
				t.Errorf("marks %v", marks)
			}
			rows := pg.rows(editor("front", ":PRE:"))
			if !strings.Contains(rows[1].Mark, "skipped") || !strings.Contains(rows[2].Mark, "ran (step 3)") {
				t.Errorf("row marks %q, %q", rows[1].Mark, rows[2].Mark)
			}
		}
	}
	// A malformed request is the form's error, not a decision.
	pg.typeText(`#try-form [name=port]`, "99999")
	pg.click(`#try-form button[type=submit]`)
	pg.waitFor(`/cannot translate/.test(document.querySelector('#decision').textContent)`, "the error")
	pg.typeText(`#try-form [name=port]`, "\b")
	// Clear trace takes the marks away.
	pg.click(`#clear-trace`)
	if n := pg.count(".row.ran, .row.skipped, .row.cond-false"); n != 0 {
		t.Errorf("%d rows still marked", n)
	}
}
