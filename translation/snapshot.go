package translation

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"transdb/mmapdb"
)

// The two branches under the base key.
const (
	branchActions = "actn" // BASEKEY..., "actn", KEY, URI: the actions
	branchNotes   = "note" // BASEKEY..., "note", KEY, URI: the notes
)

// pathBufLen is the length of the stack array a lookup builds its key
// path in: base keys of up to pathBufLen-3 levels make lookups
// allocation-free.
const pathBufLen = 16

// keyPath appends base, branch and the given keys to buf. Called with a
// slice of a stack array, it does not allocate unless the path outgrows
// the array.
func keyPath(buf, base []string, branch string, keys ...string) []string {
	return append(append(append(buf, base...), branch), keys...)
}

// sortField returns the sort field of a record, pack("N2", block, order).
func sortField(block, order uint32) [8]byte {
	var s [8]byte
	binary.BigEndian.PutUint32(s[:4], block)
	binary.BigEndian.PutUint32(s[4:], order)
	return s
}

// blockOrder decodes a sort field.
func blockOrder(sort []byte, key, uri string) (block, order uint32, err error) {
	if len(sort) != 8 {
		return 0, 0, fmt.Errorf("translation: record of %q %q: sort field of %d bytes, want 8: %w",
			key, uri, len(sort), mmapdb.ErrCorrupt)
	}
	return binary.BigEndian.Uint32(sort), binary.BigEndian.Uint32(sort[4:]), nil
}

// A Snapshot is one version of a provider's translation table, pinned:
// everything read through it comes from that version, however many
// commits happen meanwhile. Use it when several reads must agree, for
// instance to report the generation together with a block list; the
// read methods of Provider each take a snapshot of their own.
//
// A Snapshot is a handle (Provider.Snapshot returns a new one; View
// lends one): the version's mapping stays in memory until Release.
// Release is idempotent: a second call does nothing. The records it
// returns are copies and stay valid after Release; the Block views of
// FetchBlocks are not. After Release its reads fail with an error
// wrapping mmapdb.ErrReleased. A Snapshot must not be copied.
type Snapshot struct {
	p *Provider
	s mmapdb.Snapshot
}

// Release unpins the snapshot; later calls do nothing.
func (s *Snapshot) Release() { s.s.Release() }

// Generation returns the transaction counter of the version: 0 for a
// freshly created database, one more for every commit.
func (s *Snapshot) Generation() uint64 { return s.s.Generation() }

// FileSize returns the size of the version's database file in bytes.
func (s *Snapshot) FileSize() int64 { return s.s.Size() }

// Checksum returns the body checksum recorded in the version's header.
// Together with Generation it identifies the version's file, for
// instance as an HTTP entity tag.
func (s *Snapshot) Checksum() uint32 { return s.s.Checksum() }

// Bytes returns the version's whole database file as mapped, for
// streaming a copy. The slice aliases the mapping: it is valid only
// until Release and must not be written to. A committer may clear the
// file's valid flag in it at any time (see Superseded); every other byte
// is immutable.
func (s *Snapshot) Bytes() []byte { return s.s.Bytes() }

// Serial identifies the mapping of the version among those this process
// has made (mmapdb.Snapshot.Serial): while the snapshot is pinned, the
// bytes a Block's Action and Note alias are identified by the serial and
// their address.
func (s *Snapshot) Serial() uint64 { return s.s.Serial() }

// Verified reports whether this process has verified the version's file
// whole before (mmapdb.Snapshot.Verified): a follower installed it, or
// it verified as a snapshot of another provider of the file.
func (s *Snapshot) Verified() bool { return s.s.Verified() }

// Superseded reports whether a commit has replaced this version. The
// snapshot stays readable; the next Snapshot of the provider moves on.
// A copy of Bytes made while Superseded was false is a file whose valid
// flag is set, since the flag is only ever cleared.
func (s *Snapshot) Superseded() bool { return s.s.Superseded() }

// Fetch returns the block list of key and uri ordered by block and
// order, each element with its action and ID and, if withNotes, the note
// stored with the same block and order ("" when there is none). Nothing
// found is an empty list and no error.
//
// The lookup itself allocates nothing (for base keys of up to 13
// levels): it is one search per key level over the mapped file, a hash
// probe in a node of more than 8 keys.
// The result costs one allocation for the list, one per action and,
// with notes, one per note; Key and URI of every element are the
// strings passed in.
func (s *Snapshot) Fetch(key, uri string, withNotes bool) ([]Record, error) {
	s.p.reads.Add(1)
	return s.fetch(key, uri, withNotes)
}

