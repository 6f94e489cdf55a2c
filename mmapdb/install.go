package mmapdb

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// Copies of versions. A replica of a database elsewhere is kept up to
// date by copying the file of each new version as it is: same
// generation, same bytes. NewImageReader reads a version's file as it
// was committed, for sending it away; StatFile reads what a received
// file says of its version; Install puts it in place as a commit puts a
// new version, so that the replica's readers move to it as they do after
// any commit.

// FileInfo is what the header of a database file says of its version.
type FileInfo struct {
	Generation uint64    // the transaction counter, as Snapshot.Generation
	Checksum   uint32    // the body checksum, as Snapshot.Checksum
	Size       int64     // the length of the file
	Records    uint64    // the number of data records
	Created    time.Time // when the version was written
}

// info returns what the version's header says.
func (v *version) info() FileInfo {
	return FileInfo{
		Generation: v.h.generation,
		Checksum:   v.h.bodyCRC,
		Size:       int64(v.h.length),
		Records:    v.h.records,
		Created:    v.h.createdTime(),
	}
}

// StatFile reads the header of the database file at path. Like Open it
// reads nothing but the header, whatever the file's size, and fails on a
// file that is not a database or whose length is not the header's; it
// does not verify the body (VerifyFile does).
func StatFile(path string) (FileInfo, error) {
	v, err := openVersion(path)
	if err != nil {
		return FileInfo{}, err
	}
	defer v.release()
	return v.info(), nil
}

// NewImageReader returns a reader of data, the whole file of a version
// as Snapshot.Bytes returns it, as the file was when the version was
// written: with the valid flag set, which a committer may have cleared
// in the mapping since. It reads data in place, without a copy: data
// must stay mapped, its snapshot pinned, until the reader is done.
func NewImageReader(data []byte) io.Reader {
	parts := imageParts(data)
	readers := make([]io.Reader, len(parts))
	for i, p := range parts {
		readers[i] = bytes.NewReader(p)
	}
	return io.MultiReader(readers...)
}

// imageParts returns data in pieces that, written one after the other,
// are data with the valid flag set.
func imageParts(data []byte) [][]byte {
	if len(data) <= validOff {
		return [][]byte{data} // not a database: nothing to set
	}
	return [][]byte{data[:validOff], {mpTrue}, data[validOff+1:]}
}

// Install puts the database file at src in place of the database at
// path as it is, its generation included, the way a commit puts a new
// version in place: it verifies src completely, as VerifyFile does,
// sets its valid flag, fsyncs it and then, under the lock on
// <path>.lock (unless opts.NoLock), renames it over path, fsyncs the
// directory and clears the valid flag of the version it replaces, so
// that readers in every process move to it at once. It is how a replica
// receives the versions a writer elsewhere committed; ReadOnly in opts
// does not matter, only NoLock, LockTimeout and Mode (of src, default
// 0644) do. src must be in the directory of path.
//
// A src whose generation is not above that of the database at path is
// refused with ErrNotNewer, so that an older copy never replaces a newer
// one; a missing database, or a file at path that is not a readable
// database, is replaced. A damaged src fails with ErrCorrupt (or
// ErrBadMagic, ErrVersion). On error nothing changes and src is left
// for the caller to remove. The cost is that of VerifyFile, linear in
// the size of src.
func Install(path, src string, opts *Options) (FileInfo, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Mode == 0 {
		o.Mode = 0o644
	}
	path, src = filepath.Clean(path), filepath.Clean(src)
	dir := filepath.Dir(path)
	if filepath.Dir(src) != dir {
		return FileInfo{}, fmt.Errorf("mmapdb: install %s: not in the directory of %s", src, path)
	}
	v, err := openVersion(src)
	if err != nil {
		return FileInfo{}, fmt.Errorf("install: %w", err) // err names the file
	}
	adviseSequential(v.data)
	err = verifyVersion(v)
	h, vdev, vino := v.h, v.dev, v.ino // the header stays readable after the release
	info := v.info()
	v.release()
	if err != nil {
		return info, fmt.Errorf("install %s: %w", src, err)
	}

	if !o.NoLock {
		fl, err := lock(path, o.LockTimeout, o.Mode)
		if err != nil {
			return info, err
		}
		defer func() {
			_ = fl.Unlock()
			_ = fl.Close()
		}()
	}
	// The version in place must be older. Its file is opened before the
	// rename, to clear its valid flag after it.
	var old *os.File
	cur, err := openVersion(path)
	switch {
	case err == nil:
		gen := cur.h.generation
		cur.release()
		if gen >= info.Generation {
			return info, fmt.Errorf("install %s: generation %d, %s has %d: %w", src, info.Generation, path, gen, ErrNotNewer)
		}
		if old, err = os.OpenFile(path, os.O_WRONLY, 0); err != nil {
			return info, fmt.Errorf("mmapdb: install: open for writing: %w", err)
		}
		defer old.Close()
	case errors.Is(err, fs.ErrNotExist):
	case errors.Is(err, ErrCorrupt), errors.Is(err, ErrBadMagic), errors.Is(err, ErrVersion):
		// Nothing a reader could map: nothing to invalidate either.
	default:
		return info, err
	}

	f, err := os.OpenFile(src, os.O_WRONLY, 0)
	if err != nil {
		return info, fmt.Errorf("mmapdb: install: %w", err)
	}
	defer f.Close() // after the Sync below, closing loses nothing
	_, err = f.WriteAt([]byte{mpTrue}, int64(validOff))
	if err == nil {
		err = f.Chmod(o.Mode)
	}
	if err == nil {
		err = f.Sync()
	}
	if err != nil {
		return info, fmt.Errorf("mmapdb: install %s: %w", src, err)
	}
	// A reader of this process that maps the file between the rename and
	// the mark below waits for the mark before it asks whether the file
	// is verified (version.verified), rather than verifying it again.
	marks.installing.Lock()
	if err := os.Rename(src, path); err != nil {
		marks.installing.Unlock()
		return info, fmt.Errorf("mmapdb: install: %w", err)
	}
	// In place, with its valid flag (outside the checksums) written: if
	// it is the file that verified (src was not replaced meanwhile), it
	// is known verified (Snapshot.Verified), with the times the rename
	// left it.
	if fi, err := f.Stat(); err == nil {
		if dev, ino := fileIdentity(fi); dev == vdev && ino == vino {
			markVerified(markOf(fi, h))
		}
	}
	marks.installing.Unlock()
	if err := syncDir(dir); err != nil {
		return info, fmt.Errorf("mmapdb: sync directory %s: %w", dir, err)
	}
	if old != nil {
		// One positioned write, as after a commit: readers of the old
		// version see it in their own mapping and move on.
		if _, err := old.WriteAt([]byte{mpFalse}, int64(validOff)); err != nil {
			return info, fmt.Errorf("mmapdb: invalidate old version of %s: %w", path, err)
		}
	}
	return info, nil
}
