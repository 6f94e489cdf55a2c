package mmapdb

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gofrs/flock"
)

// lockPath returns the lock file of a database: <file>.lock.
func lockPath(path string) string { return path + ".lock" }

// tempPrefix is the name prefix of a writer's temporary files.
func tempPrefix(path string) string { return filepath.Base(path) + ".tmp-" }

// lock takes the exclusive lock on <file>.lock, waiting at most timeout
// (zero: as long as it takes).
func lock(path string, timeout time.Duration, mode os.FileMode) (*flock.Flock, error) {
	fl := flock.New(lockPath(path), flock.SetPermissions(mode))
	var err error
	if timeout <= 0 {
		err = fl.Lock()
	} else {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		var ok bool
		ok, err = fl.TryLockContext(ctx, 5*time.Millisecond)
		cancel()
		if err == nil && !ok {
			err = fmt.Errorf("timed out after %v", timeout)
		}
	}
	if err != nil {
		_ = fl.Close()
		return nil, fmt.Errorf("%w: %s: %v", ErrLockFailed, lockPath(path), err)
	}
	return fl, nil
}

// removeStaleTemps deletes temporary files left in the database's
// directory by writers that died before renaming them. Only the holder
// of the lock may call it: no other writer is alive then.
func removeStaleTemps(path string) {
	dir, prefix := filepath.Dir(path), tempPrefix(path)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), prefix) {
			_ = os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}
