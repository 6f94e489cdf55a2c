package httpprovider

import (
	"net/url"
	"slices"
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
	sieve  uint64     // the nameBit of each of names
	all    url.Values // when the query string is not plain
}

// nameBit returns the bit of a parameter name in query.sieve: get finds
// most names that a plain query string does not have, the optional
// parameters of an endpoint, by their bit alone, without comparing them
// with each of its names.
func nameBit(name string) uint64 {
	if name == "" {
		return 1
	}
	return 1 << ((uint(len(name))*7 + uint(name[0]) + uint(name[len(name)-1])) & 63)
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
	q.n, q.plain, q.sieve = 0, false, 0
	for segments := 0; raw != ""; segments++ {
		if segments == maxPlainParams {
			return false
		}
		// One pass over the segment finds its name, its end, and whether
		// its value needs unescaping.
		i := 0
		for i < len(raw) && plainNameByte(raw[i]) {
			i++
		}
		name, value, escaped := raw[:i], "", false
		if i < len(raw) && raw[i] != '&' {
			if raw[i] != '=' || name == "" {
				return false
			}
			j := i + 1
		value:
			for ; j < len(raw); j++ {
				switch raw[j] {
				case '&':
					break value
				case ';':
					return false
				case '%', '+':
					escaped = true
				}
			}
			value, i = raw[i+1:j], j
		}
		raw = raw[min(i+1, len(raw)):]
		if name == "" {
			continue // an empty segment
		}
		if escaped {
			v, err := url.QueryUnescape(value)
			if err != nil {
				return false
			}
			value = v
		}
		q.names[q.n], q.values[q.n] = name, value
		q.sieve |= nameBit(name)
		q.n++
	}
	q.plain = true
	return true
}

// plainNameByte reports whether c may be in a plain parameter name: it
// is one that url.QueryUnescape leaves as it is.
func plainNameByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.'
}

// get returns the values of the parameter name in order, nil when it
// is absent, as url.Values does. The result must not be modified.
func (q *query) get(name string) []string {
	if !q.plain {
		return q.all[name]
	}
	if q.sieve&nameBit(name) == 0 {
		return nil
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
