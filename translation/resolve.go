package translation

import (
	"fmt"
	"strings"

	"transdb/mmapdb"
)

// PreURI is the uri of the block list that Apache2::Translation runs
// before the uri walk of every request.
const PreURI = ":PRE:"

// A Resolution is what the lookups of Apache2::Translation for one
// request find: the :PRE: block list, then, longest first, every prefix
// of the uri that has a block list.
type Resolution struct {
	Key, URI   string   // as given to Resolve
	Generation uint64   // the version everything was read from
	Pre        []Record // the block list of PreURI; never nil
	Matches    []Match  // longest prefix first; never nil
}

// A Match is one prefix of the uri that has a block list.
type Match struct {
	URI      string   // the prefix: the uri, cut at a slash, or "/"
	PathInfo string   // the part of the uri cut off; "" for the whole uri
	Blocks   []Record // ordered by block and order; never nil
}

// Resolve makes, from the newest version, the lookups
// Apache2::Translation makes for a request of uri under key; see
// Snapshot.Resolve.
func (p *Provider) Resolve(key, uri string) (Resolution, error) {
	s, err := p.Snapshot()
	if err != nil {
		return Resolution{}, err
	}
	defer s.Release()
	return s.Resolve(key, uri)
}

// Resolve makes in one call, all from this snapshot, the lookups that
// Apache2::Translation makes for a request of uri under key: it fetches
// the block list of PreURI, then walks the uri as the PROC state does.
// Repeated slashes in the uri are collapsed into one; the uri must then
// start with "/" or be "*", else the error wraps ErrBadURI. The walk
// fetches the uri, cuts its last "/segment" off and prepends it to the
// path info (a uri emptied so becomes "/"), fetches again, and so on
// until "/" (or "*") has been fetched. For "/static/img.png" it fetches
// "/static/img.png", "/static" (path info "/img.png") and "/" (path info
// "/static/img.png").
//
// Every prefix that has blocks is a Match, longest first. The blocks
// come without notes. Resolve allocates the result only: the lists, the
// actions and, when the uri had repeated slashes, the collapsed uri.
func (s *Snapshot) Resolve(key, uri string) (Resolution, error) {
	res := Resolution{Key: key, URI: uri, Generation: s.Generation(), Matches: []Match{}}
	err := s.resolveWalk(key, uri, func(pre bool, prefix, pathInfo string, l mmapdb.Leaf) error {
		blocks, err := blockList(key, prefix, l, mmapdb.Leaf{})
		if err != nil {
			return err
		}
		if pre {
			res.Pre = blocks
		} else {
			res.Matches = append(res.Matches, Match{URI: prefix, PathInfo: pathInfo, Blocks: blocks})
		}
		return nil
	})
	if err != nil {
		return Resolution{}, err
	}
	return res, nil
}

// ResolveBlocks makes the lookups of Resolve and hands out what they find
// without copying it: pre is called with each block of PreURI, then match
// with each block of every prefix that has blocks, longest first, with the
// prefix and its path info; the Action of a Block is a view into the
// mapping, valid while the snapshot is held. The blocks come without
// notes. A function that returns an error ends the walk with it.
func (s *Snapshot) ResolveBlocks(key, uri string, pre func(Block) error, match func(prefix, pathInfo string, b Block) error) error {
	return s.resolveWalk(key, uri, func(isPre bool, prefix, pathInfo string, l mmapdb.Leaf) error {
		if isPre {
			return eachBlock(key, prefix, l, mmapdb.Leaf{}, pre)
		}
		return eachBlock(key, prefix, l, mmapdb.Leaf{}, func(b Block) error { return match(prefix, pathInfo, b) })
	})
}

// resolveWalk makes the lookups of Resolve: fn is called with pre set and
// the leaf of PreURI (empty when there is none), then with the leaf of
// every prefix of the uri that has records, longest first, with its path
// info.
func (s *Snapshot) resolveWalk(key, uri string, fn func(pre bool, prefix, pathInfo string, l mmapdb.Leaf) error) error {
	s.p.reads.Add(1)
	u := CollapseSlashes(uri)
	if u != "*" && !strings.HasPrefix(u, "/") {
		return fmt.Errorf("translation: resolve %q: %w", uri, ErrBadURI)
	}
	// All lookups are below the key: find its uri index once.
	uris, found, err := s.uriIndex(key)
	if err != nil {
		return fmt.Errorf("translation: resolve %q %q: %w", key, uri, err)
	}
	l, err := uriLeaf(uris, found, key, PreURI)
	if err != nil {
		return err
	}
	if err := fn(true, PreURI, "", l); err != nil {
		return err
	}
	prefix, pathInfo := u, ""
	for {
		l, err := uriLeaf(uris, found, key, prefix)
		if err != nil {
			return err
		}
		if l.Len() > 0 {
			if err := fn(false, prefix, pathInfo, l); err != nil {
				return err
			}
		}
		if prefix == "/" || prefix == "*" {
			return nil
		}
		cut := strings.LastIndexByte(prefix, '/')
		if prefix = prefix[:cut]; prefix == "" {
			prefix = "/"
		}
		pathInfo = u[cut:]
	}
}

// uriLeaf returns the action leaf of uri in the uri index of key, if
// found; an empty leaf when there is none.
func uriLeaf(uris mmapdb.Index, found bool, key, uri string) (mmapdb.Leaf, error) {
	var l mmapdb.Leaf
	if found {
		n, ok, err := uris.Get(uri)
		if err == nil && ok && n.IsLeaf() {
			l, err = n.Leaf()
		}
		if err != nil {
			return mmapdb.Leaf{}, fmt.Errorf("translation: resolve %q %q: %w", key, uri, err)
		}
	}
	return l, nil
}

// CollapseSlashes replaces every run of slashes in s with one slash, as
// Apache2::Translation does to a request uri before its walk. It
// allocates only when there is such a run.
func CollapseSlashes(s string) string {
	if !strings.Contains(s, "//") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '/' && i > 0 && s[i-1] == '/' {
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// uriIndex returns the index of the uris of key, found through the
// provider's prepared action prefix.
func (s *Snapshot) uriIndex(key string) (mmapdb.Index, bool, error) {
	keys, found, err := s.s.PrefixIndex(s.p.actions)
	if err != nil || !found {
		return mmapdb.Index{}, false, err
	}
	n, found, err := keys.Get(key)
	if err != nil || !found || n.IsLeaf() {
		return mmapdb.Index{}, false, err
	}
	uris, err := n.Index()
	return uris, err == nil, err
}
