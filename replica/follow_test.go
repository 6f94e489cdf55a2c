package replica

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"transdb/internal/natstest"
	"transdb/mmapdb"
	"transdb/translation"
)

func TestFollowersInstallEveryVersionThePublisherPuts(t *testing.T) {
	srv := natstest.StartT(t)
	log, _ := testLogger(t)
	opts := Options{URL: srv.URL(), Bucket: "transdb", Logger: log}

	// The followers start first, before the bucket exists, one of them
	// without a file.
	var followers []*Follower
	var replicas []*translation.Provider
	for range 2 {
		rp := newProvider(t, t.TempDir(), true)
		f, err := NewFollower(rp, opts)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		followers, replicas = append(followers, f), append(replicas, rp)
	}
	if _, err := replicas[0].Generation(); err == nil {
		t.Fatal("a replica without file serves a version")
	}

	wp := newProvider(t, t.TempDir(), false)
	commit(t, wp)
	pb, err := NewPublisher(wp, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer pb.Close()
	var last uint64
	for range 20 {
		last = commit(t, wp)
		pb.Notify()
		// Followers may skip versions, but never go back.
		for _, rp := range replicas {
			if g, err := rp.Generation(); err == nil && g > last {
				t.Fatalf("replica at generation %d after commit %d", g, last)
			}
		}
	}
	for i, rp := range replicas {
		waitGeneration(t, rp, last)
		sameFile(t, rp.Path(), wp.Path())
		// The status follows the rename.
		waitFor(t, "the follower's status", func() (bool, string) {
			st := followers[i].Status()
			n, d := st.Lag(time.Now())
			return st.Generation == last && st.Newest == last && n == 0 && d == 0 && st.Transfers > 0 &&
				st.Bytes > 0 && !st.LastSync.IsZero() && st.Connected && st.Err == "", fmt.Sprintf("%+v", st)
		})
		if got, err := rp.Fetch("front", fmt.Sprintf("/g%d", last), false); err != nil || len(got) != 1 {
			t.Errorf("replica %d: %v, %v", i, got, err)
		}
	}
	waitFor(t, "the publisher's status", func() (bool, string) {
		st := pb.Status()
		return st.Generation == last && st.Newest == last && st.Err == "", fmt.Sprintf("%+v", st)
	})
}

func TestFollowerRefusesBadObjectsAndKeepsItsFile(t *testing.T) {
	srv := natstest.StartT(t)
	log, _ := testLogger(t)
	opts := Options{URL: srv.URL(), Bucket: "transdb", Logger: log}
	wp, pb, rp, f, _ := publishAndFollow(t, opts)
	installed, err := os.ReadFile(rp.Path())
	if err != nil {
		t.Fatal(err)
	}

	// Newer versions, damaged in ways the bucket does not notice or does.
	older, err := os.ReadFile(wp.Path())
	if err != nil {
		t.Fatal(err)
	}
	commit(t, wp)
	commit(t, wp)
	newer, err := os.ReadFile(wp.Path())
	if err != nil {
		t.Fatal(err)
	}
	fi, err := mmapdb.StatFile(wp.Path())
	if err != nil {
		t.Fatal(err)
	}
	meta := func(g uint64, checksum uint32) map[string]string {
		return objectMeta("trans.mmdb", g, checksum).Metadata
	}
	flipped := append([]byte(nil), newer...)
	flipped[len(flipped)-10] ^= 1
	js, _ := natstest.Bucket(t, srv.URL(), "transdb")
	for _, c := range []struct {
		name              string
		meta              map[string]string
		content, digestOf []byte
		want              string
	}{
		{"content that does not match its digest", meta(3, fi.Checksum), flipped, newer, "does not match its SHA-256 digest"},
		{"a flipped byte with a matching digest", meta(3, fi.Checksum), flipped, flipped, "corrupt"},
		{"truncated", meta(3, fi.Checksum), newer[:len(newer)-64], newer[:len(newer)-64], "corrupt"},
		{"metadata of another version", meta(3, fi.Checksum+1), newer, newer, "the metadata says 3 and"},
		{"no metadata", nil, newer, newer, "no transdb-generation in its metadata"},
		{"older than the file", meta(0, 0), older[:0], older[:0], "older than the file's 1"},
	} {
		before := f.Status().Refused
		natstest.PutDamaged(t, js, "transdb", "trans.mmdb", c.meta, c.content, c.digestOf)
		waitFor(t, c.name+" refused", func() (bool, string) {
			st := f.Status()
			return st.Refused == before+1, fmt.Sprintf("%+v", st)
		})
		if st := f.Status(); !strings.Contains(st.Err, c.want) || st.Generation != 1 {
			t.Errorf("%s: %+v, want the error to say %q", c.name, st, c.want)
		}
		if got, err := os.ReadFile(rp.Path()); err != nil || string(got) != string(installed) {
			t.Fatalf("%s: the file changed (%v)", c.name, err)
		}
		if g, err := rp.Generation(); err != nil || g != 1 {
			t.Fatalf("%s: the replica serves %d, %v", c.name, g, err)
		}
		if temps, _ := filepath.Glob(filepath.Join(filepath.Dir(rp.Path()), "*.follow-*")); len(temps) != 0 {
			t.Fatalf("%s: downloads left behind: %q", c.name, temps)
		}
	}
	// The next version of the writer gets through.
	g := commit(t, wp)
	pb.Notify()
	waitGeneration(t, rp, g)
	sameFile(t, rp.Path(), wp.Path())
}

// An object deleted while it is on offer (the follower waited for the
// lock of its file meanwhile) is dropped, not downloaded again and again
// from chunks that are gone; a new put of the writer gets through.
func TestFollowerDropsAnObjectDeletedWhileOnOffer(t *testing.T) {
	srv := natstest.StartT(t)
	log, _ := testLogger(t)
	opts := Options{URL: srv.URL(), Bucket: "transdb", Logger: log}
	wp, pb, rp, f, _ := publishAndFollow(t, opts)
	unlock, err := lockFile(context.Background(), rp.Path(), false)
	if err != nil {
		t.Fatal(err)
	}
	g := commit(t, wp)
	pb.Notify()
	waitFor(t, "the new object on offer", func() (bool, string) {
		st := f.Status()
		return st.Newest == g, fmt.Sprintf("%+v", st)
	})
	pb.Close()
	_, obs := natstest.Bucket(t, srv.URL(), "transdb")
	if err := obs.Delete(context.Background(), "trans.mmdb"); err != nil {
		t.Fatal(err)
	}
	failures := f.Status().Failures
	unlock()
	waitFor(t, "the deleted object dropped", func() (bool, string) {
		f.mu.Lock()
		defer f.mu.Unlock()
		return f.offer == nil && f.loading == 0, fmt.Sprintf("offer %v, loading %d", f.offer != nil, f.loading)
	})
	if st := f.Status(); st.Failures != failures || st.Generation != 1 {
		t.Errorf("after the delete: %+v", st)
	}
	pb, err = NewPublisher(wp, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer pb.Close()
	waitGeneration(t, rp, g)
}

func TestReplicasServeTheirFileWhileNATSIsDownAndCatchUp(t *testing.T) {
	srv := natstest.StartT(t)
	log, _ := testLogger(t)
	opts := Options{URL: srv.URL(), Bucket: "transdb", Logger: log}
	wp := newProvider(t, t.TempDir(), false)
	commit(t, wp)
	pb, err := NewPublisher(wp, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer pb.Close()
	dir := t.TempDir()
	rp := newProvider(t, dir, true)
	f, err := NewFollower(rp, opts)
	if err != nil {
		t.Fatal(err)
	}
	waitGeneration(t, rp, 1)
	f.Close()

	// NATS goes; a replica starting now serves the file it has, and the
	// writer's commits go on.
	srv.Kill()
	f, err = NewFollower(rp, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	g := commit(t, wp)
	pb.Notify()
	waitFor(t, "the publisher to count the outage", func() (bool, string) {
		st := pb.Status()
		return st.Failures > 0 && !st.Connected && st.Err != "", fmt.Sprintf("%+v", st)
	})
	if st := pb.Status(); st.Generation != 1 || st.Newest != g {
		t.Errorf("publisher during the outage: %+v", st)
	} else if n, d := st.Lag(time.Now()); n != 1 || d <= 0 {
		t.Errorf("publisher's lag during the outage: %d, %v", n, d)
	}
	if got, err := rp.Generation(); err != nil || got != 1 {
		t.Fatalf("replica during the outage: %d, %v", got, err)
	}
	if st := f.Status(); st.Connected || st.Generation != 1 {
		t.Errorf("follower during the outage: %+v", st)
	}

	// NATS is back, with its store: both catch up.
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	waitGeneration(t, rp, g)
	sameFile(t, rp.Path(), wp.Path())
	waitFor(t, "the publisher to recover", func() (bool, string) {
		st := pb.Status()
		return st.Connected && st.Generation == g && st.Err == "", fmt.Sprintf("%+v", st)
	})
}

func TestFollowerRemovesTheDownloadsOfADeadFollower(t *testing.T) {
	srv := natstest.StartT(t)
	dir := t.TempDir()
	rp := newProvider(t, dir, true)
	stale := filepath.Join(dir, "trans.mmdb.follow-123")
	if err := os.WriteFile(stale, []byte("half a download"), 0o644); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(dir, "other.mmdb.follow-123")
	if err := os.WriteFile(other, []byte("not ours"), 0o644); err != nil {
		t.Fatal(err)
	}
	log, _ := testLogger(t)
	f, err := NewFollower(rp, Options{URL: srv.URL(), Bucket: "transdb", Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("the stale download is still there: %v", err)
	}
	if _, err := os.Stat(other); err != nil {
		t.Errorf("the download of another file is gone: %v", err)
	}
}

func TestFollowerEndsAtTheLastOfQuickCommits(t *testing.T) {
	srv := natstest.StartT(t)
	log, _ := testLogger(t)
	opts := Options{URL: srv.URL(), Bucket: "transdb", Logger: log}
	wp, pb, rp, f, _ := publishAndFollow(t, opts)
	// Commits one after the other, each published at once: the follower
	// ends at the last, whatever it skipped, and refuses none.
	var g uint64
	for range 30 {
		g = commit(t, wp)
		pb.Notify()
	}
	waitGeneration(t, rp, g)
	sameFile(t, rp.Path(), wp.Path())
	if st := f.Status(); st.Refused != 0 || st.Failures != 0 {
		t.Errorf("%+v", st)
	}
}
