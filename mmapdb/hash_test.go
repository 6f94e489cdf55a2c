package mmapdb

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// hashKeys returns n distinct keys that stress the hash table and the
// prefix levels alike: the empty key, keys that are prefixes of others,
// keys sharing their first 8 bytes, bytes 0x00 and 0xff, long keys.
func hashKeys(n int) []string {
	keys := []string{"", "a", "a\x00", "ab", "\xff\xff\xff\xff\xff\xff\xff\xff", "\xff\xff\xff\xff\xff\xff\xff\xff\x00"}
	for i := 0; len(keys) < n; i++ {
		switch i % 4 {
		case 0:
			keys = append(keys, fmt.Sprintf("/api/v2/items/%d", i))
		case 1:
			keys = append(keys, fmt.Sprintf("k%d", i))
		case 2:
			keys = append(keys, fmt.Sprintf("%s/%d", bytes.Repeat([]byte("long"), 20), i))
		default:
			keys = append(keys, string(binary.BigEndian.AppendUint32(nil, uint32(i)*2654435761)))
		}
	}
	return keys[:n]
}

// missingKeys returns keys near the stored ones that are not stored.
func missingKeys(keys []string) []string {
	var miss []string
	for _, k := range keys {
		for _, m := range []string{k + "\x00", k + "x", "x" + k} {
			if !slices.Contains(keys, m) {
				miss = append(miss, m)
			}
		}
	}
	return miss
}

// TestHashedIndexLookups checks that lookups through nodes of every size,
// with and without hash table, find every key and nothing else, for leaf
// children (confirmed by the leaf's key path) and for index children
// (confirmed by the entry's key).
func TestHashedIndexLookups(t *testing.T) {
	sizes := []int{1, 2, 7, 8, 9, 10, 16, 17, 64, 300}
	db, _ := openTemp(t, nil)
	update(t, db, func(tx *Txn) {
		for _, n := range sizes {
			for _, k := range hashKeys(n) {
				g := fmt.Sprint("leaves", n)
				if _, err := tx.Insert([]string{g, k}, nil, []byte(g+"="+k)); err != nil {
					t.Fatal(err)
				}
				g = fmt.Sprint("indices", n)
				if _, err := tx.Insert([]string{g, k, "leaf"}, nil, []byte(g+"="+k)); err != nil {
					t.Fatal(err)
				}
			}
		}
	})
	if err := db.Verify(); err != nil {
		t.Fatal(err)
	}
	current(t, db, func(s *Snapshot) {
		for _, n := range sizes {
			keys := hashKeys(n)
			for _, g := range []string{fmt.Sprint("leaves", n), fmt.Sprint("indices", n)} {
				ix, found, err := s.LookupIndex(g)
				if err != nil || !found {
					t.Fatalf("LookupIndex(%q) = %v, %v", g, found, err)
				}
				if hashed := ix.ns > 0; hashed != (n > fanout) {
					t.Fatalf("%s: node of %d keys has %d hash slots", g, n, ix.ns)
				}
				for _, k := range keys {
					path := []string{g, k}
					if g[0] == 'i' {
						path = append(path, "leaf")
					}
					l, err := s.Lookup(path...)
					if err != nil || l.Len() != 1 {
						t.Fatalf("Lookup(%q) = %d records, %v", path, l.Len(), err)
					}
					if r, err := l.At(0); err != nil || string(r.Data) != g+"="+k {
						t.Fatalf("Lookup(%q) = %q, %v", path, r.Data, err)
					}
					pos, found, err := ix.Search(k)
					node, ok, gerr := ix.Get(k)
					child, cerr := ix.Child(pos)
					if err != nil || !found || gerr != nil || !ok || cerr != nil || node.off != child.off || node.leaf != child.leaf {
						t.Fatalf("%s: Get(%q) = %v %v %v, Search gives %d %v %v", g, k, node, ok, gerr, pos, found, err)
					}
				}
				for _, k := range missingKeys(keys) {
					if l, err := s.Lookup(g, k); err != nil || l.Len() != 0 {
						t.Fatalf("Lookup(%q, %q) of a missing key = %d records, %v", g, k, l.Len(), err)
					}
					if _, ok, err := ix.Get(k); ok || err != nil {
						t.Fatalf("%s: Get(%q) of a missing key = %v, %v", g, k, ok, err)
					}
				}
			}
		}
	})
}

// TestHashKeyIsStable pins the hash function: files written by one build
// are read by every other, so its values are part of the format. The
// expected values were computed by a separate implementation of the
// definition in FORMAT.md.
func TestHashKeyIsStable(t *testing.T) {
	for _, c := range []struct {
		key  string
		want uint64
	}{
		{"", 0x2b898861975edacc},
		{"a", 0xe0970d418b5931fb},
		{"/api/v2/items", 0x6fc3cc8da45f6fa0},
		{"site0042.example.com", 0x64cd7b8c62090ac8},
	} {
		if got := hashKey(c.key); got != c.want {
			t.Errorf("hashKey(%q) = %#016x, want %#016x", c.key, got, c.want)
		}
		if got := hashKey([]byte(c.key)); got != hashKey(c.key) {
			t.Errorf("hashKey of %q differs between string and []byte", c.key)
		}
	}
}

