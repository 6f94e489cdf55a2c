package replica

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"transdb/internal/natstest"
)

// TestDownloadEndsWhenItsChunksStopComing downloads an object whole,
// then one whose chunks never come, which fails as stalled, and one
// whose context ends, which fails with its context's error: a download
// never waits for ever.
func TestDownloadEndsWhenItsChunksStopComing(t *testing.T) {
	srv, err := natstest.Start(natstest.Require(t), natstest.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	js := natstest.JetStream(t, srv.URL())
	ctx := context.Background()
	store, err := js.CreateObjectStore(ctx, jetstream.ObjectStoreConfig{Bucket: "dl"})
	if err != nil {
		t.Fatal(err)
	}
	content := bytes.Repeat([]byte("transdb "), 100_000) // several chunks
	info, err := store.PutBytes(ctx, "v", content)
	if err != nil {
		t.Fatal(err)
	}

	var got bytes.Buffer
	if n, err := download(ctx, js, "dl", info, &got); err != nil || n != int64(len(content)) || !bytes.Equal(got.Bytes(), content) {
		t.Fatalf("download: %d bytes, %v; want the %d bytes put", n, err, len(content))
	}

	missing := *info
	missing.NUID = "NOCHUNKSHERE"
	defer func(d time.Duration) { stallTimeout = d }(stallTimeout)
	stallTimeout = 300 * time.Millisecond
	if _, err := download(ctx, js, "dl", &missing, io.Discard); !errors.Is(err, errStalled) {
		t.Errorf("download of chunks that never come: %v, want %v", err, errStalled)
	}

	stallTimeout = time.Hour
	cctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	if _, err := download(cctx, js, "dl", &missing, io.Discard); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("download whose context ends: %v, want %v", err, context.DeadlineExceeded)
	}
}
