package natstest

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// objectStore connects to url and creates the bucket with replicas.
func objectStore(t *testing.T, url string, replicas int) jetstream.ObjectStore {
	t.Helper()
	js := JetStream(t, url)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	obs, err := js.CreateObjectStore(ctx, jetstream.ObjectStoreConfig{Bucket: "test", Replicas: replicas})
	if err != nil {
		t.Fatal(err)
	}
	return obs
}

func TestServerRunsJetStreamAndRestartsOnItsStore(t *testing.T) {
	s := StartT(t)
	obs := objectStore(t, s.URL(), 1)
	ctx := context.Background()
	if _, err := obs.PutString(ctx, "x", "hello"); err != nil {
		t.Fatal(err)
	}
	s.Kill()
	if err := s.Restart(); err != nil {
		t.Fatal(err)
	}
	nc, err := nats.Connect(s.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	obs, err = js.ObjectStore(ctx, "test")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := obs.GetString(ctx, "x"); err != nil || got != "hello" {
		t.Fatalf("after a restart: %q, %v", got, err)
	}
}

func TestClusterKeepsAnR3BucketWithOneServerDown(t *testing.T) {
	servers := StartClusterT(t, 3)
	obs := objectStore(t, servers[0].URL()+","+servers[1].URL(), 3)
	ctx := context.Background()
	servers[2].Kill()
	// The stream's leader may have been on the killed server: a put fails
	// ("no response from stream") until the other two have elected one.
	start := time.Now()
	for {
		_, err := obs.PutString(ctx, "x", "hello")
		if err == nil {
			break
		}
		if time.Since(start) > 30*time.Second {
			t.Fatalf("put with one server down: %v", err)
		}
	}
	t.Logf("put after %v", time.Since(start))
	// A consumer on the stream may have been on the killed server: the
	// first reads may time out until the cluster has moved it.
	start = time.Now()
	for {
		got, err := obs.GetString(ctx, "x")
		if err == nil && got == "hello" {
			break
		}
		if time.Since(start) > 30*time.Second {
			t.Fatalf("%q, %v", got, err)
		}
	}
	t.Logf("read after %v", time.Since(start))
}