// TestReadsFormatVersion1 opens a file written in format version 1 (by
// commit 3a11bc3: under "actn", 12 sites site0.example.com ..
// site11.example.com, site0 with the 20 URIs /path/00 .. /path/19, the
// others with 2, each URI with 2 records "Proxy: http://b<site>/<uri>/<n>"
// of sort field pack("N2", n, 0)), reads and verifies it, and commits on
// top of it. The new file is version 2 and holds the untouched subtrees
// as they were: version 1 index nodes below a version 2 index with a hash
// table, whose slots cannot confirm their keys with an own key.
func TestReadsFormatVersion1(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v1.mmdb")
	copyFile(t, filepath.Join("testdata", "format-v1.mmdb"), path)
	db, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	const sites = 12
	check := func(version int, uris int) {
		t.Helper()
		if err := db.Verify(); err != nil {
			t.Fatal(err)
		}
		current(t, db, func(s *Snapshot) {
			if s.FormatVersion() != version {
				t.Fatalf("format version %d, want %d", s.FormatVersion(), version)
			}
			for s0 := range sites {
				site := fmt.Sprintf("site%d.example.com", s0)
				n := 2
				if s0 == 0 {
					n = uris
				}
				for u := range n {
					l, err := s.Lookup("actn", site, fmt.Sprintf("/path/%02d", u))
					if err != nil || l.Len() != 2 {
						t.Fatalf("%s /path/%02d: %d records, %v", site, u, l.Len(), err)
					}
					_, data, _, err := l.Fields(1)
					if want := fmt.Sprintf("Proxy: http://b%d/%d/1", s0, u); err != nil || string(data) != want {
						t.Fatalf("%s /path/%02d: record 1 = %q, %v; want %q", site, u, data, err, want)
					}
				}
				if l, err := s.Lookup("actn", site, "/path/99"); err != nil || l.Len() != 0 {
					t.Fatalf("%s /path/99: %d records, %v", site, l.Len(), err)
				}
			}
			if l, err := s.Lookup("actn", "site99.example.com", "/path/00"); err != nil || l.Len() != 0 {
				t.Fatalf("site99: %d records, %v", l.Len(), err)
			}
		})
	}
	check(1, 20)
	update(t, db, func(tx *Txn) {
		for r := range 2 {
			if _, err := tx.Insert([]string{"actn", "site0.example.com", "/path/20"}, []byte{0, 0, 0, byte(r), 0, 0, 0, 0}, fmt.Appendf(nil, "Proxy: http://b0/20/%d", r)); err != nil {
				t.Fatal(err)
			}
		}
	})
	check(FormatVersion, 21)
	current(t, db, func(s *Snapshot) {
		sitesIx, found, err := s.LookupIndex("actn")
		if err != nil || !found || sitesIx.ns == 0 {
			t.Fatalf("actn: %v %v, %d hash slots", found, err, sitesIx.ns)
		}
		for site, v1 := range map[string]bool{"site0.example.com": false, "site1.example.com": true} {
			ix, found, err := s.LookupIndex("actn", site)
			if _, own := ix.ownKey(); err != nil || !found || own == v1 {
				t.Fatalf("%s: %v %v, own key recorded: %v", site, found, err, own)
			}
		}
	})
}

// TestHostileHashSlots patches the hash table of a node (with consistent
// checksums, as a file written by a broken writer would have them):
// lookups give ErrCorrupt or a miss, never a panic, a hang or another
// key's records, and Verify finds the damage. It does so for nodes with
// 4-byte slots and, with a record of 17 MiB that puts the leaves more
// than 16 MiB before their index, for a node with 8-byte slots.
func TestHostileHashSlots(t *testing.T) {
	for _, big := range []bool{false, true} {
		t.Run(fmt.Sprint("big=", big), func(t *testing.T) { hostileHashSlots(t, big) })
	}
}

