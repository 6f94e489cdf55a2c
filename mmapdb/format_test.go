package mmapdb

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vmihailenco/msgpack/v5"
)

// smallDBBytes builds a small database and returns its file's bytes.
func smallDBBytes(t testing.TB) []byte {
	t.Helper()
	db, path := openTemp(t, nil)
	update(t, db, func(tx *Txn) {
		mustInsert(t, tx, "trans/db/actn/front/:PRE:", "\x00\x00\x00\x00\x00\x00\x00\x00", "Cond: $HOSTNAME")
		mustInsert(t, tx, "trans/db/actn/front/:PRE:", "\x00\x00\x00\x00\x00\x00\x00\x01", "Redirect: 301")
		mustInsert(t, tx, "trans/db/actn/front//static", "\x00\x00\x00\x00\x00\x00\x00\x00", "File: $DOCROOT")
		mustInsert(t, tx, "trans/db/note/front//static", "\x00\x00\x00\x00\x00\x00\x00\x00", "a note")
	})
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// fixChecksums makes a (possibly mangled) image self-consistent again:
// length, body and header checksums, so that structural checks are reached.
func fixChecksums(b []byte) {
	if len(b) < headerLen {
		return
	}
	binary.BigEndian.PutUint64(b[fieldOff["length"]+1:], uint64(len(b)))
	binary.BigEndian.PutUint32(b[fieldOff["body_crc"]+1:], bodyChecksum(b))
	binary.BigEndian.PutUint32(b[fieldOff["header_crc"]+1:], headerChecksum(b))
}

func writeFile(t testing.TB, dir string, b []byte) string {
	t.Helper()
	path := filepath.Join(dir, "img.mmdb")
	_ = os.Remove(path) // never truncate a file that may still be mapped
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestFileIsAStreamOfMsgpackValues(t *testing.T) {
	b := smallDBBytes(t)
	dec := msgpack.NewDecoder(bytes.NewReader(b))
	hdr, err := dec.DecodeMap()
	if err != nil {
		t.Fatal(err)
	}
	if hdr["magic"] != Magic || fmt.Sprint(hdr["version"]) != fmt.Sprint(FormatVersion) || hdr["valid"] != true ||
		fmt.Sprint(hdr["records"]) != "4" || fmt.Sprint(hdr["length"]) != fmt.Sprint(len(b)) {
		t.Fatalf("header decodes to %v", hdr)
	}
	records, values := 0, 1
	for {
		raw, err := dec.DecodeRaw()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("value %d: %v", values, err)
		}
		values++
		if raw[0] != mpExt32 || raw[5] != extLeaf {
			continue
		}
		// A leaf: path offset, count, record offsets, then the records,
		// each a msgpack array of four.
		payload := raw[extHeaderLen:]
		n := int(binary.BigEndian.Uint32(payload[8:]))
		rd := msgpack.NewDecoder(bytes.NewReader(payload[leafHeadLen+4*n:]))
		for range n {
			v, err := rd.DecodeInterface()
			if err != nil {
				t.Fatal(err)
			}
			rec, ok := v.([]any)
			if !ok || len(rec) != 4 {
				t.Fatalf("record decodes to %#v", v)
			}
			if _, ok := rec[2].([]byte); !ok {
				t.Fatalf("record data is %T", rec[2])
			}
			records++
		}
	}
	if records != 4 {
		t.Fatalf("decoded %d records, want 4", records)
	}
}

func TestHeaderLayoutIsFixed(t *testing.T) {
	if headerLen != 184 || validOff != 39 {
		t.Fatalf("header is %d bytes with the valid flag at %d; FORMAT.md says 184 and 39", headerLen, validOff)
	}
	b := smallDBBytes(t)
	if b[validOff] != mpTrue || string(b[2:16]) != "magictransdb-m"[:14] && !bytes.Contains(b[:22], []byte(Magic)) {
		t.Fatalf("header starts %q", b[:40])
	}
}

func TestCommitChangesOnlyTheValidFlagOfTheOldFile(t *testing.T) {
	db, path := openTemp(t, nil)
	update(t, db, func(tx *Txn) { mustInsert(t, tx, "k", "", "v1") })
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	oldName := path + ".old"
	if err := os.Link(path, oldName); err != nil {
		t.Fatal(err)
	}
	update(t, db, func(tx *Txn) { mustInsert(t, tx, "k", "", "v2") })
	after, err := os.ReadFile(oldName)
	if err != nil {
		t.Fatal(err)
	}
	for i := range before {
		if before[i] != after[i] && i != validOff {
			t.Fatalf("commit changed byte %d of the old file", i)
		}
	}
	if after[validOff] != mpFalse {
		t.Fatalf("old valid flag = %#x, want cleared", after[validOff])
	}
	// The superseded file is still a consistent database.
	if err := VerifyFile(oldName, nil); err != nil {
		t.Fatal(err)
	}
}

func TestOpenRejectsBadFiles(t *testing.T) {
	good := smallDBBytes(t)
	future := bytes.Clone(good)
	binary.BigEndian.PutUint16(future[versionOff+1:], FormatVersion+1)
	fixChecksums(future)
	zero := bytes.Clone(good)
	binary.BigEndian.PutUint16(zero[versionOff+1:], 0)
	fixChecksums(zero)
	badHeaderCRC := bytes.Clone(good)
	badHeaderCRC[fieldOff["generation"]+8] ^= 1
	cases := []struct {
		name string
		data []byte
		want error
		msg  string
	}{
		{"empty", nil, ErrCorrupt, "empty"},
		{"text", []byte("# transdb dump generation=1 records=0\n"), ErrBadMagic, ""},
		{"elf", []byte("\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00"), ErrBadMagic, ""},
		{"other msgpack map", []byte{0x81, 0xa1, 'a', 0x01}, ErrBadMagic, ""},
		{"truncated in magic", good[:10], ErrCorrupt, ""},
		{"truncated in header", good[:100], ErrCorrupt, "shorter"},
		{"truncated in body", good[:len(good)-7], ErrCorrupt, "header says"},
		{"trailing bytes", append(bytes.Clone(good), 0), ErrCorrupt, "header says"},
		{"future version", future, ErrVersion, fmt.Sprintf("version %d", FormatVersion+1)},
		{"version 0", zero, ErrVersion, "version 0"},
		{"header checksum", badHeaderCRC, ErrCorrupt, "header checksum"},
	}
	dir := t.TempDir()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := writeFile(t, dir, c.data)
			_, err := Open(path, &Options{CheckInterval: -1})
			if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.msg) {
				t.Fatalf("Open: %v, want %v containing %q", err, c.want, c.msg)
			}
			if !strings.Contains(err.Error(), path) {
				t.Fatalf("error %q does not name the file", err)
			}
		})
	}
}

