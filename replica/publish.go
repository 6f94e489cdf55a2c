package replica

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"transdb/internal/fault"
	"transdb/internal/redact"
	"transdb/mmapdb"
	"transdb/translation"
)

// A Publisher puts the versions of a provider's database file into a
// bucket (see the package documentation). It is safe for concurrent use.
type Publisher struct {
	p      *translation.Provider
	opts   Options
	log    *slog.Logger
	object string
	nc     *nats.Conn
	js     jetstream.JetStream
	obs    jetstream.ObjectStore // bound on first use; nil after a failure

	wake   chan struct{} // a commit happened
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}
	once   sync.Once // of Close

	st      state
	checked time.Time // when the bucket was last looked at
	newer   uint64    // the newer generation in the bucket last warned of
}

// NewPublisher starts publishing the file of p, a writable provider,
// through the bucket of opts: it connects to NATS in the background and
// puts the current version when the bucket lacks it, then every newer
// one. It fails only on options that cannot work; NATS out of reach is
// not an error. Close it before stopping p.
func NewPublisher(p *translation.Provider, opts Options) (*Publisher, error) {
	if err := checkOptions(&opts); err != nil {
		return nil, err
	}
	pb := &Publisher{
		p:      p,
		opts:   opts,
		object: objectName(p.Path()),
		wake:   make(chan struct{}, 1),
		done:   make(chan struct{}),
	}
	pb.log = opts.Logger.With("file", p.Path(), "url", redact.URL(opts.URL), "bucket", opts.Bucket)
	pb.st.st = Status{Role: "publish", File: p.Path(), URL: redact.URL(opts.URL), Bucket: opts.Bucket, Object: pb.object}
	var err error
	if pb.nc, pb.js, err = connect(opts, "publish", p.Path()); err != nil {
		return nil, err
	}
	pb.ctx, pb.cancel = context.WithCancel(context.Background())
	go pb.run()
	return pb, nil
}

// Notify tells the publisher that a version was committed; it puts the
// newest version soon after, in the background. It never blocks.
func (pb *Publisher) Notify() {
	select {
	case pb.wake <- struct{}{}:
	default:
	}
}

// Status returns the state of the publisher.
func (pb *Publisher) Status() Status {
	return pb.st.withConn(pb.nc)
}

// Close stops the publisher, abandoning a put under way (the bucket
// keeps the version it had), and closes the connection. Closing twice
// does nothing.
func (pb *Publisher) Close() error {
	pb.once.Do(func() {
		pb.cancel()
		<-pb.done
		pb.nc.Close()
	})
	return nil
}

func (pb *Publisher) run() {
	defer close(pb.done)
	var retry backoff
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-pb.ctx.Done():
			return
		case <-pb.wake:
			timer.Stop()
		case <-timer.C:
		}
		wait := checkInterval
		// A file written over in place faults the reads of its mapping,
		// from the snapshot's header on: an error, tried again.
		if err := fault.Call(pb.publish); err != nil {
			if pb.ctx.Err() != nil {
				return
			}
			err = redact.Error(err)
			wait = retry.next()
			pb.st.update(func(st *Status) {
				st.Failures++
				st.Err = err.Error()
			})
			pb.log.Warn("replication: publishing failed, trying again", "err", err, "retry", wait.String())
		} else {
			retry.reset()
		}
		timer.Reset(wait)
	}
}

// publish puts the newest version of the file into the bucket unless
// the bucket has it, or a newer one, already.
func (pb *Publisher) publish() error {
	snap, err := pb.p.Snapshot()
	if err != nil {
		return nil // no database yet: nothing to publish
	}
	defer snap.Release()
	gen := snap.Generation()
	st := pb.st.get()
	if gen <= st.Generation && time.Since(pb.checked) < bucketInterval {
		return nil
	}
	now := time.Now()
	pb.st.update(func(st *Status) { st.progress(gen, now) })

	if !pb.nc.IsConnected() {
		return notConnected(pb.nc)
	}
	lctx, lcancel := context.WithTimeout(pb.ctx, transferTimeout(snap.FileSize()))
	defer lcancel()
	unlock, err := lockFile(lctx, pb.p.Path(), pb.opts.NoLock)
	if err != nil {
		return err
	}
	defer unlock()
	actx, acancel := context.WithTimeout(pb.ctx, apiTimeout)
	defer acancel()
	obs, err := pb.bucket(actx)
	if err != nil {
		return err
	}
	// Another publisher may have put this version or a newer one.
	info, err := obs.GetInfo(actx, pb.object)
	switch {
	case errors.Is(err, jetstream.ErrObjectNotFound):
	case err != nil:
		pb.obs = nil
		return fmt.Errorf("look up object %s: %w", pb.object, err)
	default:
		if v, err := versionOf(info); err == nil && v.generation >= gen {
			pb.checked = time.Now()
			pb.st.update(func(st *Status) {
				st.Generation = gen
				st.Err = ""
				st.progress(gen, now)
			})
			if v.generation > gen && v.generation != pb.newer {
				pb.newer = v.generation
				pb.log.Warn("replication: the bucket holds a newer version than the file: not published",
					"generation", gen, "bucket_generation", v.generation)
			}
			return nil
		}
	}
	start := time.Now()
	meta := objectMeta(pb.object, gen, snap.Checksum())
	// Without a deadline, Put waits for the acknowledgement of each
	// chunk for apiTimeout at most, not for the end of a deadline:
	// a put that stalls (a NATS server died) fails soon.
	if _, err := obs.Put(pb.ctx, meta, mmapdb.NewImageReader(snap.Bytes())); err != nil {
		pb.obs = nil
		return fmt.Errorf("put generation %d: %w", gen, err)
	}
	pb.checked = time.Now()
	size := snap.FileSize()
	pb.st.update(func(st *Status) { st.synced(gen, size, pb.checked) })
	pb.log.Info("replication: version published", "generation", gen, "bytes", size,
		"took", time.Since(start).Round(time.Millisecond).String())
	return nil
}

// bucket returns the bucket, binding to it, or creating it when it is
// missing.
func (pb *Publisher) bucket(ctx context.Context) (jetstream.ObjectStore, error) {
	if pb.obs != nil {
		return pb.obs, nil
	}
	obs, err := pb.js.ObjectStore(ctx, pb.opts.Bucket)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		n := replicas(pb.nc)
		obs, err = pb.js.CreateObjectStore(ctx, jetstream.ObjectStoreConfig{
			Bucket:      pb.opts.Bucket,
			Description: "transdb database files",
			Replicas:    n,
		})
		if errors.Is(err, jetstream.ErrBucketExists) {
			obs, err = pb.js.ObjectStore(ctx, pb.opts.Bucket)
		} else if err == nil {
			pb.log.Info("replication: bucket created", "replicas", n)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("bucket %s: %w", pb.opts.Bucket, err)
	}
	pb.obs = obs
	return obs, nil
}