func hostileHashSlots(t *testing.T, big bool) {
	db, path := openTemp(t, nil)
	keys := hashKeys(40)
	update(t, db, func(tx *Txn) {
		for _, k := range keys {
			if _, err := tx.Insert([]string{"leaves", k}, nil, []byte(k)); err != nil {
				t.Fatal(err)
			}
			if _, err := tx.Insert([]string{"indices", k, "x"}, nil, []byte(k)); err != nil {
				t.Fatal(err)
			}
		}
		if big {
			if _, err := tx.Insert([]string{"leaves", "zzz"}, nil, make([]byte, 17<<20)); err != nil {
				t.Fatal(err)
			}
		}
	})
	good := mustRead(t, path)
	h, err := decodeHeader(good)
	if err != nil {
		t.Fatal(err)
	}
	s := borrow(&version{data: good, head: good, h: h})
	node := func(group string) (Index, int, int) {
		ix, found, err := s.LookupIndex(group)
		if err != nil || !found || ix.ns == 0 {
			t.Fatalf("%s: %v %v, %d hash slots", group, found, err, ix.ns)
		}
		payload := int(ix.off) + extHeaderLen
		return ix, payload, payload + ix.hs
	}
	if ix, _, _ := node("leaves"); big != (ix.sw == 8) {
		t.Fatalf("leaves: slots of %d bytes with a big record: %v", ix.sw, big)
	}
	get := func(b []byte, at, w int) uint64 { return slotAt(b[at:], 0, w) }
	set := func(b []byte, at, w int, v uint64) {
		if w == 4 {
			binary.BigEndian.PutUint32(b[at:], uint32(v))
		} else {
			binary.BigEndian.PutUint64(b[at:], v)
		}
	}
	// slotOf returns the offset of the slot that holds keys[0].
	slotOf := func(ix Index, slots int) int {
		hk := hashKey(keys[0])
		db := slotDistBits(ix.sw)
		for i, sl := 0, int(hashHome(hk, uint64(ix.ns))); i < ix.ns; i++ {
			e := get(good, slots+sl*ix.sw, ix.sw)
			if e>>db == hk&(1<<slotTagBits(ix.sw)-1) {
				if _, _, found, _ := slotChild(ix.b, ix.off, e&(1<<db-1), keys[0]); found {
					return slots + sl*ix.sw
				}
			}
			if sl++; sl == ix.ns {
				sl = 0
			}
		}
		t.Fatal("no slot holds the first key")
		return 0
	}
	type patch struct {
		name  string
		patch func(b []byte)
	}
	var cases []patch
	for _, group := range []string{"leaves", "indices"} {
		ix, payload, slots := node(group)
		w := ix.sw
		mask := uint64(1)<<slotDistBits(w) - 1
		s0 := slotOf(ix, slots)
		e0 := get(good, s0, w)
		var other uint64 // another key's slot
		for sl := 0; sl < ix.ns; sl++ {
			if e := get(good, slots+sl*w, w); e != 0 && slots+sl*w != s0 {
				other = e
				break
			}
		}
		cases = append(cases,
			patch{group + ": too few slots", func(b []byte) { binary.BigEndian.PutUint32(b[payload+12:], uint32(ix.n)) }},
			patch{group + ": slots past the node", func(b []byte) { binary.BigEndian.PutUint32(b[payload+12:], 1<<31) }},
			patch{group + ": slot width 5", func(b []byte) { b[payload+16] = 5 }},
			patch{group + ": other slot width", func(b []byte) { b[payload+16] = byte(12 - w) }},
			patch{group + ": own key past the node", func(b []byte) { binary.BigEndian.PutUint32(b[payload+17:], 1<<31) }},
			patch{group + ": every slot taken", func(b []byte) {
				for sl := range ix.ns {
					if get(b, slots+sl*w, w) == 0 {
						set(b, slots+sl*w, w, 1)
					}
				}
			}},
			patch{group + ": target after the parent", func(b []byte) { set(b, s0, w, e0|mask) }},
			patch{group + ": target inside other bytes", func(b []byte) { set(b, s0, w, e0+3) }},
			patch{group + ": wrong tag", func(b []byte) { set(b, s0, w, e0^(mask+1)) }},
			patch{group + ": another key's target", func(b []byte) { set(b, s0, w, e0&^mask|other&mask) }},
			patch{group + ": zeroed table", func(b []byte) { clear(b[slots : slots+ix.ns*w]) }},
		)
	}
	ix, _, _ := node("indices")
	k, err := ix.Key(1) // the first key is "", whose own key has no byte to flip
	if err != nil || len(k) == 0 {
		t.Fatalf("key 1 of indices: %q, %v", k, err)
	}
	child, err := ix.Child(1)
	if err != nil {
		t.Fatal(err)
	}
	cases = append(cases, patch{"indices: wrong own key", func(b []byte) {
		b[child.off+extHeaderLen+index2HeadLen] ^= 1
	}})
	dir := t.TempDir()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := bytes.Clone(good)
			c.patch(b)
			fixChecksums(b)
			v, err := openVersion(writeFile(t, dir, b))
			if err != nil {
				t.Fatalf("open: %v", err) // open reads the header only
			}
			defer v.release()
			if err := verifyVersion(v); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("Verify = %v, want ErrCorrupt", err)
			}
			s := borrow(v)
			for _, k := range keys {
				for _, path := range [][]string{{"leaves", k}, {"indices", k, "x"}} {
					l, err := s.Lookup(path...)
					if err != nil {
						if !errors.Is(err, ErrCorrupt) {
							t.Fatalf("Lookup(%q): %v is not ErrCorrupt", path, err)
						}
						continue
					}
					if l.Len() == 0 {
						continue // a miss: the table no longer leads there
					}
					if _, data, _, err := l.Fields(0); err == nil && string(data) != k {
						t.Fatalf("Lookup(%q) found the records of %q", path, data)
					}
				}
			}
			walkEverything(s)
		})
	}
}

func copyFile(t testing.TB, from, to string) {
	t.Helper()
	src, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := os.Create(to)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
}
