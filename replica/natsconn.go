package replica

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/gofrs/flock"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"transdb/internal/redact"
)

// Options say which bucket of which NATS servers a file is replicated
// through, and how to reach them.
type Options struct {
	// URL is the NATS server, or several separated by commas (the
	// servers of one cluster): nats://HOST:PORT, or tls://HOST:PORT
	// for TLS, either with user:password@ or token@ when the server
	// authenticates that way. Required.
	URL string
	// Bucket is the JetStream object store. Required.
	Bucket string
	// Credentials is a NATS credentials file (user JWT and NKey seed);
	// empty means none.
	Credentials string
	// RootCAs is a PEM file of the authorities that sign the servers'
	// certificates, for tls:// URLs; empty means the system's.
	RootCAs string
	// NoLock leaves out the lock files, <file>.replica.lock and the
	// database's own <file>.lock; as with translation.Options.NoLock,
	// only for a file that nothing else writes.
	NoLock bool
	// Logger receives what happens: versions published and installed,
	// objects refused, failures and the state of the connection. nil
	// means slog.Default().
	Logger *slog.Logger
}

// Intervals of the replication.
const (
	// checkInterval is how often a publisher compares its file's
	// generation with what it published, beside the commits it is
	// told of.
	checkInterval = time.Second
	// bucketInterval is how often a publisher looks at the bucket even
	// when it published the newest version, in case the object went.
	bucketInterval = 5 * time.Second
	// pollInterval is how often a follower asks for the object beside
	// its watch: one small request, the bound of the delay when the
	// watch misses an update.
	pollInterval = 2 * time.Second
	// minRetry and maxRetry bound the backoff after a failure.
	minRetry = 250 * time.Millisecond
	maxRetry = 15 * time.Second
	// apiTimeout bounds one JetStream request (a look-up, a bind, the
	// acknowledgement of a put chunk): a request to a NATS server that
	// died meanwhile fails after it, and is tried again.
	apiTimeout = 5 * time.Second
	// chunkSize is the size of the chunks of a put object: fewer,
	// larger messages than NATS's default of 128 KiB move a large file
	// faster, and stay well below the default payload limit of 1 MiB.
	chunkSize = 512 << 10
)

// errNotConnected fails an attempt while the connection to NATS is down;
// it is tried again when the connection may be back.
var errNotConnected = errors.New("not connected to NATS")

// notConnected returns errNotConnected with the reason of the last
// failure of nc, when it has one (a refused password, say).
func notConnected(nc *nats.Conn) error {
	if err := nc.LastError(); err != nil {
		return fmt.Errorf("%w: %v", errNotConnected, err)
	}
	return errNotConnected
}

// transferTimeout bounds the put or the download of size bytes: a
// minute, plus a second per MiB.
func transferTimeout(size int64) time.Duration {
	return time.Minute + time.Duration(size>>20)*time.Second
}

// backoff is the delay before the next attempt after failures.
type backoff struct{ d time.Duration }

// next returns the delay after one more failure: minRetry, then twice
// the last, up to maxRetry.
func (b *backoff) next() time.Duration {
	b.d = min(max(2*b.d, minRetry), maxRetry)
	return b.d
}

// reset starts over after a success.
func (b *backoff) reset() { b.d = 0 }

// checkOptions refuses options without URL or bucket.
func checkOptions(o *Options) error {
	if o.URL == "" || o.Bucket == "" {
		return errors.New("replica: Options.URL and Options.Bucket are required")
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return nil
}

// connect opens the connection to NATS for role ("publish", "follow")
// of file. The connection is tried in the background until it is up and
// again whenever it is lost, for ever: connect fails only on options
// that cannot work. Its changes are logged.
func connect(o Options, role, file string) (*nats.Conn, jetstream.JetStream, error) {
	log := o.Logger.With("file", file, "url", redact.URL(o.URL), "bucket", o.Bucket)
	opts := []nats.Option{
		nats.Name("transdbd " + role + " " + filepath.Base(file)),
		nats.RetryOnFailedConnect(true),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(time.Second),
		nats.ConnectHandler(func(nc *nats.Conn) {
			log.Info("replication: connected to NATS", "server", redact.URL(nc.ConnectedUrl()))
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			log.Info("replication: reconnected to NATS", "server", redact.URL(nc.ConnectedUrl()))
		}),
		nats.DisconnectErrHandler(func(nc *nats.Conn, err error) {
			if err != nil {
				log.Warn("replication: disconnected from NATS, reconnecting", "err", redact.Error(err))
			}
		}),
		nats.ErrorHandler(func(nc *nats.Conn, sub *nats.Subscription, err error) {
			log.Warn("replication: NATS", "err", redact.Error(err))
		}),
	}
	if o.Credentials != "" {
		opts = append(opts, nats.UserCredentials(o.Credentials))
	}
	if o.RootCAs != "" {
		opts = append(opts, nats.RootCAs(o.RootCAs))
	}
	nc, err := nats.Connect(o.URL, opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("replica: connect to %s: %w", redact.URL(o.URL), err)
	}
	js, err := jetstream.New(nc, jetstream.WithDefaultTimeout(apiTimeout))
	if err != nil {
		nc.Close()
		return nil, nil, fmt.Errorf("replica: %w", err)
	}
	return nc, js, nil
}

// replicas is the number of replicas of a new bucket: three when the
// connection knows of three servers or more (a cluster that survives
// the loss of one), one otherwise.
func replicas(nc *nats.Conn) int {
	if len(nc.Servers()) >= 3 {
		return 3
	}
	return 1
}

// lockFile takes <file>.replica.lock, which serialises the publishers
// of a file, or its followers, on one machine; it returns the unlock
// function. With NoLock it takes nothing.
func lockFile(ctx context.Context, file string, noLock bool) (func(), error) {
	if noLock {
		return func() {}, nil
	}
	fl := flock.New(file + ".replica.lock")
	ok, err := fl.TryLockContext(ctx, 20*time.Millisecond)
	if err != nil || !ok {
		_ = fl.Close()
		if err == nil {
			err = ctx.Err()
		}
		return nil, fmt.Errorf("replica: lock %s.replica.lock: %w", file, err)
	}
	return func() {
		_ = fl.Unlock()
		_ = fl.Close()
	}, nil
}
