package replica

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
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
// is abandoned (and tried again).
const stallTimeout = 10 * time.Second

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
	var stalled atomic.Bool
	stall := time.AfterFunc(stallTimeout, func() {
		stalled.Store(true)
		it.Stop()
	})
	defer stall.Stop()
	stopOnDone := context.AfterFunc(ctx, it.Stop)
	defer stopOnDone()
	defer it.Stop()

	var n int64
	for {
		msg, err := it.Next()
		switch {
		case stalled.Load():
			return n, errStalled
		case ctx.Err() != nil:
			return n, ctx.Err()
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
