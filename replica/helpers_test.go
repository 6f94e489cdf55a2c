package replica

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"transdb/internal/syncbuf"
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

// testLogger returns a logger into a buffer, logged by the test when it
// fails.
func testLogger(t *testing.T) (*slog.Logger, *syncbuf.Buffer) {
	lb := new(syncbuf.Buffer)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("log:\n%s", lb)
		}
	})
	return slog.New(slog.NewTextHandler(lb, nil)), lb
}

// publishAndFollow commits once to a new writable provider, publishes
// it with opts, and follows the bucket with a new read-only provider
// until it serves that commit. The publisher and follower are closed at
// the end of the test.
func publishAndFollow(t *testing.T, opts Options) (wp *translation.Provider, pb *Publisher, rp *translation.Provider, f *Follower, gen uint64) {
	t.Helper()
	wp = newProvider(t, t.TempDir(), false)
	gen = commit(t, wp)
	pb, err := NewPublisher(wp, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pb.Close() })
	rp = newProvider(t, t.TempDir(), true)
	if f, err = NewFollower(rp, opts); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	waitGeneration(t, rp, gen)
	return wp, pb, rp, f, gen
}
