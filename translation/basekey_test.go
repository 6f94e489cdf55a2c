package translation_test

import (
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"transdb/translation"
)

func TestParseBaseKeyAcceptsPerlLists(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		// No base key.
		{"", nil},
		{"   \t ", nil},
		{"[]", nil},
		{" [ ] ", nil},
		{"[qw//]", nil},
		{"[qw(   )]", nil},

		// One-level keys: anything not starting with a bracket, trimmed.
		{"transdb", []string{"transdb"}},
		{"  transdb  ", []string{"transdb"}},
		{"qw/my trans db/", []string{"qw/my trans db/"}},
		{`"my"`, []string{`"my"`}},
		{"qw/a b/]", []string{"qw/a b/]"}},
		{"a[b]", []string{"a[b]"}},

		// qw lists with every kind of delimiter.
		{"[qw/my trans db/]", []string{"my", "trans", "db"}},
		{"  [qw/my trans db/]  ", []string{"my", "trans", "db"}},
		{"[ qw/ my\ttrans\n db / ]", []string{"my", "trans", "db"}},
		{"[qw(my trans db)]", []string{"my", "trans", "db"}},
		{"[qw[my trans db]]", []string{"my", "trans", "db"}},
		{"[qw{my trans db}]", []string{"my", "trans", "db"}},
		{"[qw<my trans db>]", []string{"my", "trans", "db"}},
		{"[qw|my trans db|]", []string{"my", "trans", "db"}},
		{"[qw!my trans db!]", []string{"my", "trans", "db"}},
		{"[qw #a b#]", []string{"a", "b"}},
		{"[qw /a b/]", []string{"a", "b"}},
		{"[qw(a (b c) d)]", []string{"a", "(b", "c)", "d"}},
		{`[qw/a\/b c\\d e\f/]`, []string{"a/b", `c\d`, `e\f`}},
		{`[qw(a\) b)]`, []string{"a)", "b"}},
		{"[qw/ä ö/]", []string{"ä", "ö"}},

		// Quoted lists.
		{`["my","trans","db"]`, []string{"my", "trans", "db"}},
		{`[ "my" , "trans" , "db" ]`, []string{"my", "trans", "db"}},
		{`['my','trans','db']`, []string{"my", "trans", "db"}},
		{`[ 'my', "trans", qw/db/ ]`, []string{"my", "trans", "db"}},
		{`["my","trans",]`, []string{"my", "trans"}},
		{`["a",,"b"]`, []string{"a", "b"}},
		{`[""]`, []string{""}},
		{`["with space"]`, []string{"with space"}},
		{`["]"]`, []string{"]"}},
		{`[qw/a]/]`, []string{"a]"}},

		// Double-quoted escapes.
		{`["a\"b"]`, []string{`a"b`}},
		{`["a\\b"]`, []string{`a\b`}},
		{`["\n\t\r\f\b\a\e"]`, []string{"\n\t\r\f\b\a\x1b"}},
		{`["\x41\x{e9}\x{1F600}"]`, []string{"Aé😀"}},
		{`["\xff"]`, []string{"\xff"}},
		{`["\$x\@y\/\'"]`, []string{`$x@y/'`}},
		{`["$x@y"]`, []string{"$x@y"}},

		// Single-quoted escapes: only \' and \\.
		{`['it\'s']`, []string{"it's"}},
		{`['a\\b']`, []string{`a\b`}},
		{`['a\nb']`, []string{`a\nb`}},
		{`['a"b']`, []string{`a"b`}},
	}
	for _, tt := range tests {
		got, err := translation.ParseBaseKey(tt.in)
		if err != nil {
			t.Errorf("ParseBaseKey(%q) error: %v", tt.in, err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseBaseKey(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestParseBaseKeyRejectsMalformedLists(t *testing.T) {
	tests := []struct {
		in, wantErr string
	}{
		{"[qw/a b]", "unterminated qw list"},
		{"[qw(a (b)]", "unterminated qw list"},
		{`["abc]`, "unterminated double-quoted string"},
		{`['abc]`, "unterminated single-quoted string"},
		{`["a" "b"]`, "expected a comma between elements"},
		{`[qw/a/ qw/b/]`, "expected a comma"},
		{`[my, trans]`, `bare word "my"`},
		{`[qwerty]`, `bare word "qwerty"`},
		{`[,"a"]`, `unexpected ','`},
		{`[qw]`, "qw without a delimiter"},
		{`[1]`, `bare word "1"`},
		{`["\q"]`, `unsupported escape \q`},
		{`["\u00e9"]`, `unsupported escape \u`},
		{`["\x4"]`, `\x needs two hex digits`},
		{`["\xZZ"]`, `\x needs two hex digits`},
		{`["\x{110000}"]`, `is not a Unicode code point`},
		{`["\x{D800}"]`, `is not a Unicode code point`},
		{`["\x{41"]`, `unterminated \x{...} escape`},
		{`["a\]`, "backslash at the end of the list"},
		{`["a"] ]`, `expected a comma between elements, found ']'`},

		// A list without its closing bracket is not a one-level key.
		{"[qw/trans db", "at offset 0: list without its closing ]"},
		{"[qw/trans db/", "list without its closing ]"},
		{`["a","b"`, "list without its closing ]"},
		{`["a\`, "list without its closing ]"},
		{"  [", "at offset 2: list without its closing ]"},
		{"[]x", "list without its closing ]"},

		// A table's own branches: this table would lie inside another.
		{"actn", `"actn" at position 1 is the name of the branch of a table's actions, so this table would lie inside the table at []`},
		{"[qw/trans note/]", `"note" at position 2 is the name of the branch of a table's notes, so this table would lie inside the table at ["trans"]`},
	}
	for _, tt := range tests {
		got, err := translation.ParseBaseKey(tt.in)
		if err == nil {
			t.Errorf("ParseBaseKey(%q) = %q, want an error", tt.in, got)
			continue
		}
		if !errors.Is(err, translation.ErrInvalidBaseKey) {
			t.Errorf("ParseBaseKey(%q) error %v does not wrap ErrInvalidBaseKey", tt.in, err)
		}
		if !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("ParseBaseKey(%q) error %q does not mention %q", tt.in, err, tt.wantErr)
		}
		if got != nil {
			t.Errorf("ParseBaseKey(%q) returned keys %q with an error", tt.in, got)
		}
	}
}

// New refuses such a base key too, given as a list.
func TestNewRefusesABaseKeyInsideAnotherTable(t *testing.T) {
	_, err := translation.New(translation.Options{FileName: filepath.Join(t.TempDir(), "t.mmdb"), BaseKey: []string{"a", "actn"}})
	if !errors.Is(err, translation.ErrInvalidBaseKey) {
		t.Errorf("New with base key [a actn]: %v, want ErrInvalidBaseKey", err)
	}
}

func TestParseBaseKeyErrorNamesOffset(t *testing.T) {
	_, err := translation.ParseBaseKey(`  ["a" x]`)
	if err == nil || !strings.Contains(err.Error(), "at offset 7") {
		t.Fatalf("error %v does not name offset 7 of the input", err)
	}
}

func TestBaseKeysListsTheTablesOfTheFile(t *testing.T) {
	path := dbPath(t)
	open := func(baseKey ...string) *translation.Provider {
		p := newProvider(t, translation.Options{FileName: path, BaseKey: baseKey})
		if err := p.Start(); err != nil {
			t.Fatal(err)
		}
		return p
	}
	top := open()
	baseKeys := func() [][]string {
		t.Helper()
		keys, err := top.BaseKeys()
		if err != nil {
			t.Fatal(err)
		}
		return keys
	}
	if keys := baseKeys(); len(keys) != 0 {
		t.Errorf("a new file holds base keys %q, want none", keys)
	}

	// Tables at the top, under two levels, under one level and one below
	// it; the keys of the top table look like base keys but are not.
	tables := [][]string{nil, {"trans", "db"}, {"a"}, {"a", "b"}}
	for _, bk := range tables {
		p := open(bk...)
		inTxn(t, p, func(tx *translation.Txn) {
			for _, rec := range []translation.Record{
				{Key: "front", URI: "/", Action: "a"},
				{Key: "actn", URI: "/x", Action: "b", Note: "n"},
			} {
				if _, err := tx.Insert(rec); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
	want := [][]string{nil, {"a"}, {"a", "b"}, {"trans", "db"}}
	if keys := baseKeys(); !reflect.DeepEqual(keys, want) {
		t.Errorf("BaseKeys = %q, want %q", keys, want)
	}

	// A cleared table is no table.
	a := open("a")
	inTxn(t, a, func(tx *translation.Txn) {
		if _, err := tx.Clear(); err != nil {
			t.Fatal(err)
		}
	})
	want = [][]string{nil, {"a", "b"}, {"trans", "db"}}
	if keys := baseKeys(); !reflect.DeepEqual(keys, want) {
		t.Errorf("after clearing [a]: BaseKeys = %q, want %q", keys, want)
	}
}

func TestFormatBaseKey(t *testing.T) {
	tests := []struct {
		keys []string
		want string
	}{
		{nil, "[]"},
		{[]string{}, "[]"},
		{[]string{""}, `[""]`},
		{[]string{"my", "trans", "db"}, `["my","trans","db"]`},
		{[]string{"with space", "qw/x/"}, `["with space","qw/x/"]`},
		{[]string{`a"b\c`}, `["a\"b\\c"]`},
		{[]string{"a\nb\tc\rd"}, `["a\nb\tc\rd"]`},
		{[]string{"\x00\x1f\x7f"}, `["\x00\x1F\x7F"]`},
		{[]string{"\xff\xfe"}, `["\xFF\xFE"]`},
		{[]string{"é 😀 $x @y"}, `["é 😀 $x @y"]`},
		{[]string{"\u00a0\u2028\u200b"}, `["\x{A0}\x{2028}\x{200B}"]`},
		{[]string{"\ufffd"}, "[\"\ufffd\"]"},
	}
	for _, tt := range tests {
		got := translation.FormatBaseKey(tt.keys)
		if got != tt.want {
			t.Errorf("FormatBaseKey(%q) = %s, want %s", tt.keys, got, tt.want)
		}
		back, err := translation.ParseBaseKey(got)
		if err != nil {
			t.Errorf("ParseBaseKey(%s) error: %v", got, err)
			continue
		}
		if !sameKeys(back, tt.keys) {
			t.Errorf("ParseBaseKey(FormatBaseKey(%q)) = %q", tt.keys, back)
		}
	}
}

// sameKeys compares base keys, treating nil and empty alike.
func sameKeys(a, b []string) bool {
	if len(a) == 0 && len(b) == 0 {
		return true
	}
	return reflect.DeepEqual(a, b)
}

func FuzzParseBaseKey(f *testing.F) {
	for _, s := range []string{
		"", "transdb", "[qw/my trans db/]", `["my","trans","db"]`, `['my','trans']`,
		`[qw(a (b) c), "x\x{263A}\xff", 'it\'s']`, `["\q"]`, "[qw<a>]", `["a",,]`,
	} {
		f.Add(s, "a", "b")
	}
	f.Add("[", "", "with space")
	f.Add("]", "\xff\"\\", "\n\u2028")
	f.Fuzz(func(t *testing.T, s, k1, k2 string) {
		keys, err := translation.ParseBaseKey(s)
		if err != nil {
			if !errors.Is(err, translation.ErrInvalidBaseKey) {
				t.Fatalf("ParseBaseKey(%q) error %v does not wrap ErrInvalidBaseKey", s, err)
			}
		} else {
			formatted := translation.FormatBaseKey(keys)
			back, err := translation.ParseBaseKey(formatted)
			if err != nil || !sameKeys(back, keys) {
				t.Fatalf("ParseBaseKey(%q) = %q, but ParseBaseKey(%s) = %q, %v", s, keys, formatted, back, err)
			}
		}
		for _, keys := range [][]string{{k1}, {k1, k2}} {
			formatted := translation.FormatBaseKey(keys)
			back, err := translation.ParseBaseKey(formatted)
			if err != nil || !sameKeys(back, keys) {
				t.Fatalf("ParseBaseKey(FormatBaseKey(%q)) = %q, %v (formatted %s)", keys, back, err, formatted)
			}
		}
	})
}

func ExampleParseBaseKey() {
	for _, s := range []string{"[qw/my trans db/]", `["my", "trans", "db"]`, "qw/my trans db/", ""} {
		keys, err := translation.ParseBaseKey(s)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Printf("%-24s %q\n", s, keys)
	}
	// Output:
	// [qw/my trans db/]        ["my" "trans" "db"]
	// ["my", "trans", "db"]    ["my" "trans" "db"]
	// qw/my trans db/          ["qw/my trans db/"]
	//                          []
}

func ExampleFormatBaseKey() {
	fmt.Println(translation.FormatBaseKey([]string{"trans", `say "hi"`}))
	// Output: ["trans","say \"hi\""]
}
