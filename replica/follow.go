package replica

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"transdb/internal/redact"
	"transdb/mmapdb"
	"transdb/translation"
)

// A Follower keeps a read-only provider's database file a copy of the
// newest version in a bucket (see the package documentation). It is
// safe for concurrent use.
type Follower struct {
	p      *translation.Provider
	path   string
	object string
	opts   Options
	log    *slog.Logger
	nc     *nats.Conn
	js     jetstream.JetStream

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	once   sync.Once // of Close
	wake   chan struct{}

	mu      sync.Mutex
	obs     jetstream.ObjectStore // bound; nil until then and after a failure
	have    uint64                // the generation of the file
	offer   *jetstream.ObjectInfo // the newest object newer than the file, not refused
	offerV  version               // what offer's metadata says
	loading uint64                // the generation being downloaded; 0: none
	abort   context.CancelFunc    // ends the download under way
	refused map[string]bool       // the objects refused, by NUID

	st state
}

// tempPattern is the pattern of the temporary files of the downloads
// of file, for os.CreateTemp.
func tempPattern(file string) string { return filepath.Base(file) + ".follow-*" }

// NewFollower starts following the bucket of opts into the file of p, a
// read-only provider: it connects to NATS in the background, watches the
// bucket and installs every version newer than the file. It first
// removes the temporary files of downloads that a follower of the file
// left when it died. It fails only on options that cannot work; NATS
// out of reach is not an error. Close it before stopping p.
func NewFollower(p *translation.Provider, opts Options) (*Follower, error) {
	if err := checkOptions(&opts); err != nil {
		return nil, err
	}
	f := &Follower{
		p:       p,
		path:    p.Path(),
		object:  objectName(p.Path()),
		opts:    opts,
		wake:    make(chan struct{}, 1),
		refused: map[string]bool{},
	}
	f.log = opts.Logger.With("file", f.path, "url", redact.URL(opts.URL), "bucket", opts.Bucket)
	f.have = f.fileGeneration()
	f.st.st = Status{Role: "follow", File: f.path, URL: redact.URL(opts.URL), Bucket: opts.Bucket,
		Object: f.object, Generation: f.have}
	f.removeStaleTemps()
	var err error
	if f.nc, f.js, err = connect(opts, "follow", f.path); err != nil {
		return nil, err
	}
	f.ctx, f.cancel = context.WithCancel(context.Background())
	f.wg.Go(f.watchLoop)
	f.wg.Go(f.pollLoop)
	f.wg.Go(f.syncLoop)
	return f, nil
}

// Status returns the state of the follower.
func (f *Follower) Status() Status {
	return f.st.withConn(f.nc)
}

// Close stops the follower, abandoning a download under way (the file
// in place stays), and closes the connection. Closing twice does
// nothing.
func (f *Follower) Close() error {
	f.once.Do(func() {
		f.cancel()
		f.wg.Wait()
		f.nc.Close()
	})
	return nil
}

// fileGeneration returns the generation of the file, 0 when there is
// no readable one.
func (f *Follower) fileGeneration() uint64 {
	fi, err := mmapdb.StatFile(f.path)
	if err != nil {
		return 0
	}
	return fi.Generation
}

// removeStaleTemps removes the temporary files of the downloads of dead
// followers, unless a live one holds the lock.
func (f *Follower) removeStaleTemps() {
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	unlock, err := lockFile(ctx, f.path, f.opts.NoLock)
	if err != nil {
		return
	}
	defer unlock()
	names, _ := filepath.Glob(filepath.Join(filepath.Dir(f.path), tempPattern(f.path)))
	for _, name := range names {
		if os.Remove(name) == nil {
			f.log.Info("replication: removed the download of a follower that stopped", "temp", name)
		}
	}
}

