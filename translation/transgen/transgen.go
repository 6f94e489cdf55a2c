// Package transgen generates translation-shaped data for tests and
// benchmarks: rows of (key, uri, block, order, action) that look like an
// Apache2::Translation table of a hosting site, produced deterministically
// from a seed so that every run and every store sees the same data.
//
// The shape of the data:
//
//   - Keys are host names such as "site0042.example.com". There are 100 keys
//     once n reaches 1600 rows; smaller tables get one key per 16 rows (at
//     least one), so that every key still holds several URIs.
//   - Every key has the URIs "/" and ":PRE:" (given at least two rows for the
//     key), plus URIs of one to three lowercase path segments made of words
//     and numbers, such as "/shop", "/shop/cart" or "/api/v2/items".
//   - Every (key, uri) pair holds 1 to 8 records (the last pair of a key may
//     hold fewer than drawn, so that the row count is exact). Block is 0..2
//     and order 0..5; (block, order) is unique within a pair, so the 8-byte
//     sort field pack("N2", block, order) is unique within a block list.
//   - Actions are 20 to 80 bytes of printable ASCII in the style of the
//     Apache2::Translation documentation, such as
//     "Proxy: 'http://backend17/'.$URI".
//
// The rows are returned sorted by (Key, URI, Block, Order), the order in
// which a store iterates them. The generator uses its own small
// pseudo-random number generator (SplitMix64), so the output for a given
// (n, seed) does not change with the Go release.
package transgen

import (
	"slices"
	"strconv"
)

// Row is one translation record.
type Row struct {
	Key    string // host name, e.g. "site0042.example.com"
	URI    string // "/", ":PRE:" or a path of 1 to 3 segments
	Block  uint32 // 0..MaxBlock
	Order  uint32 // 0..MaxOrder
	Action string // 20..80 bytes of printable ASCII
}

// Limits of the generated data.
const (
	MaxKeys       = 100 // number of keys of a table of at least 1600 rows
	MaxRecords    = 8   // most records of one (key, uri) pair
	MaxBlock      = 2   // highest block number
	MaxOrder      = 5   // highest order number within a block
	MinActionLen  = 20  // shortest action, in bytes
	MaxActionLen  = 80  // longest action, in bytes
	MaxSegments   = 3   // most path segments of a generated URI
	rowsPerKey    = 16  // rows per key below 1600 rows
	keyNumberSpan = 10000
)

// Generate returns exactly n rows (none when n <= 0) for the given seed,
// sorted by (Key, URI, Block, Order). The result depends only on n and seed.
//
// Generate allocates the returned slice and one string per action; keys and
// URIs are shared between the rows that hold them. A million rows take
// about a third of a second and 150 MB.
func Generate(n int, seed int64) []Row {
	if n <= 0 {
		return nil
	}
	r := newRand(seed)
	keys := pickKeys(r, numKeys(n))
	rows := make([]Row, 0, n)
	g := generator{r: r, buf: make([]byte, 0, 128)}
	for i, key := range keys {
		budget := n / len(keys)
		if i < n%len(keys) {
			budget++
		}
		rows = g.appendKey(rows, key, budget)
	}
	return rows
}

// Probes returns n lookup pairs (key, uri) that exist in rows, drawn
// uniformly from the distinct pairs, and n pairs that do not exist: half of
// them an existing key with an absent URI, half an absent key. The result
// depends only on rows, n and seed. When rows is empty, hits is empty and
// every miss is an absent key.
func Probes(rows []Row, n int, seed int64) (hits, misses [][2]string) {
	if n <= 0 {
		return nil, nil
	}
	pairs := make([][2]string, 0, len(rows)/4+1)
	present := make(map[[2]string]struct{}, len(rows)/4+1)
	keySet := make(map[string]struct{})
	var keys []string
	for _, row := range rows {
		p := [2]string{row.Key, row.URI}
		if _, ok := present[p]; ok {
			continue
		}
		present[p] = struct{}{}
		pairs = append(pairs, p)
		if _, ok := keySet[row.Key]; !ok {
			keySet[row.Key] = struct{}{}
			keys = append(keys, row.Key)
		}
	}

	r := newRand(seed ^ 0x5eed_9e37)
	if len(pairs) > 0 {
		hits = make([][2]string, n)
		for i := range hits {
			hits[i] = pairs[r.intn(len(pairs))]
		}
	}
	g := generator{r: r, buf: make([]byte, 0, 64)}
	misses = make([][2]string, n)
	for i := range misses {
		if i%2 == 0 && len(keys) > 0 {
			key := keys[r.intn(len(keys))]
			for {
				uri := g.uri()
				if _, ok := present[[2]string{key, uri}]; !ok {
					misses[i] = [2]string{key, uri}
					break
				}
			}
			continue
		}
		key := absentKey(r, keySet)
		misses[i] = [2]string{key, "/"}
	}
	return hits, misses
}

