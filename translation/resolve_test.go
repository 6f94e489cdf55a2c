package translation_test

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"

	"transdb/translation"
)

// loadFile loads a table file into a new writable provider.
func loadFile(t testing.TB, path string, f translation.Format) *translation.Provider {
	t.Helper()
	in, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	p := writable(t)
	if _, _, err := p.Load(in, translation.LoadOptions{Format: f}); err != nil {
		t.Fatal(err)
	}
	return p
}

// actions renders the actions of a block list.
func actions(recs []translation.Record) []string {
	out := []string{}
	for _, r := range recs {
		out = append(out, fmt.Sprintf("%d/%d %s", r.Block, r.Order, r.Action))
	}
	return out
}

func TestResolveExampleTable(t *testing.T) {
	p := loadFile(t, "../testdata/example.txt", translation.FormatText)
	res, err := p.Resolve("front", "/static/img.png")
	if err != nil {
		t.Fatal(err)
	}
	gen, _ := p.Generation()
	if res.Key != "front" || res.URI != "/static/img.png" || res.Generation != gen {
		t.Errorf("Resolution header = %q %q %d, want front /static/img.png %d", res.Key, res.URI, res.Generation, gen)
	}
	wantPre := []string{
		`0/0 Cond: $HOSTNAME !~ /^(?:www\.)xyz\.(?:com|de)$/`,
		`0/1 Redirect: 'http://xyz.com'.$URI, 301`,
		`1/0 Do: $CTX{lang}='en'`,
		`1/1 Cond: $HOSTNAME =~ /de$/`,
		`1/2 Do: $CTX{lang}='de'`,
	}
	if got := actions(res.Pre); !reflect.DeepEqual(got, wantPre) {
		t.Errorf("Pre = %q\nwant %q", got, wantPre)
	}
	type match struct {
		uri, pathInfo string
		blocks        []string
	}
	want := []match{
		{"/static", "/img.png", []string{`0/0 File: $DOCROOT.'/'.$CTX{lang}.$MATCHED_PATH_INFO`}},
		{"/", "/static/img.png", []string{`0/0 Config: ['AuthName "secret"'], ['AuthType Basic']`}},
	}
	var got []match
	for _, m := range res.Matches {
		got = append(got, match{m.URI, m.PathInfo, actions(m.Blocks)})
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Matches = %q\nwant %q", got, want)
	}
}

func TestResolveWalksPrefixesLongestFirst(t *testing.T) {
	p := writable(t)
	inTxn(t, p, func(tx *translation.Txn) {
		for _, uri := range []string{":PRE:", "/", "/a", "/a/b", "/a/b/", "/a/b/c", "*", "/x/"} {
			mustInsert(t, tx, rec("k", uri, 0, 0, "at "+uri, ""))
		}
		mustInsert(t, tx, rec("other", "/", 0, 0, "other key", ""))
	})
	for _, tt := range []struct {
		uri  string
		want string // matches as uri+pathinfo, space-separated
	}{
		{"/", "/+"},
		{"/a", "/a+ /+/a"},
		{"/a/b/c", "/a/b/c+ /a/b+/c /a+/b/c /+/a/b/c"},
		{"/a/b/c/d.html", "/a/b/c+/d.html /a/b+/c/d.html /a+/b/c/d.html /+/a/b/c/d.html"},
		{"/a/b/", "/a/b/+ /a/b+/ /a+/b/ /+/a/b/"},
		{"//a///b", "/a/b+ /a+/b /+/a/b"},
		{"/nothing/here", "/+/nothing/here"},
		{"/x", "/+/x"},
		{"/x/", "/x/+ /+/x/"},
		{"/a/bc", "/a+/bc /+/a/bc"},
		{"*", "*+"},
		{"//", "/+"},
	} {
		t.Run(tt.uri, func(t *testing.T) {
			res, err := p.Resolve("k", tt.uri)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, m := range res.Matches {
				got = append(got, m.URI+"+"+m.PathInfo)
				if want := []string{"0/0 at " + m.URI}; !reflect.DeepEqual(actions(m.Blocks), want) {
					t.Errorf("blocks of %q = %q, want %q", m.URI, actions(m.Blocks), want)
				}
			}
			if strings.Join(got, " ") != tt.want {
				t.Errorf("Resolve(%q) matches %q, want %q", tt.uri, strings.Join(got, " "), tt.want)
			}
			if want := []string{"0/0 at :PRE:"}; !reflect.DeepEqual(actions(res.Pre), want) {
				t.Errorf("Pre = %q, want %q", actions(res.Pre), want)
			}
		})
	}
}