func (s *Snapshot) fetch(key, uri string, withNotes bool) ([]Record, error) {
	actions, notes, err := s.leaves(key, uri, withNotes)
	if err != nil {
		return nil, err
	}
	return blockList(key, uri, actions, notes)
}

// leaves looks up the action leaf of key and uri and, if withNotes and
// there are actions, their note leaf.
func (s *Snapshot) leaves(key, uri string, withNotes bool) (actions, notes mmapdb.Leaf, err error) {
	actions, err = s.s.LookupUnder(s.p.actions, key, uri)
	if err != nil {
		return actions, notes, fmt.Errorf("translation: fetch %q %q: %w", key, uri, err)
	}
	if withNotes && actions.Len() > 0 {
		notes, err = s.s.LookupUnder(s.p.notes, key, uri)
		if err != nil {
			return actions, notes, fmt.Errorf("translation: fetch notes of %q %q: %w", key, uri, err)
		}
	}
	return actions, notes, nil
}

// A Block is one element of a block list as a snapshot holds it, for
// reading without copies: Action and Note alias the mapped file. They
// are valid only until the snapshot is released and must not be
// modified; copy what must outlive the snapshot.
type Block struct {
	Block, Order uint32
	ID           uint64
	Action       []byte
	Note         []byte // empty when there is none, or notes were not asked for
}

// FetchBlocks calls fn with each element of the block list of key and
// uri, ordered by block and order, and with notes if withNotes: what
// Fetch returns, but read in place, to be written out (as a server
// does) without copying. It allocates nothing (for base keys of up to
// 13 levels). Nothing found calls fn never. An error of fn ends the walk
// and is returned as it is. Like Fetch it counts as one lookup.
func (s *Snapshot) FetchBlocks(key, uri string, withNotes bool, fn func(Block) error) error {
	s.p.reads.Add(1)
	actions, notes, err := s.leaves(key, uri, withNotes)
	if err != nil {
		return err
	}
	return eachBlock(key, uri, actions, notes, fn)
}

// blockList returns the block list of an action leaf, with the notes of
// a note leaf (which may be empty) merged in. It allocates the list and
// its strings only.
func blockList(key, uri string, actions, notes mmapdb.Leaf) ([]Record, error) {
	list := make([]Record, actions.Len())
	if err := readLeaf(list, key, uri, actions, notes); err != nil {
		return nil, err
	}
	return list, nil
}

// readLeaf fills list, of the length of actions, with the records of an
// action leaf and the notes of the note leaf merged in, as eachBlock
// pairs them, copied out of the mapping.
func readLeaf(list []Record, key, uri string, actions, notes mmapdb.Leaf) error {
	i := 0
	return eachBlock(key, uri, actions, notes, func(b Block) error {
		list[i] = Record{Key: key, URI: uri, Block: b.Block, Order: b.Order,
			Action: string(b.Action), Note: string(b.Note), ID: b.ID}
		i++
		return nil
	})
}

// eachBlock calls fn with the records of an action leaf, each with the
// note of the note leaf with equal sort field. Both leaves are ordered by
// sort field; when several records share one (which Insert does not
// prevent), their notes are paired with them in order.
func eachBlock(key, uri string, actions, notes mmapdb.Leaf, fn func(Block) error) error {
	j, nn := 0, notes.Len()
	var noteSort, noteData []byte
	if nn > 0 {
		var err error
		if noteSort, noteData, _, err = notes.Fields(0); err != nil {
			return fmt.Errorf("translation: notes of %q %q: %w", key, uri, err)
		}
	}
	for i := range actions.Len() {
		sort, data, id, err := actions.Fields(i)
		if err != nil {
			return fmt.Errorf("translation: actions of %q %q: %w", key, uri, err)
		}
		block, order, err := blockOrder(sort, key, uri)
		if err != nil {
			return err
		}
		b := Block{Block: block, Order: order, ID: id, Action: data}
		for j < nn {
			c := bytes.Compare(noteSort, sort)
			if c > 0 {
				break
			}
			if c == 0 {
				b.Note = noteData
			}
			if j++; j < nn {
				if noteSort, noteData, _, err = notes.Fields(j); err != nil {
					return fmt.Errorf("translation: notes of %q %q: %w", key, uri, err)
				}
			}
			if c == 0 {
				break
			}
		}
		if err := fn(b); err != nil {
			return err
		}
	}
	return nil
}

