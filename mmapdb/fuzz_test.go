package mmapdb

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
)

// FuzzOpenVerifyWalk feeds arbitrary bytes to the reader: open, verify and
// every read path must give format errors, never panic or read out of
// range. Each input is tried as it is and with its length and checksums
// made consistent, so that the structure behind the checksums is explored
// too.
func FuzzOpenVerifyWalk(f *testing.F) {
	good := smallDBBytes(f)
	f.Add(good)
	f.Add(good[:headerLen])
	f.Add(good[:len(good)/2])
	empty := func() []byte {
		db, path := openTemp(f, nil)
		tx, err := db.Begin()
		if err != nil {
			f.Fatal(err)
		}
		tx.Rollback()
		return mustRead(f, path)
	}()
	f.Add(empty)
	mangled := bytes.Clone(good)
	mangled[len(mangled)-20] ^= 0x40
	f.Add(mangled)
	f.Add([]byte("not a database"))
	f.Add(mustRead(f, filepath.Join("testdata", "format-v1.mmdb")))
	hashed := func() []byte {
		db, path := openTemp(f, nil)
		update(f, db, func(tx *Txn) {
			for i, k := range hashKeys(12) {
				if _, err := tx.Insert([]string{"idx", k}, nil, fmt.Append(nil, i)); err != nil {
					f.Fatal(err)
				}
			}
		})
		return mustRead(f, path)
	}()
	f.Add(hashed)

	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, fix := range []bool{false, true} {
			b := bytes.Clone(data)
			if fix {
				fixChecksums(b)
			}
			path := writeFile(t, dir, b)
			v, err := openVersion(path)
			if err != nil {
				if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrBadMagic) && !errors.Is(err, ErrVersion) {
					t.Fatalf("open: error %v is not a format sentinel", err)
				}
				continue
			}
			if err := verifyVersion(v); err != nil && !errors.Is(err, ErrCorrupt) {
				t.Fatalf("verify: error %v is not ErrCorrupt", err)
			}
			walkEverything(borrow(v))
			v.release()
		}
	})
}
