package httpprovider_test

import (
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"transdb/httpprovider"
	"transdb/translation"
)

type (
	providersResult struct {
		Writes         bool   `json:"writes"`
		TranslationKey string `json:"translation_key"`
		Providers      []struct {
			BaseKey    []string `json:"basekey"`
			ReadOnly   bool     `json:"readonly"`
			Ready      bool     `json:"ready"`
			Generation uint64   `json:"generation"`
		} `json:"providers"`
	}
	listsResult struct {
		Generation uint64 `json:"generation"`
		Total      int    `json:"total"`
		Lists      []struct {
			Key string `json:"key"`
			URI string `json:"uri"`
		} `json:"lists"`
		More bool `json:"more"`
	}
)

func TestProvidersSayWhichTablesAreServedAndWhetherTheyTakeWrites(t *testing.T) {
	path := dbPath(t)
	s := serve(t, httpprovider.Options{
		Providers: []*translation.Provider{newProvider(t, path, false, "trans", "db"),
			newProvider(t, path, true), newProvider(t, dbPath(t)+".missing", true, "later")},
		AdminToken:     token,
		TranslationKey: "front",
	})
	s.loadExample()
	var res providersResult
	s.decode(s.get("/v1/providers"), http.StatusOK, &res)
	if !res.Writes || res.TranslationKey != "front" || len(res.Providers) != 3 {
		t.Fatalf("providers: %+v", res)
	}
	for i, want := range []struct {
		baseKey         []string
		readOnly, ready bool
		generation      uint64
	}{
		{[]string{"trans", "db"}, false, true, 1},
		{[]string{}, true, true, 1},
		{[]string{"later"}, true, false, 0},
	} {
		p := res.Providers[i]
		if !reflect.DeepEqual(p.BaseKey, want.baseKey) || p.ReadOnly != want.readOnly || p.Ready != want.ready || p.Generation != want.generation {
			t.Errorf("provider %d: %+v, want %+v", i, p, want)
		}
	}
	open := serve(t, httpprovider.Options{Providers: []*translation.Provider{newProvider(t, dbPath(t), false)}})
	open.decode(open.get("/v1/providers"), http.StatusOK, &res)
	if res.Writes || res.TranslationKey != "" {
		t.Errorf("without AdminToken: %+v", res)
	}
	open.wantError(open.get("/v1/providers?basekey=x"), http.StatusBadRequest)
}

// listsTable is the example table with a list in every section.
func listsTable(t *testing.T) *testServer {
	s := serveNew(t)
	s.loadExample()
	s.txn(`{"ops":[
		{"op":"insert","key":"front","uri":":LOOKUPFILE:","block":0,"order":0,"action":"Done"},
		{"op":"insert","key":"front","uri":"AUTH","block":0,"order":0,"action":"Do: 1"},
		{"op":"insert","key":"common","uri":"*","block":0,"order":0,"action":"Done"},
		{"op":"insert","key":"common","uri":"/x","block":0,"order":0,"action":"Done"}]}`)
	return s
}

func (s *testServer) lists(query string) listsResult {
	s.t.Helper()
	var res listsResult
	r := s.get("/v1/lists?" + query)
	s.decode(r, http.StatusOK, &res)
	if res.Lists == nil || r.generation(s.t) != res.Generation {
		s.t.Fatalf("lists?%s: %s", query, r.body)
	}
	return res
}

// pairs returns the lists of res as "key uri" strings.
func (res listsResult) pairs() []string {
	out := []string{}
	for _, l := range res.Lists {
		out = append(out, l.Key+" "+l.URI)
	}
	return out
}

func TestListsAreGivenBySectionAsTheAdminPageShowsThem(t *testing.T) {
	s := listsTable(t)
	for _, tt := range []struct {
		query string
		want  []string
	}{
		{"", []string{"back /appl1", "back /appl2", "back :PRE:", "common *", "common /x",
			"front /", "front /appl1", "front /appl2", "front /static", "front :LOOKUPFILE:", "front :PRE:", "front AUTH"}},
		{"section=pre", []string{"back :PRE:", "front :PRE:"}},
		{"section=lookupfile", []string{"front :LOOKUPFILE:"}},
		{"section=process", []string{"back /appl1", "back /appl2", "common /x", "front /", "front /appl1", "front /appl2", "front /static"}},
		{"section=sub", []string{"common *", "front AUTH"}},
		{"section=process&key=front", []string{"front /", "front /appl1", "front /appl2", "front /static"}},
		{"filter=^(b|c)", []string{"back /appl1", "back /appl2", "back :PRE:", "common *", "common /x"}},
		{"filter=on&section=sub", []string{"common *", "front AUTH"}},
		{"filter=^back$&key=front", []string{}},
		{"key=nothing", []string{}},
	} {
		res := s.lists(tt.query)
		if got := res.pairs(); !reflect.DeepEqual(got, tt.want) || res.Total != len(tt.want) || res.More || res.Generation != 2 {
			t.Errorf("lists?%s: %q total %d more %v generation %d, want %q", tt.query, got, res.Total, res.More, res.Generation, tt.want)
		}
	}
}