func TestResolveWithoutBlocksGivesEmptyLists(t *testing.T) {
	p := writable(t)
	res, err := p.Resolve("k", "/a/b")
	if err != nil {
		t.Fatal(err)
	}
	if res.Pre == nil || len(res.Pre) != 0 || res.Matches == nil || len(res.Matches) != 0 {
		t.Errorf("Resolve on an empty table = %+v, want empty, non-nil lists", res)
	}
}

func TestResolveRejectsBadURI(t *testing.T) {
	p := writable(t)
	for _, uri := range []string{"", "a/b", "static", "**", ":PRE:", " /a", "http://host/a"} {
		if _, err := p.Resolve("k", uri); !errors.Is(err, translation.ErrBadURI) {
			t.Errorf("Resolve(%q): %v, want ErrBadURI", uri, err)
		}
	}
}

// TestResolveBlocksFindsWhatResolveFinds walks the same resolutions with
// ResolveBlocks and with Resolve: the same blocks, in the same order,
// grouped into the same matches.
func TestResolveBlocksFindsWhatResolveFinds(t *testing.T) {
	p := writable(t)
	inTxn(t, p, func(tx *translation.Txn) {
		for i, uri := range []string{":PRE:", "/", "/a", "/a/b", "/a/b/", "/a/b/c", "*", "/x/"} {
			for j := range 1 + i%3 {
				mustInsert(t, tx, rec("k", uri, uint32(j), uint32(i), fmt.Sprintf("at %s %d", uri, j), ""))
			}
		}
		mustInsert(t, tx, rec("nopre", "/a", 0, 0, "a without pre", ""))
	})
	s, err := p.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Release()
	for _, key := range []string{"k", "nopre", "absent"} {
		for _, uri := range []string{"/a/b/c/d", "/a//b/", "/x/y", "*", "/", "/zz", "relative"} {
			want, werr := s.Resolve(key, uri)
			got := translation.Resolution{Key: key, URI: uri, Generation: s.Generation(), Pre: []translation.Record{}, Matches: []translation.Match{}}
			gerr := s.ResolveBlocks(key, uri, func(b translation.Block) error {
				got.Pre = append(got.Pre, translation.Record{Key: key, URI: translation.PreURI, Block: b.Block, Order: b.Order, Action: string(b.Action), ID: b.ID})
				return nil
			}, func(prefix, pathInfo string, b translation.Block) error {
				if n := len(got.Matches); n == 0 || got.Matches[n-1].URI != prefix {
					got.Matches = append(got.Matches, translation.Match{URI: prefix, PathInfo: pathInfo, Blocks: []translation.Record{}})
				}
				m := &got.Matches[len(got.Matches)-1]
				m.Blocks = append(m.Blocks, translation.Record{Key: key, URI: prefix, Block: b.Block, Order: b.Order, Action: string(b.Action), ID: b.ID})
				return nil
			})
			if (werr == nil) != (gerr == nil) || (werr != nil && werr.Error() != gerr.Error()) {
				t.Fatalf("%s %s: Resolve error %v, ResolveBlocks error %v", key, uri, werr, gerr)
			}
			if werr == nil && !reflect.DeepEqual(got, want) {
				t.Errorf("%s %s: ResolveBlocks gives\n%+v\nResolve gives\n%+v", key, uri, got, want)
			}
		}
	}
	// An error from a callback ends the walk with it.
	stop := errors.New("stop")
	if err := s.ResolveBlocks("k", "/a/b/c", func(translation.Block) error { return stop }, nil); !errors.Is(err, stop) {
		t.Errorf("ResolveBlocks = %v, want the callback's error", err)
	}
}