// numKeys is the number of keys of an n-row table (n > 0).
func numKeys(n int) int {
	return max(1, min(MaxKeys, n/rowsPerKey))
}

// pickKeys returns k distinct host names in sorted order.
func pickKeys(r *rand, k int) []string {
	nums := make(map[int]struct{}, k)
	for len(nums) < k {
		nums[r.intn(keyNumberSpan)] = struct{}{}
	}
	sorted := make([]int, 0, k)
	for num := range nums {
		sorted = append(sorted, num)
	}
	slices.Sort(sorted)
	keys := make([]string, k)
	for i, num := range sorted {
		keys[i] = keyName(num)
	}
	return keys
}

// keyName is the host name of key number num; names of numbers below
// keyNumberSpan sort like the numbers.
func keyName(num int) string {
	var b [32]byte
	s := append(b[:0], "site"...)
	s = appendPadded(s, num, 4)
	s = append(s, ".example.com"...)
	return string(s)
}

// absentKey returns a host name that is not in keys.
func absentKey(r *rand, keys map[string]struct{}) string {
	for range 64 {
		if k := keyName(r.intn(keyNumberSpan)); !inSet(keys, k) {
			return k
		}
	}
	// Every name tried is taken: leave the site namespace.
	for i := 0; ; i++ {
		k := "absent" + strconv.Itoa(i) + ".example.org"
		if !inSet(keys, k) {
			return k
		}
	}
}

func inSet(set map[string]struct{}, s string) bool {
	_, ok := set[s]
	return ok
}

// generator draws URIs and actions from one random sequence.
type generator struct {
	r   *rand
	buf []byte
}

// group is one (uri, record count) pair of a key.
type group struct {
	uri   string
	count int
}

// appendKey appends exactly budget rows of key to rows.
func (g *generator) appendKey(rows []Row, key string, budget int) []Row {
	var groups []group
	used := map[string]struct{}{}
	remaining := budget
	required := [...]string{"/", ":PRE:"}
	for i, uri := range required {
		if remaining == 0 {
			break
		}
		later := len(required) - 1 - i // required URIs still to come
		c := min(1+g.r.intn(MaxRecords), max(1, remaining-later))
		groups = append(groups, group{uri, c})
		used[uri] = struct{}{}
		remaining -= c
	}
	for remaining > 0 {
		uri := g.uri()
		if _, ok := used[uri]; ok {
			continue
		}
		used[uri] = struct{}{}
		c := min(1+g.r.intn(MaxRecords), remaining)
		groups = append(groups, group{uri, c})
		remaining -= c
	}
	slices.SortFunc(groups, func(a, b group) int {
		switch {
		case a.uri < b.uri:
			return -1
		case a.uri > b.uri:
			return 1
		}
		return 0
	})

	const slots = (MaxBlock + 1) * (MaxOrder + 1)
	for _, grp := range groups {
		// Draw count distinct (block, order) slots: a partial shuffle.
		var perm [slots]uint8
		for i := range perm {
			perm[i] = uint8(i)
		}
		for i := 0; i < grp.count; i++ {
			j := i + g.r.intn(slots-i)
			perm[i], perm[j] = perm[j], perm[i]
		}
		chosen := perm[:grp.count]
		slices.Sort(chosen) // slot = block*(MaxOrder+1) + order: sorts by (block, order)
		for _, slot := range chosen {
			rows = append(rows, Row{
				Key:    key,
				URI:    grp.uri,
				Block:  uint32(slot) / (MaxOrder + 1),
				Order:  uint32(slot) % (MaxOrder + 1),
				Action: g.action(key, grp.uri),
			})
		}
	}
	return rows
}

// words are the path segments and filler of generated URIs and actions.
var words = [...]string{
	"about", "account", "admin", "api", "app", "archive", "assets", "auth",
	"blog", "cart", "catalog", "checkout", "css", "data", "docs", "download",
	"en", "de", "events", "faq", "feed", "files", "help", "images", "img",
	"items", "js", "login", "logout", "media", "news", "orders", "pages",
	"press", "profile", "search", "settings", "shop", "static", "status",
	"store", "support", "tags", "upload", "users", "v1", "v2", "wiki",
}

