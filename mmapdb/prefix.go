package mmapdb

import "sync/atomic"

// Prefix is a key path prefix looked up once per version: a reader that
// makes many lookups below the same keys (a translation provider below its
// base key, say) resolves the prefix's index on the first lookup in a new
// version and starts every later lookup from there. A Prefix is safe for
// concurrent use and may be shared by any number of DBs and snapshots.
type Prefix struct {
	keys  []string
	cache atomic.Pointer[prefixEntry]
}

// prefixEntry is a Prefix resolved in one version.
type prefixEntry struct {
	v     *version
	off   uint64 // offset of the index the prefix leads to
	found bool   // false: the prefix leads to no index in v
}

// NewPrefix prepares a key path prefix. The keys are copied.
func NewPrefix(keys ...string) *Prefix {
	return &Prefix{keys: append([]string(nil), keys...)}
}

// Keys returns the prefix's keys.
func (p *Prefix) Keys() []string { return append([]string(nil), p.keys...) }

// resolve returns the offset of the prefix's index in the snapshot's
// version, from the cache when it was resolved in this version before.
func (p *Prefix) resolve(s *Snapshot) (off uint64, found bool, err error) {
	if _, err := s.mapping(); err != nil {
		return 0, false, err
	}
	if e := p.cache.Load(); e != nil && e.v == s.v {
		return e.off, e.found, nil
	}
	ix, found, err := s.LookupIndex(p.keys...)
	if err != nil {
		return 0, false, err
	}
	// The entry holds the version only to compare with: the mapping's
	// lifetime stays with the snapshots' references.
	p.cache.Store(&prefixEntry{v: s.v, off: ix.off, found: found})
	return ix.off, found, nil
}

// Index returns the index the prefix leads to; found is false when the
// prefix leads nowhere or to a leaf.
func (s *Snapshot) PrefixIndex(p *Prefix) (ix Index, found bool, err error) {
	off, found, err := p.resolve(s)
	if err != nil || !found {
		return Index{}, false, err
	}
	ix, err = indexAt(s.v.data, off) // resolve has checked the mapping
	return ix, err == nil, err
}

// LookupUnder is Lookup of the prefix's keys followed by keys, with the
// prefix's part of the walk done once per version. It allocates nothing
// but, once per version and prefix, the cache entry.
func (s *Snapshot) LookupUnder(p *Prefix, keys ...string) (Leaf, error) {
	off, found, err := p.resolve(s)
	if err != nil || !found || len(keys) == 0 {
		return Leaf{}, err
	}
	return lookupFrom(s.v.data, off, keys) // resolve has checked the mapping
}