// ListKeys returns the keys of the table, sorted bytewise.
func (s *Snapshot) ListKeys() ([]string, error) {
	ix, found, err := s.s.PrefixIndex(s.p.actions)
	if err != nil || !found {
		return []string{}, wrapErr("list keys", err)
	}
	keys := make([]string, 0, ix.Len())
	for i := range ix.Len() {
		k, err := ix.Key(i)
		if err != nil {
			return nil, wrapErr("list keys", err)
		}
		keys = append(keys, string(k))
	}
	return keys, nil
}

// ListKeysAndURIs returns the (key, uri) pairs of the table that hold
// block lists, sorted by key, then uri; only those of key unless key is
// empty.
func (s *Snapshot) ListKeysAndURIs(key string) ([][2]string, error) {
	pairs := [][2]string{}
	err := s.walk(Filter{Key: key}, func(key, uri string, _ mmapdb.Leaf) error {
		pairs = append(pairs, [2]string{key, uri})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return pairs, nil
}

// Records returns the number of actions in the table. It counts the
// block lists without reading them: its cost grows with the number of
// (key, uri) pairs. The count of the newest version is cached, so
// asking again costs nothing until the next commit.
func (s *Snapshot) Records() (int, error) {
	id := versionID{s.s.Generation(), s.s.Checksum(), s.s.Size()}
	if c := s.p.count.Load(); c != nil && c.v == id {
		return c.n, nil
	}
	n := 0
	err := s.walk(Filter{}, func(_, _ string, l mmapdb.Leaf) error {
		n += l.Len()
		return nil
	})
	if err != nil {
		return 0, err
	}
	s.p.count.Store(&recordCount{v: id, n: n})
	return n, nil
}

// versionID tells versions of a file apart: generation alone does not
// when a file is replaced by other means than a commit.
type versionID struct {
	gen  uint64
	crc  uint32
	size int64
}

type recordCount struct {
	v versionID
	n int
}

// walk calls fn for every (key, uri) pair that matches f, with the
// pair's action leaf, in key order. The key and uri strings are copies.
func (s *Snapshot) walk(f Filter, fn func(key, uri string, actions mmapdb.Leaf) error) error {
	top, found, err := s.s.PrefixIndex(s.p.actions)
	if err != nil || !found {
		return wrapErr("walk", err)
	}
	from, to := 0, top.Len()
	if f.Key != "" {
		pos, found, err := top.Search(f.Key)
		if err != nil || !found {
			return wrapErr("walk", err)
		}
		from, to = pos, pos+1
	}
	for i := from; i < to; i++ {
		kb, err := top.Key(i)
		if err != nil {
			return wrapErr("walk", err)
		}
		key := string(kb)
		uris, err := childIndex(top, i, key)
		if err != nil {
			return err
		}
		ufrom, uto := 0, uris.Len()
		if f.URI != "" {
			pos, found, err := uris.Search(f.URI)
			if err != nil {
				return wrapErr("walk", err)
			}
			if !found {
				continue
			}
			ufrom, uto = pos, pos+1
		}
		for j := ufrom; j < uto; j++ {
			ub, err := uris.Key(j)
			if err != nil {
				return wrapErr("walk", err)
			}
			uri := string(ub)
			n, err := uris.Child(j)
			if err != nil {
				return wrapErr("walk", err)
			}
			if !n.IsLeaf() {
				return fmt.Errorf("translation: %q %q holds an index, not a block list: %w", key, uri, mmapdb.ErrCorrupt)
			}
			l, err := n.Leaf()
			if err != nil {
				return wrapErr("walk", err)
			}
			if err := fn(key, uri, l); err != nil {
				return err
			}
		}
	}
	return nil
}

// childIndex returns the uri index under the i-th key of the action
// branch.
func childIndex(top mmapdb.Index, i int, key string) (mmapdb.Index, error) {
	n, err := top.Child(i)
	if err != nil {
		return mmapdb.Index{}, wrapErr("walk", err)
	}
	if n.IsLeaf() {
		return mmapdb.Index{}, fmt.Errorf("translation: key %q holds records, not uris: %w", key, mmapdb.ErrCorrupt)
	}
	ix, err := n.Index()
	return ix, wrapErr("walk", err)
}

// wrapErr prefixes a non-nil error with the package and operation.
func wrapErr(op string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("translation: %s: %w", op, err)
}