// uri returns a random path of 1 to MaxSegments segments.
func (g *generator) uri() string {
	segs := 1
	switch x := g.r.intn(10); {
	case x >= 8:
		segs = 3
	case x >= 4:
		segs = 2
	}
	b := g.buf[:0]
	for range segs {
		b = append(b, '/')
		if g.r.intn(4) == 0 {
			b = strconv.AppendInt(b, int64(g.r.intn(1000)), 10)
		} else {
			b = append(b, words[g.r.intn(len(words))]...)
		}
	}
	g.buf = b
	return string(b)
}

var langs = [...]string{"de", "en", "fr", "it", "es", "nl"}

// action returns a random action of MinActionLen..MaxActionLen bytes of
// printable ASCII for a record of key and uri.
func (g *generator) action(key, uri string) string {
	b := g.buf[:0]
	num := func(n int) { b = strconv.AppendInt(b, int64(g.r.intn(n)), 10) }
	word := func() { b = append(b, words[g.r.intn(len(words))]...) }
	switch g.r.intn(10) {
	case 0:
		b = append(b, "Proxy: 'http://backend"...)
		num(100)
		b = append(b, "/'.$URI"...)
	case 1:
		b = append(b, `Cond: $HOSTNAME =~ /^www\.`...)
		b = append(b, key[:len("site0000")]...)
		b = append(b, `\./`...)
	case 2:
		b = append(b, "Redirect: 'https://"...)
		b = append(b, key...)
		b = append(b, "'.$URI, 301"...)
	case 3:
		b = append(b, "File: $DOCROOT.'"...)
		if uri == ":PRE:" {
			uri = "/"
		}
		b = append(b, uri...)
		b = append(b, "'.$MATCHED_PATH_INFO"...)
	case 4:
		b = append(b, "Do: $CTX{lang}='"...)
		b = append(b, langs[g.r.intn(len(langs))]...)
		b = append(b, '\'')
	case 5:
		b = append(b, `Config: ['AuthName "`...)
		word()
		b = append(b, `"'], ['AuthType Basic']`...)
	case 6:
		b = append(b, "Error: 403, 'Forbidden by rule "...)
		num(1000)
		b = append(b, '\'')
	case 7:
		b = append(b, "PerlHandler: 'My::Application"...)
		num(20)
		b = append(b, '\'')
	case 8:
		b = append(b, "Uri: '/"...)
		word()
		b = append(b, "'.$MATCHED_PATH_INFO"...)
	default:
		b = append(b, "Cond: $r->connection->remote_ip ne '10."...)
		num(256)
		b = append(b, '.')
		num(256)
		b = append(b, '.')
		num(256)
		b = append(b, '\'')
	}
	// Pad with a trailing comment to a random length, so that action sizes
	// spread over the whole range.
	target := MinActionLen + g.r.intn(MaxActionLen-MinActionLen+1)
	if len(b) < target {
		b = append(b, " #"...)
		for len(b) < target {
			b = append(b, ' ')
			word()
		}
		b = b[:target]
		if b[len(b)-1] == ' ' {
			b[len(b)-1] = '.'
		}
	}
	if len(b) > MaxActionLen {
		b = b[:MaxActionLen]
	}
	g.buf = b
	return string(b)
}

// appendPadded appends num in decimal, zero-padded to width digits.
func appendPadded(b []byte, num, width int) []byte {
	var d [20]byte
	s := strconv.AppendInt(d[:0], int64(num), 10)
	for i := len(s); i < width; i++ {
		b = append(b, '0')
	}
	return append(b, s...)
}

// rand is SplitMix64: small, fast, and fixed forever, unlike the sequences
// of math/rand, whose algorithms a Go release may change.
type rand struct{ state uint64 }

func newRand(seed int64) *rand { return &rand{state: uint64(seed)} }

func (r *rand) uint64() uint64 {
	r.state += 0x9e3779b97f4a7c15
	z := r.state
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// intn returns a number in [0, n) for 0 < n < 1<<32 (multiply-shift; the
// bias is below n/2^32 and irrelevant here).
func (r *rand) intn(n int) int {
	return int(((r.uint64() >> 32) * uint64(n)) >> 32)
}
