package replica

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"transdb/translation"
)

// newProvider returns a provider of trans.mmdb in dir, stopped when the
// test ends.
func newProvider(t *testing.T, dir string, readOnly bool) *translation.Provider {
	t.Helper()
	p, err := translation.New(translation.Options{FileName: filepath.Join(dir, "trans.mmdb"), ReadOnly: readOnly})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Stop() })
	return p
}

// commit inserts a record naming the new generation and returns it.
func commit(t *testing.T, p *translation.Provider) uint64 {
	t.Helper()
	g, err := p.Update(func(tx *translation.Txn) error {
		_, err := tx.Insert(translation.Record{Key: "front", URI: fmt.Sprintf("/g%d", tx.Generation()+1),
			Action: fmt.Sprintf("generation=%d", tx.Generation()+1)})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// waitFor polls cond until it reports true, or fails the test after 30 s.
func waitFor(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ok, state := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still %s", what, state)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitGeneration waits until p serves generation g.
func waitGeneration(t *testing.T, p *translation.Provider, g uint64) {
	t.Helper()
	waitFor(t, fmt.Sprintf("generation %d of %s", g, p.Path()), func() (bool, string) {
		got, err := p.Generation()
		return err == nil && got == g, fmt.Sprintf("generation %d (%v)", got, err)
	})
}

// sameFile fails the test unless the files at a and b are equal.
func sameFile(t *testing.T, a, b string) {
	t.Helper()
	x, err := os.ReadFile(a)
	if err != nil {
		t.Fatal(err)
	}
	y, err := os.ReadFile(b)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(x, y) {
		t.Fatalf("%s (%d bytes) and %s (%d bytes) differ", a, len(x), b, len(y))
	}
}

// logBuffer collects log lines, for tests that look at them.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// testLogger returns a logger into a buffer, logged by the test when it
// fails.
func testLogger(t *testing.T) (*slog.Logger, *logBuffer) {
	lb := new(logBuffer)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("log:\n%s", lb)
		}
	})
	return slog.New(slog.NewTextHandler(lb, nil)), lb
}

// bucketOf connects to url and binds to bucket, waiting for it.
func bucketOf(t *testing.T, url, bucket string) (jetstream.JetStream, jetstream.ObjectStore) {
	t.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	var obs jetstream.ObjectStore
	waitFor(t, "bucket "+bucket, func() (bool, string) {
		obs, err = js.ObjectStore(context.Background(), bucket)
		return err == nil, fmt.Sprint(err)
	})
	return js, obs
}

// putRaw puts an object the way an object store client does, but with
// the digest of digestOf instead of that of content: a stand-in for an
// object damaged in the bucket.
func putRaw(t *testing.T, js jetstream.JetStream, bucket, name string, meta map[string]string, content, digestOf []byte) {
	t.Helper()
	ctx := context.Background()
	id := make([]byte, 11)
	rand.Read(id)
	nuid := hex.EncodeToString(id)
	if _, err := js.Publish(ctx, "$O."+bucket+".C."+nuid, content); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(digestOf)
	info := jetstream.ObjectInfo{
		ObjectMeta: jetstream.ObjectMeta{Name: name, Metadata: meta},
		Bucket:     bucket, NUID: nuid, Size: uint64(len(content)), Chunks: 1,
		Digest: "SHA-256=" + base64.URLEncoding.EncodeToString(sum[:]),
	}
	data, err := json.Marshal(info)
	if err != nil {
		t.Fatal(err)
	}
	m := nats.NewMsg("$O." + bucket + ".M." + base64.URLEncoding.EncodeToString([]byte(name)))
	m.Header.Set("Nats-Rollup", "sub")
	m.Data = data
	if _, err := js.PublishMsg(ctx, m); err != nil {
		t.Fatal(err)
	}
}
