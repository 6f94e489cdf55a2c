package natstest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// JetStream connects to the NATS servers at url. The connection is
// closed when the test ends.
func JetStream(t testing.TB, url string) jetstream.JetStream {
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
	return js
}

// Bucket connects to the NATS servers at url and binds to the object
// store bucket, waiting up to 30 s for it to be created. The connection
// is closed when the test ends.
func Bucket(t testing.TB, url, bucket string) (jetstream.JetStream, jetstream.ObjectStore) {
	t.Helper()
	js := JetStream(t, url)
	deadline := time.Now().Add(30 * time.Second)
	for {
		obs, err := js.ObjectStore(context.Background(), bucket)
		if err == nil {
			return js, obs
		}
		if time.Now().After(deadline) {
			t.Fatalf("bucket %s: %v", bucket, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// PutDamaged puts an object into bucket the way an object store client
// does (its chunk, then its metadata, which replaces the object's), but
// with the SHA-256 digest of digestOf instead of that of content: the
// stand-in for an object damaged in the bucket, or, with digestOf equal
// to content, for one damaged before it was put.
func PutDamaged(t testing.TB, js jetstream.JetStream, bucket, name string, meta map[string]string, content, digestOf []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	id := make([]byte, 11)
	rand.Read(id)
	nuid := hex.EncodeToString(id)
	// One chunk per message, as a client puts them, within the
	// server's payload limit.
	const chunk = 512 << 10
	chunks := 0
	for off := 0; off < len(content) || off == 0; off += chunk {
		if _, err := js.Publish(ctx, "$O."+bucket+".C."+nuid, content[off:min(off+chunk, len(content))]); err != nil {
			t.Fatal(err)
		}
		chunks++
		if len(content) == 0 {
			break
		}
	}
	sum := sha256.Sum256(digestOf)
	info := jetstream.ObjectInfo{
		ObjectMeta: jetstream.ObjectMeta{Name: name, Metadata: meta},
		Bucket:     bucket, NUID: nuid, Size: uint64(len(content)), Chunks: uint32(chunks),
		Digest: "SHA-256=" + base64.URLEncoding.EncodeToString(sum[:]),
	}
	data, err := json.Marshal(info)
	if err != nil {
		t.Fatal(err)
	}
	m := nats.NewMsg(fmt.Sprintf("$O.%s.M.%s", bucket, base64.URLEncoding.EncodeToString([]byte(name))))
	m.Header.Set("Nats-Rollup", "sub")
	m.Data = data
	if _, err := js.PublishMsg(ctx, m); err != nil {
		t.Fatal(err)
	}
}
