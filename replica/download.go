package replica

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// A download reads an object's chunks itself, through an ordered pull
// consumer on the bucket's stream, instead of with ObjectStore.Get: Get
// cannot be cut short when its chunks stop coming (a NATS server of the
// cluster died, the chunks were purged by a newer put) and waits for the
// end of its context, while a download that receives nothing for
// stallTimeout fails at once and is tried again. The object store's
// layout is NATS's (ADR-20): stream OBJ_<bucket>, the chunks of an
// object on subject $O.<bucket>.C.<nuid>, in order.

// stallTimeout is how long a transfer may go without progress before it
// is abandoned (and tried again); tests shorten it.
var stallTimeout = 10 * time.Second

// errStalled ends a transfer that made no progress for stallTimeout.
var errStalled = errors.New("no progress for " + stallTimeout.String())

// errDigest is a download whose bytes do not match the object's digest.
var errDigest = errors.New("its content does not match its SHA-256 digest")

// download copies the content of the object info of bucket to w and
// checks it against the object's SHA-256 digest (errDigest). It returns
// the bytes written.
func download(ctx context.Context, js jetstream.JetStream, bucket string, info *jetstream.ObjectInfo, w io.Writer) (int64, error) {
	want, err := jetstream.DecodeObjectDigest(info.Digest)
	if err != nil {
		return 0, fmt.Errorf("%w: digest %q", errDigest, info.Digest)
	}
	h := sha256.New()
	if info.Size == 0 {
		if !bytes.Equal(h.Sum(nil), want) {
			return 0, errDigest
		}
		return 0, nil
	}
	cctx, cancel := context.WithTimeout(ctx, apiTimeout)
	cons, err := js.OrderedConsumer(cctx, "OBJ_"+bucket, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{"$O." + bucket + ".C." + info.NUID},
		// Recreating the consumer after an error (a NATS server died) is
		// tried twice, not forever: only Stop would end those tries, and
		// Stop cannot be called while Next runs (below). The download
		// fails then, and is tried again whole.
		MaxResetAttempts: 2,
	})
	cancel()
	if err != nil {
		return 0, err
	}
	// At most a few MiB of chunks under way at once.
	it, err := cons.Messages(jetstream.PullMaxBytes(4 * chunkSize))
	if err != nil {
		return 0, err
	}
	defer it.Stop()
	// Next waits for the next chunk until ctx ends or the transfer
	// stalls: both end the context it is given, rather than calling
	// it.Stop from another goroutine, which races with a Next that is
	// replacing its subscription after a NATS server died (the Stop is
	// lost on the old one, and the Next waits forever).
	next, endNext := context.WithCancelCause(ctx)
	defer endNext(nil)
	stall := time.AfterFunc(stallTimeout, func() { endNext(errStalled) })
	defer stall.Stop()

	var n int64
	for {
		msg, err := it.Next(jetstream.NextContext(next))
		switch {
		case ctx.Err() != nil:
			return n, ctx.Err()
		case next.Err() != nil:
			return n, context.Cause(next)
		case err != nil:
			return n, err
		}
		stall.Reset(stallTimeout)
		data := msg.Data()
		if n+int64(len(data)) > int64(info.Size) {
			return n, fmt.Errorf("%w: more than its %d bytes", errDigest, info.Size)
		}
		if _, err := w.Write(data); err != nil {
			return n, err
		}
		h.Write(data)
		n += int64(len(data))
		md, err := msg.Metadata()
		if err != nil {
			return n, err
		}
		if md.NumPending == 0 {
			break
		}
	}
	if !bytes.Equal(h.Sum(nil), want) {
		return n, errDigest
	}
	return n, nil
}
