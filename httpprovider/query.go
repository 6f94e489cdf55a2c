package httpprovider

import (
	"net/url"
	"slices"
	"strings"
)

// maxPlainParams is the most parameters, empty ones included, that a
// plain query string has.
const maxPlainParams = 8

// A query holds the parameters of a request's query string as
// url.ParseQuery parses them. A plain query string, of a few parameters
// whose names need no unescaping, as a lookup's "key=K&uri=U" is, is
// parsed in place, without the map of url.Values: it allocates nothing
// unless a value holds escapes. Anything else is parsed by
// url.ParseQuery itself, with its errors.
type query struct {
	n      int // parameters in names and values, when plain is set
	plain  bool
	names  [maxPlainParams]string
	values [maxPlainParams]string
	all    url.Values // when the query string is not plain
}

// parse parses the raw query string into q.
func (q *query) parse(raw string) error {
	if q.parsePlain(raw) {
		return nil
	}
	all, err := url.ParseQuery(raw)
	if err != nil {
		return err
	}
	q.plain, q.all = false, all
	return nil
}

// parsePlain parses raw if it is plain: at most maxPlainParams
// parameters between the &s (empty ones count too, so that the limit of
// url.ParseQuery on their number is not reached), each a name of ASCII
// letters, digits, '-', '_' and '.', and a value with no ';' and valid
// escapes. These are exactly the query strings that url.ParseQuery
// parses without error into the names as they are and the unescaped
// values. It reports whether raw was plain.
func (q *query) parsePlain(raw string) bool {
	q.n, q.plain = 0, false
	for segments := 0; raw != ""; segments++ {
		if segments == maxPlainParams {
			return false
		}
		var seg string
		seg, raw, _ = strings.Cut(raw, "&")
		if seg == "" {
			continue
		}
		name, value, _ := strings.Cut(seg, "=")
		if !plainName(name) || strings.IndexByte(value, ';') >= 0 {
			return false
		}
		v, err := url.QueryUnescape(value) // v is value itself when it has no escapes
		if err != nil {
			return false
		}
		q.names[q.n], q.values[q.n] = name, v
		q.n++
	}
	q.plain = true
	return true
}

// plainName reports whether a parameter name is non-empty and made of
// characters that url.QueryUnescape leaves as they are.
func plainName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// get returns the values of the parameter name in order, nil when it
// is absent, as url.Values does. The result must not be modified.
func (q *query) get(name string) []string {
	if !q.plain {
		return q.all[name]
	}
	first, count := -1, 0
	for i := range q.n {
		if q.names[i] == name {
			if count == 0 {
				first = i
			}
			count++
		}
	}
	switch count {
	case 0:
		return nil
	case 1:
		return q.values[first : first+1 : first+1]
	}
	vals := make([]string, 0, count)
	for i := first; i < q.n; i++ {
		if q.names[i] == name {
			vals = append(vals, q.values[i])
		}
	}
	return vals
}

// unknown returns a parameter name that is not in known, and whether
// there is one; of several, the first in the query string of a plain
// one, the least of the others.
func (q *query) unknown(known []string) (string, bool) {
	if q.plain {
		for i := range q.n {
			if !slices.Contains(known, q.names[i]) {
				return q.names[i], true
			}
		}
		return "", false
	}
	name, found := "", false
	for n := range q.all {
		if !slices.Contains(known, n) && (!found || n < name) {
			name, found = n, true
		}
	}
	return name, found
}