func TestEveryFlippedByteIsDetected(t *testing.T) {
	good := smallDBBytes(t)
	dir := t.TempDir()
	for i := range good {
		if i == validOff {
			continue
		}
		for _, mask := range []byte{0x01, 0x80, 0xff} {
			b := bytes.Clone(good)
			b[i] ^= mask
			path := writeFile(t, dir, b)
			err := VerifyFile(path, nil)
			if err == nil {
				t.Fatalf("flipping byte %d with %#x went unnoticed", i, mask)
			}
			if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrBadMagic) && !errors.Is(err, ErrVersion) {
				t.Fatalf("byte %d: error %v is not a format sentinel", i, err)
			}
		}
	}
}

func TestHostileOffsetsGiveErrorsNotPanics(t *testing.T) {
	good := smallDBBytes(t)
	h, err := decodeHeader(good)
	if err != nil {
		t.Fatal(err)
	}
	rootPayload := h.root + extHeaderLen
	root, err := indexAt(good, h.root)
	if err != nil {
		t.Fatal(err)
	}
	entry0 := rootPayload + uint64(root.ent)
	cases := []struct {
		name  string
		patch func(b []byte)
	}{
		{"child after parent", func(b []byte) {
			binary.BigEndian.PutUint64(b[entry0+8:], h.root+1)
		}},
		{"child outside file", func(b []byte) {
			binary.BigEndian.PutUint64(b[entry0+8:], 1<<62)
		}},
		{"key outside node", func(b []byte) {
			binary.BigEndian.PutUint32(b[entry0:], 1<<31)
		}},
		{"huge entry count", func(b []byte) {
			binary.BigEndian.PutUint32(b[rootPayload:], 1<<31)
		}},
		{"ext length past end", func(b []byte) {
			binary.BigEndian.PutUint32(b[h.root+1:], 1<<31)
		}},
		{"id index entry outside", func(b []byte) {
			binary.BigEndian.PutUint64(b[h.ids+extHeaderLen+8:], 1<<40)
		}},
	}
	dir := t.TempDir()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := bytes.Clone(good)
			c.patch(b)
			fixChecksums(b)
			path := writeFile(t, dir, b)
			v, err := openVersion(path)
			if err != nil {
				if !errors.Is(err, ErrCorrupt) {
					t.Fatalf("open: %v", err)
				}
				return
			}
			defer v.release()
			if err := verifyVersion(v); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("Verify = %v, want ErrCorrupt", err)
			}
			walkEverything(borrow(v))
		})
	}
}

// walkEverything exercises every read path; it must not panic whatever
// the file holds.
func walkEverything(s *Snapshot) {
	for _, err := range s.All() {
		if err != nil {
			break
		}
	}
	for _, err := range s.IDOrder() {
		if err != nil {
			break
		}
	}
	_, _, _ = s.ByID(1)
	root, err := s.Root()
	if err != nil {
		return
	}
	for e, err := range root.Entries(0) {
		if err != nil {
			break
		}
		_, _, _, _ = lookupPosition(s, string(e.Key), "x")
		_, _ = s.Lookup(string(e.Key))
		_, _ = s.Lookup(string(e.Key) + "x")
		if sub, err := e.Node.Index(); err == nil {
			for se, err := range sub.Entries(0) {
				if err != nil {
					break
				}
				_, _ = s.Lookup(string(e.Key), string(se.Key))
				_, _ = s.Lookup(string(e.Key), string(se.Key)+"x")
				_, _, _ = s.LookupIndex(string(e.Key), string(se.Key))
			}
		}
		if e.Node.IsLeaf() {
			l, err := e.Node.Leaf()
			if err == nil && l.Len() > 0 {
				r, err := l.At(0)
				if err == nil {
					_, _ = r.Keys()
				}
			}
		}
	}
}
