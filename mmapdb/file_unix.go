//go:build unix

package mmapdb

import (
	"io/fs"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// fileIdentity returns the device and inode of a file, which change when
// the file at a path is replaced (by a commit, mv or rsync).
func fileIdentity(fi fs.FileInfo) (dev, ino uint64) {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Dev), uint64(st.Ino)
	}
	return 0, 0
}

// openReadOnly opens path for reading as os.Open does, without what
// os.Open adds for files it might poll: four fcntl calls and an epoll_ctl
// that fails for a regular file, a quarter of the cost of opening a
// database. Errors are *fs.PathError, as from os.Open.
func openReadOnly(path string) (*os.File, error) {
	for {
		fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err == nil {
			return os.NewFile(uintptr(fd), path), nil
		}
		if err != unix.EINTR {
			return nil, &fs.PathError{Op: "open", Path: path, Err: err}
		}
	}
}

// adviseRandom tells the kernel that the mapping is read at random, so a
// page fault does not read ahead megabytes that a lookup never touches.
func adviseRandom(b []byte) {
	_ = unix.Madvise(b, unix.MADV_RANDOM)
}

// adviseSequential tells the kernel that the mapping is read front to
// back, as Verify does.
func adviseSequential(b []byte) {
	_ = unix.Madvise(b, unix.MADV_SEQUENTIAL)
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// lockTemp takes a lock on a temporary file that its writer holds until
// the file is renamed into place: the kernel lets go of it when the
// writer dies, which tells the file's remains from work in progress.
func lockTemp(f *os.File) error {
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err != unix.EINTR {
			return err
		}
	}
}

// removeIfUnlocked deletes the temporary file at path unless a writer
// holds its lock (see lockTemp). Taking the lock first makes sure that
// no writer is still at work on it: one that renames the file into place
// does so holding the lock, so the file found under the lock is checked
// to be still the one at path.
func removeIfUnlocked(path string) {
	f, err := openReadOnly(path)
	if err != nil {
		return
	}
	defer f.Close()
	if lockTemp(f) != nil {
		return // a live writer's
	}
	held, err1 := f.Stat()
	cur, err2 := os.Lstat(path)
	if err1 == nil && err2 == nil && os.SameFile(held, cur) {
		_ = os.Remove(path)
	}
}