func TestListsComeAPageAtATime(t *testing.T) {
	s := listsTable(t)
	for _, query := range []string{"", "section=process", "filter=o"} {
		all := s.lists(query)
		var paged []string
		next := query + "&limit=3"
		for pages := 0; ; pages++ {
			if pages > len(all.Lists) {
				t.Fatalf("%s: paging does not end", query)
			}
			res := s.lists(next)
			if res.Total != all.Total || len(res.Lists) > 3 {
				t.Fatalf("%s: page %+v", next, res)
			}
			paged = append(paged, res.pairs()...)
			if !res.More {
				break
			}
			last := res.Lists[len(res.Lists)-1]
			next = query + "&limit=3&after_key=" + url.QueryEscape(last.Key) + "&after_uri=" + url.QueryEscape(last.URI)
		}
		if !reflect.DeepEqual(paged, all.pairs()) {
			t.Errorf("%s: pages %q, want %q", query, paged, all.pairs())
		}
	}
	// A pair that is not in the table still places the page.
	if got := s.lists("after_key=front&after_uri=/b&limit=2").pairs(); !reflect.DeepEqual(got, []string{"front /static", "front :LOOKUPFILE:"}) {
		t.Errorf("after front /b: %q", got)
	}
	// A commit is seen by the next page at once.
	s.txn(`{"ops":[{"op":"insert","key":"front","uri":"/b","block":0,"order":0,"action":"Done"}]}`)
	if got := s.lists("after_key=front&after_uri=/appl2&limit=1").pairs(); !reflect.DeepEqual(got, []string{"front /b"}) {
		t.Errorf("after a commit: %q", got)
	}
}

func TestListsRefuseMalformedParameters(t *testing.T) {
	s := listsTable(t)
	for query, want := range map[string]string{
		"filter=(":                            "parameter filter: error parsing regexp",
		"filter=" + strings.Repeat("a", 1001): "longer than 1000 bytes",
		"section=PRE":                         `parameter section: "PRE" is not pre, lookupfile, process or sub`,
		"after_key=front":                     "after_key and after_uri go together",
		"limit=0":                             `parameter limit: "0" is not an integer in 1..10000`,
		"limit=10001":                         "not an integer in 1..10000",
		"limit=x":                             "not an integer",
		"key=a%20b":                           "white space",
		"key=a&key=b":                         "parameter key given 2 times",
		"keys=a":                              `unknown parameter "keys"`,
		"basekey=nope":                        "unknown basekey",
	} {
		status := http.StatusBadRequest
		if strings.HasPrefix(query, "basekey") {
			status = http.StatusNotFound
		}
		if msg := s.wantError(s.get("/v1/lists?"+query), status); !strings.Contains(msg, want) {
			t.Errorf("lists?%s: %q, want %q", query, msg, want)
		}
	}
}

// BenchmarkListsFirstPageOf100kLists measures the first page of a section
// of a table of 100,000 block lists under 100 keys, as the admin page
// asks for it when it opens.
func BenchmarkListsFirstPageOf100kLists(b *testing.B) {
	s := serveNew(b)
	var table strings.Builder
	for i := range 100000 {
		fmt.Fprintf(&table, "{\"key\":\"k%02d\",\"uri\":\"/u%06d\",\"block\":0,\"order\":0,\"action\":\"Done\"}\n", i%100, i)
	}
	s.decode(s.post("/v1/load?format=jsonl", table.String()), http.StatusOK, &loadResult{})
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if r := s.get("/v1/lists?section=process&limit=200"); r.status != http.StatusOK {
			b.Fatalf("%d %s", r.status, r.body)
		}
	}
}
