package httpprovider

import (
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"

	"transdb/translation"
)

// The endpoints an editor of the tables browses with: the providers
// served, and the block lists of a table a page at a time.

// handleProviders serves GET /v1/providers: the tables the server
// serves, in configuration order, and whether it takes writes.
//
//	{"writes":true,"translation_key":"front",
//	 "providers":[{"basekey":["trans","db"],"readonly":false,"ready":true,"generation":G},...]}
//
// writes is false without an AdminToken; ready is false while a
// provider has no database (its generation is 0 then).
func (s *Server) handleProviders(x *exchange) error {
	x.Header().Set("Cache-Control", "no-store")
	return x.respondJSON(func(j *jsonWriter) {
		j.raw(`{"writes":`)
		j.bool(s.token != nil)
		j.raw(`,"translation_key":`)
		j.str(s.defKey)
		j.raw(`,"providers":`)
		j.array(len(s.providers), func(i int) {
			pr := s.providers[i]
			g, err := pr.p.Generation()
			j.raw(`{"basekey":`)
			j.array(len(pr.baseKey), func(k int) { j.str(pr.baseKey[k]) })
			j.raw(`,"readonly":`)
			j.bool(pr.p.ReadOnly())
			j.raw(`,"ready":`)
			j.bool(err == nil)
			j.raw(`,"generation":`)
			j.uint(g)
			j.raw("}")
		})
		j.raw("}\n")
	})
}

// bool writes b as a JSON boolean.
func (j *jsonWriter) bool(b bool) {
	if b {
		j.raw("true")
	} else {
		j.raw("false")
	}
}

// The sections of the block lists of a table, as
// Apache2::Translation::Admin shows them.
var sections = map[string]func(uri string) bool{
	"pre":        func(uri string) bool { return uri == ":PRE:" },
	"lookupfile": func(uri string) bool { return uri == ":LOOKUPFILE:" },
	"process":    func(uri string) bool { return strings.HasPrefix(uri, "/") },
	"sub": func(uri string) bool {
		return uri != ":PRE:" && uri != ":LOOKUPFILE:" && !strings.HasPrefix(uri, "/")
	},
}

// Bounds of GET /v1/lists.
const (
	defaultListsLimit = 1000
	maxListsLimit     = 10000
	maxFilterLength   = 1000
)

// intParam returns the integer parameter name in 1..max, def when absent.
func intParam(q *query, name string, def, max int) (int, error) {
	v, ok, err := single(q, name)
	if err != nil || !ok {
		return def, err
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > max {
		return 0, errorf(http.StatusBadRequest, "parameter %s: %q is not an integer in 1..%d", name, v, max)
	}
	return n, nil
}

// handleLists serves GET /v1/lists: the (key, uri) pairs of a table
// that hold block lists, a page at a time, so that a table of 100,000
// lists can be browsed.
//
//	{"generation":G,"total":N,"lists":[{"key":K,"uri":U},...],"more":true}
//
// Parameters, all optional: key (only the lists of that key), filter (a
// regular expression, RE2 syntax, that keys must match), section (pre:
// uri :PRE:, lookupfile: :LOOKUPFILE:, process: uris starting with /,
// sub: every other uri), after_key and after_uri together (the page
// after that pair) and limit (the most pairs, 1..10000, default 1000).
// The pairs are sorted by key, then uri. total counts every pair that
// key, filter and section select, more says whether pairs follow the
// page.
func (s *Server) handleLists(x *exchange) error {
	q, err := x.params()
	if err != nil {
		return err
	}
	key, err := optionalKeyURI(q, "key")
	if err != nil {
		return err
	}
	hasKey := key != ""
	x.key = key
	var filter *regexp.Regexp
	if f, ok, err := single(q, "filter"); err != nil {
		return err
	} else if ok && f != "" {
		if len(f) > maxFilterLength {
			return errorf(http.StatusBadRequest, "parameter filter: longer than %d bytes", maxFilterLength)
		}
		if filter, err = regexp.Compile(f); err != nil {
			return errorf(http.StatusBadRequest, "parameter filter: %v", err)
		}
	}
	inSection := func(string) bool { return true }
	if name, ok, err := single(q, "section"); err != nil {
		return err
	} else if ok {
		if inSection = sections[name]; inSection == nil {
			return errorf(http.StatusBadRequest, "parameter section: %q is not pre, lookupfile, process or sub", name)
		}
	}
	afterKey, hasAfterKey, err := single(q, "after_key")
	if err != nil {
		return err
	}
	afterURI, hasAfterURI, err := single(q, "after_uri")
	if err != nil {
		return err
	}
	if hasAfterKey != hasAfterURI {
		return errorf(http.StatusBadRequest, "parameters after_key and after_uri go together")
	}
	limit, err := intParam(q, "limit", defaultListsLimit, maxListsLimit)
	if err != nil {
		return err
	}
	snap, err := x.snapshot()
	if err != nil {
		return err
	}
	defer snap.Release()
	pairs, err := x.prov.lists.pairs(snap)
	if err != nil {
		return err
	}
	if hasKey {
		// The pairs of the key, a run of the sorted pairs.
		from := sort.Search(len(pairs), func(i int) bool { return pairs[i][0] >= key })
		to := from + sort.Search(len(pairs)-from, func(i int) bool { return pairs[from+i][0] > key })
		pairs = pairs[from:to]
	}
	start := 0
	if hasAfterKey {
		start = sort.Search(len(pairs), func(i int) bool {
			p := pairs[i]
			return p[0] > afterKey || p[0] == afterKey && p[1] > afterURI
		})
	}
	var page [][2]string
	total := 0
	matchedKey, matched := "", false // the filter's verdict on the last key
	for i, p := range pairs {
		if !inSection(p[1]) {
			continue
		}
		if filter != nil {
			if i == 0 || p[0] != matchedKey {
				matchedKey, matched = p[0], filter.MatchString(p[0])
			}
			if !matched {
				continue
			}
		}
		total++
		if i >= start && len(page) <= limit {
			page = append(page, p)
		}
	}
	more := len(page) > limit
	if more {
		page = page[:limit]
	}
	return x.respondJSON(func(j *jsonWriter) {
		j.raw(`{"generation":`)
		j.uint(snap.Generation())
		j.raw(`,"total":`)
		j.uint(uint64(total))
		j.raw(`,"lists":`)
		j.array(len(page), func(i int) {
			j.raw(`{"key":`)
			j.str(page[i][0])
			j.raw(`,"uri":`)
			j.str(page[i][1])
			j.raw("}")
		})
		j.raw(`,"more":`)
		j.bool(more)
		j.raw("}\n")
	})
}

// A listCache holds the (key, uri) pairs of the newest version of a
// provider's table, sorted, so that the pages of /v1/lists, and the
// sections of one page load, walk the table once per version. It holds
// copies of the keys and uris: it pins no mapping.
type listCache struct {
	mu   sync.Mutex
	v    snapshotID
	list [][2]string // nil until filled
}

// snapshotID tells versions of a file apart: the generation alone does
// not when a file is replaced by other means than a commit.
type snapshotID struct {
	generation uint64
	checksum   uint32
	size       int64
}

// pairs returns the pairs of snap's version, from the cache when it
// holds that version. The result must not be modified.
func (c *listCache) pairs(snap *translation.Snapshot) ([][2]string, error) {
	id := snapshotID{snap.Generation(), snap.Checksum(), snap.FileSize()}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.list != nil && c.v == id {
		return c.list, nil
	}
	pairs, err := snap.ListKeysAndURIs("")
	if err != nil {
		return nil, err
	}
	c.v, c.list = id, pairs
	return pairs, nil
}