// bucket returns the bound bucket, binding it first.
func (f *Follower) bucket(ctx context.Context) (jetstream.ObjectStore, error) {
	f.mu.Lock()
	obs := f.obs
	f.mu.Unlock()
	if obs != nil {
		return obs, nil
	}
	obs, err := f.js.ObjectStore(ctx, f.opts.Bucket)
	if err != nil {
		return nil, fmt.Errorf("bucket %s: %w", f.opts.Bucket, err)
	}
	f.mu.Lock()
	f.obs = obs
	f.mu.Unlock()
	return obs, nil
}

// unbind drops the bound bucket after a failure, to bind it again.
func (f *Follower) unbind() {
	f.mu.Lock()
	f.obs = nil
	f.mu.Unlock()
}

// watchLoop watches the bucket until Close, binding and watching again
// after a failure.
func (f *Follower) watchLoop() {
	var retry backoff
	waiting := false // for the bucket to be created
	for {
		start := time.Now()
		err := f.watch()
		if f.ctx.Err() != nil {
			return
		}
		f.unbind()
		if time.Since(start) > maxRetry {
			retry.reset()
		}
		wait := retry.next()
		if errors.Is(err, jetstream.ErrBucketNotFound) {
			// The writer has not published yet: not a failure.
			if !waiting {
				f.log.Info("replication: the bucket does not exist yet, waiting for the writer to publish")
			}
			waiting = true
		} else {
			waiting = false
			err = f.failed(err)
			f.log.Warn("replication: watching the bucket failed, trying again", "err", err, "retry", wait.String())
		}
		select {
		case <-f.ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}

// watch offers every update of the object to the sync loop until the
// watch fails or Close.
func (f *Follower) watch() error {
	if !f.nc.IsConnected() {
		return notConnected(f.nc)
	}
	ctx, cancel := context.WithTimeout(f.ctx, apiTimeout)
	obs, err := f.bucket(ctx)
	var w jetstream.ObjectWatcher
	if err == nil {
		w, err = obs.Watch(f.ctx)
	}
	cancel()
	if err != nil {
		return err
	}
	defer w.Stop()
	for {
		select {
		case <-f.ctx.Done():
			return nil
		case info, ok := <-w.Updates():
			if !ok {
				return errors.New("the watch ended")
			}
			f.see(info)
		}
	}
}

// pollLoop asks for the object at once and then every pollInterval,
// until Close, and offers it to the sync loop: besides the watch, which
// may take a while to start, or miss an update when a NATS server dies.
// Its failures wait for the next round; the watch reports them.
func (f *Follower) pollLoop() {
	for {
		if f.nc.IsConnected() {
			ctx, cancel := context.WithTimeout(f.ctx, apiTimeout)
			if obs, err := f.bucket(ctx); err == nil {
				if info, err := obs.GetInfo(ctx, f.object); err == nil {
					f.see(info)
				}
			}
			cancel()
		}
		select {
		case <-f.ctx.Done():
			return
		case <-time.After(pollInterval):
		}
	}
}

// see takes note of an object of the bucket: a version newer than the
// file, and than what is on offer, is offered to the sync loop (and
// ends a download of an older one); an older one is refused.
func (f *Follower) see(info *jetstream.ObjectInfo) {
	if info == nil || info.Name != f.object || info.Deleted {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.refused[info.NUID] {
		return
	}
	v, err := versionOf(info)
	if err != nil {
		f.refuseLocked(info.NUID, err)
		return
	}
	f.st.update(func(st *Status) { st.progress(v.generation, info.ModTime) })
	switch {
	case v.generation < f.have:
		f.refuseLocked(info.NUID, fmt.Errorf("object of generation %d is older than the file's %d", v.generation, f.have))
	case v.generation == f.have:
	case f.offer == nil || v.generation > f.offerV.generation:
		f.offer, f.offerV = info, v
		select {
		case f.wake <- struct{}{}:
		default:
		}
		if f.loading != 0 && f.loading < v.generation {
			f.abort()
		}
	}
}

// refuseLocked records that the object nuid is refused for err, and
// forgets it if it is on offer. f.mu is held.
func (f *Follower) refuseLocked(nuid string, err error) {
	err = redact.Error(err)
	if len(f.refused) > 1000 {
		clear(f.refused)
	}
	f.refused[nuid] = true
	if f.offer != nil && f.offer.NUID == nuid {
		f.offer = nil
	}
	f.st.update(func(st *Status) {
		st.Refused++
		st.Err = err.Error()
	})
	f.log.Warn("replication: object refused, the file in place is kept", "nuid", nuid, "err", err)
}

// failed records a failure that is tried again, and returns it fit for
// the log.
func (f *Follower) failed(err error) error {
	err = redact.Error(err)
	f.st.update(func(st *Status) {
		st.Failures++
		st.Err = err.Error()
	})
	return err
}

// A refusal is the failure of a download that says the object itself
// is wrong: it is not tried again.
type refusal struct {
	nuid string
	err  error
}

func (r *refusal) Error() string { return r.err.Error() }
func (r *refusal) Unwrap() error { return r.err }

// syncLoop installs what see offers, one version at a time, until Close.
func (f *Follower) syncLoop() {
	var retry backoff
	for {
		select {
		case <-f.ctx.Done():
			return
		case <-f.wake:
		}
		for {
			f.mu.Lock()
			info, v := f.offer, f.offerV
			if info == nil {
				f.mu.Unlock()
				break
			}
			ctx, cancel := context.WithTimeout(f.ctx, transferTimeout(int64(info.Size)))
			f.loading, f.abort = v.generation, cancel
			f.mu.Unlock()

			err := f.install(ctx, info, v)
			superseded := errors.Is(err, errSuperseded) ||
				errors.Is(ctx.Err(), context.Canceled) && f.ctx.Err() == nil
			cancel()

			f.mu.Lock()
			f.loading, f.abort = 0, nil
			var ref *refusal
			switch {
			case f.ctx.Err() != nil:
				f.mu.Unlock()
				return
			case err == nil:
				retry.reset()
				if f.offer == info {
					f.offer = nil
				}
			case superseded:
				// A newer object is on offer, or is the one install
				// looks up next: on to it.
			case errors.As(err, &ref):
				f.refuseLocked(ref.nuid, ref.err)
			default:
				f.mu.Unlock()
				wait := retry.next()
				err = f.failed(err)
				f.log.Warn("replication: download failed, trying again", "generation", v.generation, "err", err, "retry", wait.String())
				select {
				case <-f.ctx.Done():
					return
				case <-time.After(wait):
				}
				continue
			}
			f.mu.Unlock()
		}
	}
}

// errSuperseded ends a download whose object was replaced by a newer
// one meanwhile: the newer one is next.
var errSuperseded = errors.New("the object was replaced while it was downloaded")

// install downloads the object on offer, info with version v, or a
// newer one that replaced it, checks it and puts it in place. An error
// that says the object is wrong is a *refusal.
func (f *Follower) install(ctx context.Context, info *jetstream.ObjectInfo, v version) error {
	unlock, err := lockFile(ctx, f.path, f.opts.NoLock)
	if err != nil {
		return err
	}
	defer unlock()
	// Another follower of the file may have installed it meanwhile.
	if have := f.fileGeneration(); have >= v.generation {
		f.installed(have, 0)
		return nil
	}
	obs, err := f.bucket(ctx)
	if err != nil {
		return err
	}
	// The object may have changed since info: take the newest.
	cur, err := f.lookUp(ctx, obs)
	if err != nil {
		return err
	}
	if cur.Deleted {
		// Deleted since it was offered, keeping its NUID: its chunks
		// are gone. A new put is offered again.
		return nil
	}
	if cur.NUID != info.NUID {
		if f.isRefused(cur.NUID) {
			return nil
		}
		if v, err = versionOf(cur); err != nil {
			return &refusal{cur.NUID, err}
		}
		if v.generation <= f.fileGeneration() {
			return nil // see refuses it, if it is older
		}
		info = cur
	}

	tmp, err := os.CreateTemp(filepath.Dir(f.path), tempPattern(f.path))
	if err != nil {
		return fmt.Errorf("download: %w", err)
	}
	done := false
	defer func() {
		if !done {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	start := time.Now()
	n, err := download(ctx, f.js, f.opts.Bucket, info, tmp)
	f.st.update(func(st *Status) { st.Bytes += uint64(n) })
	if errors.Is(err, errDigest) {
		// Chunks purged by a newer put look like damage: only an object
		// still in the bucket is damaged.
		if cur, lerr := f.lookUp(ctx, obs); lerr == nil && cur.NUID != info.NUID {
			return errSuperseded
		}
		return &refusal{info.NUID, fmt.Errorf("object of generation %d: %w", v.generation, err)}
	}
	if err != nil {
		return fmt.Errorf("download generation %d after %d bytes: %w", v.generation, n, err)
	}
	if uint64(n) != info.Size {
		return &refusal{info.NUID, fmt.Errorf("object of generation %d: %d bytes, its metadata says %d", v.generation, n, info.Size)}
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("download: %w", err)
	}
	fi, err := mmapdb.StatFile(tmp.Name())
	if err == nil {
		err = v.matches(fi)
	}
	if err != nil {
		return &refusal{info.NUID, fmt.Errorf("object of generation %d: %w", v.generation, stripTemp(err, tmp.Name()))}
	}
	_, err = mmapdb.Install(f.path, tmp.Name(), &mmapdb.Options{NoLock: f.opts.NoLock})
	switch {
	case errors.Is(err, mmapdb.ErrNotNewer):
		f.installed(f.fileGeneration(), 0)
		return nil
	case errors.Is(err, mmapdb.ErrCorrupt), errors.Is(err, mmapdb.ErrBadMagic), errors.Is(err, mmapdb.ErrVersion):
		return &refusal{info.NUID, fmt.Errorf("object of generation %d: %w", v.generation, stripTemp(err, tmp.Name()))}
	case err != nil:
		return err
	}
	done = true
	f.installed(v.generation, n)
	// Map it now, not at the next lookup: /readyz and the stats see it.
	_ = f.p.Start()
	f.log.Info("replication: version installed", "generation", v.generation, "bytes", n,
		"took", time.Since(start).Round(time.Millisecond).String())
	return nil
}

// lookUp returns the object's current information.
func (f *Follower) lookUp(ctx context.Context, obs jetstream.ObjectStore) (*jetstream.ObjectInfo, error) {
	ctx, cancel := context.WithTimeout(ctx, apiTimeout)
	defer cancel()
	info, err := obs.GetInfo(ctx, f.object, jetstream.GetObjectInfoShowDeleted())
	if err != nil {
		f.unbind()
		return nil, fmt.Errorf("look up object %s: %w", f.object, err)
	}
	return info, nil
}

// installed records that the file has generation g, installed now with
// n bytes (0: by another follower).
func (f *Follower) installed(g uint64, n int64) {
	f.mu.Lock()
	f.have = max(f.have, g)
	if f.offer != nil && f.offerV.generation <= f.have {
		f.offer = nil
	}
	f.mu.Unlock()
	now := time.Now()
	f.st.update(func(st *Status) {
		if n > 0 {
			st.synced(g, 0, now) // the bytes are counted as they arrive
		} else {
			st.Generation = max(st.Generation, g)
			st.Err = ""
			st.progress(st.Newest, now)
		}
	})
}

// isRefused reports whether the object nuid was refused.
func (f *Follower) isRefused(nuid string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.refused[nuid]
}

// stripTemp removes the temporary file's name from an error of
// mmapdb, which names it: it means nothing to a reader of the log.
func stripTemp(err error, name string) error {
	return errors.New(strings.ReplaceAll(err.Error(), name, "the download"))
}
