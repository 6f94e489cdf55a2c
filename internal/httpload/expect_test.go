package httpload

import (
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"transdb/httpprovider"
	"transdb/translation"
	"transdb/translation/transgen"
)

func TestExpectedAcceptsTheBodyAtAnyGenerationOfItsHeader(t *testing.T) {
	body := `{"key":"k","uri":"/u","generation":12,"blocks":[{"block":0,"order":0,"action":"a","id":3}]}` + "\n"
	e, err := CutGeneration([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	at := func(gen string) string { return strings.Replace(body, ":12,", ":"+gen+",", 1) }
	for _, tc := range []struct {
		name, gen, body string
		status          int
		ok              bool
	}{
		{"the same", "12", body, 200, true},
		{"a later generation", "1234", at("1234"), 200, true},
		{"header and body differ", "13", body, 200, false},
		{"no header", "", body, 200, false},
		{"other blocks", "12", strings.Replace(body, `"a"`, `"b"`, 1), 200, false},
		{"cut short", "12", body[:len(body)-2], 200, false},
		{"an error", "12", body, 500, false},
	} {
		r := Response{Status: tc.status, Body: []byte(tc.body)}
		if tc.gen != "" {
			r.Generation = []byte(tc.gen)
		}
		if err := e.Check(r); (err == nil) != tc.ok {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
	if got := e.Body(1234); string(got) != at("1234") {
		t.Errorf("Body(1234) = %q, want %q", got, at("1234"))
	}
	if _, err := CutGeneration([]byte(`{"error":"x"}`)); err == nil {
		t.Error("a body without generation is cut")
	}
}

// serveTable serves rows (and the switch marker, committed by the
// returned Switcher) with httpprovider, and returns its address.
func serveTable(t *testing.T, rows []transgen.Row) (string, *Switcher) {
	t.Helper()
	p, err := translation.New(translation.Options{FileName: filepath.Join(t.TempDir(), "t.mmdb"), BaseKey: []string{"trans", "db"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Stop() })
	if err := InsertRows(p, rows); err != nil {
		t.Fatal(err)
	}
	sw, err := NewSwitcher(p)
	if err != nil {
		t.Fatal(err)
	}
	h, err := httpprovider.New(httpprovider.Options{Providers: []*translation.Provider{p}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String(), sw
}

func TestTableChecksTheAnswersOfTransdb(t *testing.T) {
	rows := transgen.Generate(800, 3)
	addr, _ := serveTable(t, rows)
	c, err := Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	table := NewTable(rows)
	hits, misses := transgen.Probes(rows, 100, 3)
	for _, pr := range append(hits, misses...) {
		r, err := c.Get(FetchTarget(pr[0], pr[1]))
		if err != nil || r.Status != http.StatusOK {
			t.Fatal(r.Status, err)
		}
		if err := table.CheckFetch(r.Body, pr[0], pr[1], 1); err != nil {
			t.Error(err)
		}
		if err := table.CheckFetch(r.Body, pr[0], pr[1], 2); err == nil {
			t.Error("the wrong generation passes")
		}
		uri := strings.TrimSuffix(pr[1], "/") + "/x/index.html"
		if pr[1] == translation.PreURI {
			uri = "/x/index.html"
		}
		r, err = c.Get(ResolveTarget(pr[0], uri))
		if err != nil || r.Status != http.StatusOK {
			t.Fatal(r.Status, err)
		}
		if err := table.CheckResolve(r.Body, pr[0], uri, 1); err != nil {
			t.Error(err)
		}
	}
	// A table that differs in one action is noticed.
	pr := hits[0]
	r, err := c.Get(FetchTarget(pr[0], pr[1]))
	if err != nil {
		t.Fatal(err)
	}
	other := NewTable(rows)
	list := append([]transgen.Row(nil), other[pr]...)
	list[0].Action += "!"
	other[pr] = list
	if err := other.CheckFetch(r.Body, pr[0], pr[1], 1); err == nil {
		t.Error("a changed action passes")
	}
}

func TestSwitcherMarkerNamesTheGenerationOfEachVersion(t *testing.T) {
	addr, sw := serveTable(t, transgen.Generate(100, 1))
	c, err := Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fetch := FetchTarget(SwitchKey, SwitchURI)
	resolve := ResolveTarget(SwitchKey, SwitchURI+SwitchPathInfo)
	var stale []byte
	for want := uint64(2); want <= 4; want++ {
		g, err := sw.Commit()
		if err != nil || g != want {
			t.Fatalf("commit: generation %d, %v; want %d", g, err, want)
		}
		r, err := c.Get(fetch)
		if err != nil {
			t.Fatal(err)
		}
		if err := CheckSwitchFetch(r); err != nil || !strings.Contains(string(r.Body), SwitchAction(want)) {
			t.Errorf("fetch at %d: %v: %s", want, err, r.Body)
		}
		if stale != nil {
			// The last version's body under this version's header.
			if err := CheckSwitchFetch(Response{Status: 200, Generation: r.Generation, Body: stale}); err == nil {
				t.Error("an answer mixing two versions passes")
			}
		}
		stale = append([]byte(nil), r.Body...)
		if r, err = c.Get(resolve); err != nil {
			t.Fatal(err)
		}
		if err := CheckSwitchResolve(r); err != nil {
			t.Errorf("resolve at %d: %v", want, err)
		}
	}
}

func TestWithMarkerAddsTheMarkerAsEveryNthTarget(t *testing.T) {
	targets := []string{"/0", "/1", "/2", "/3", "/4", "/5"}
	exp := make([]Expected, len(targets))
	all, check := WithMarker(targets, exp, 3)
	fetch, resolve := FetchTarget(SwitchKey, SwitchURI), ResolveTarget(SwitchKey, SwitchURI+SwitchPathInfo)
	want := []string{"/0", "/1", fetch, "/2", "/3", resolve, "/4", "/5"}
	if strings.Join(all, " ") != strings.Join(want, " ") {
		t.Fatalf("targets %q, want %q", all, want)
	}
	if err := check(2, Response{Status: 500}); err == nil {
		t.Error("a failed marker fetch passes")
	}
}
