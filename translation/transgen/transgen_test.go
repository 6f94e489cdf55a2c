package transgen

import (
	"cmp"
	"fmt"
	"regexp"
	"slices"
	"testing"
)

func compareRows(a, b Row) int {
	return cmp.Or(
		cmp.Compare(a.Key, b.Key),
		cmp.Compare(a.URI, b.URI),
		cmp.Compare(a.Block, b.Block),
		cmp.Compare(a.Order, b.Order),
	)
}

func TestGenerateIsDeterministic(t *testing.T) {
	a := Generate(5000, 7)
	b := Generate(5000, 7)
	if !slices.Equal(a, b) {
		t.Fatal("two runs with the same n and seed differ")
	}
	if c := Generate(5000, 8); slices.Equal(a, c) {
		t.Fatal("seeds 7 and 8 give the same rows")
	}
}

func TestGenerateReturnsExactlyNRows(t *testing.T) {
	for _, n := range []int{-1, 0, 1, 2, 3, 15, 16, 17, 31, 100, 1599, 1600, 1601, 10007, 100_000} {
		if got := len(Generate(n, 1)); got != max(n, 0) {
			t.Errorf("Generate(%d) returned %d rows", n, got)
		}
	}
}

var (
	keyPattern = regexp.MustCompile(`^site[0-9]{4}\.example\.com$`)
	uriPattern = regexp.MustCompile(`^(/[a-z0-9]+){1,3}$`)
)

// checkShape reports every violation of the documented shape in rows.
func checkShape(t *testing.T, n int, rows []Row) {
	t.Helper()
	if !slices.IsSortedFunc(rows, compareRows) {
		t.Errorf("n=%d: rows are not sorted by (key, uri, block, order)", n)
	}
	for i := 1; i < len(rows); i++ {
		if compareRows(rows[i-1], rows[i]) == 0 {
			t.Fatalf("n=%d: duplicate (key, uri, block, order) %+v", n, rows[i])
		}
	}
	lists := map[[2]string]int{}
	keyURIs := map[string]map[string]bool{}
	for _, r := range rows {
		if !keyPattern.MatchString(r.Key) {
			t.Fatalf("n=%d: bad key %q", n, r.Key)
		}
		if r.URI != "/" && r.URI != ":PRE:" && !uriPattern.MatchString(r.URI) {
			t.Fatalf("n=%d: bad uri %q", n, r.URI)
		}
		if r.Block > MaxBlock || r.Order > MaxOrder {
			t.Fatalf("n=%d: block/order %d/%d out of range", n, r.Block, r.Order)
		}
		if l := len(r.Action); l < MinActionLen || l > MaxActionLen {
			t.Fatalf("n=%d: action of %d bytes: %q", n, l, r.Action)
		}
		for _, c := range []byte(r.Action) {
			if c < 0x20 || c > 0x7e {
				t.Fatalf("n=%d: action with byte %#x: %q", n, c, r.Action)
			}
		}
		lists[[2]string{r.Key, r.URI}]++
		if keyURIs[r.Key] == nil {
			keyURIs[r.Key] = map[string]bool{}
		}
		keyURIs[r.Key][r.URI] = true
	}
	for p, c := range lists {
		if c < 1 || c > MaxRecords {
			t.Fatalf("n=%d: %v holds %d records", n, p, c)
		}
	}
	wantKeys := max(1, min(MaxKeys, n/16))
	if len(keyURIs) != wantKeys {
		t.Errorf("n=%d: %d keys, want %d", n, len(keyURIs), wantKeys)
	}
	if n >= 2 {
		for key, uris := range keyURIs {
			if !uris["/"] || !uris[":PRE:"] {
				t.Errorf("n=%d: key %s lacks / or :PRE:", n, key)
			}
		}
	}
}

func TestGenerateKeepsTheDocumentedShape(t *testing.T) {
	for _, n := range []int{1, 2, 3, 17, 100, 1600, 10_000, 100_000} {
		checkShape(t, n, Generate(n, int64(n)))
	}
}

func TestGenerateMillionRows(t *testing.T) {
	if testing.Short() {
		t.Skip("a million rows in -short mode")
	}
	rows := Generate(1_000_000, 1)
	if len(rows) != 1_000_000 {
		t.Fatalf("got %d rows", len(rows))
	}
	checkShape(t, len(rows), rows)
}

func TestGenerateSpreadsActionLengthsAndListSizes(t *testing.T) {
	rows := Generate(20_000, 3)
	lengths := map[int]bool{}
	for _, r := range rows {
		lengths[len(r.Action)] = true
	}
	if !lengths[MinActionLen] || !lengths[MaxActionLen] || len(lengths) < 50 {
		t.Errorf("action lengths cover only %d values", len(lengths))
	}
	sizes := map[int]bool{}
	count := 1
	for i := 1; i <= len(rows); i++ {
		if i < len(rows) && rows[i].Key == rows[i-1].Key && rows[i].URI == rows[i-1].URI {
			count++
			continue
		}
		sizes[count] = true
		count = 1
	}
	for s := 1; s <= MaxRecords; s++ {
		if !sizes[s] {
			t.Errorf("no block list of %d records", s)
		}
	}
}

func TestProbesHitExistingAndMissAbsentPairs(t *testing.T) {
	rows := Generate(10_000, 5)
	present := map[[2]string]bool{}
	keys := map[string]bool{}
	for _, r := range rows {
		present[[2]string{r.Key, r.URI}] = true
		keys[r.Key] = true
	}
	hits, misses := Probes(rows, 1000, 9)
	if len(hits) != 1000 || len(misses) != 1000 {
		t.Fatalf("got %d hits and %d misses, want 1000 each", len(hits), len(misses))
	}
	for _, h := range hits {
		if !present[h] {
			t.Fatalf("hit %v is not in the rows", h)
		}
	}
	var absentURI, absentKey int
	for _, m := range misses {
		if present[m] {
			t.Fatalf("miss %v is in the rows", m)
		}
		if keys[m[0]] {
			absentURI++
		} else {
			absentKey++
		}
	}
	if absentURI != 500 || absentKey != 500 {
		t.Errorf("misses: %d with an existing key, %d with an absent key; want 500 each", absentURI, absentKey)
	}
	if distinct := len(uniq(hits)); distinct < 500 {
		t.Errorf("only %d distinct hits out of 1000", distinct)
	}

	h2, m2 := Probes(rows, 1000, 9)
	if !slices.Equal(hits, h2) || !slices.Equal(misses, m2) {
		t.Error("Probes is not deterministic")
	}
}

func TestProbesOfNoRowsAreAllAbsentKeys(t *testing.T) {
	hits, misses := Probes(nil, 10, 1)
	if len(hits) != 0 || len(misses) != 10 {
		t.Fatalf("got %d hits and %d misses", len(hits), len(misses))
	}
	for _, m := range misses {
		if !keyPattern.MatchString(m[0]) {
			t.Errorf("miss %v", m)
		}
	}
}

func uniq(pairs [][2]string) map[[2]string]bool {
	m := map[[2]string]bool{}
	for _, p := range pairs {
		m[p] = true
	}
	return m
}

func BenchmarkGenerate(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		Generate(100_000, 1)
	}
}

func ExampleGenerate() {
	rows := Generate(3200, 1)
	for _, r := range rows[:4] {
		fmt.Printf("%s %s %d/%d %s\n", r.Key, r.URI, r.Block, r.Order, r.Action)
	}
	// Output:
	// site0001.example.com / 0/0 Uri: '/css'.$MATCHED_PATH_INFO # i
	// site0001.example.com / 1/0 Redirect: 'https://site0001.example.com'.$URI, 301 # checkout data ta
	// site0001.example.com / 1/4 Redirect: 'https://site0001.example.com'.$URI, 301
	// site0001.example.com / 2/0 Cond: $r->connection->remote_ip ne '10.0.41.184' # data en support.
}

func ExampleProbes() {
	rows := Generate(3200, 1)
	hits, misses := Probes(rows, 2, 1)
	fmt.Println(hits)
	fmt.Println(misses)
	// Output:
	// [[site1769.example.com /] [site0814.example.com /search/301/535]]
	// [[site0001.example.com /282/716/css] [site9259.example.com /]]
}
