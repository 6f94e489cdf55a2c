package replica

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"transdb/internal/natstest"
)

// objectGeneration returns the generation of the object in the bucket.
func objectGeneration(t *testing.T, obs jetstream.ObjectStore) uint64 {
	t.Helper()
	info, err := obs.GetInfo(context.Background(), "trans.mmdb")
	if err != nil {
		t.Fatal(err)
	}
	g, err := strconv.ParseUint(info.Metadata[metaGeneration], 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestPublisherPutsTheCurrentVersionOnStartOnce(t *testing.T) {
	srv := natstest.StartT(t)
	log, _ := testLogger(t)
	opts := Options{URL: srv.URL(), Bucket: "transdb", Logger: log}
	wp := newProvider(t, t.TempDir(), false)
	commit(t, wp)
	g := commit(t, wp)
	pb, err := NewPublisher(wp, opts)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the first put", func() (bool, string) {
		st := pb.Status()
		return st.Generation == g && st.Transfers == 1, fmt.Sprintf("%+v", st)
	})
	pb.Close()
	_, obs := natstest.Bucket(t, srv.URL(), "transdb")
	info, err := obs.GetInfo(context.Background(), "trans.mmdb")
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(wp.Path())
	if err != nil {
		t.Fatal(err)
	}
	got, err := obs.GetBytes(context.Background(), "trans.mmdb")
	if err != nil || string(got) != string(data) {
		t.Fatalf("the object is not the file (%v)", err)
	}
	if info.Metadata[metaGeneration] != strconv.FormatUint(g, 10) || len(info.Metadata[metaChecksum]) != 8 {
		t.Fatalf("metadata %v", info.Metadata)
	}

	// A publisher started again finds its version in the bucket.
	pb, err = NewPublisher(wp, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer pb.Close()
	waitFor(t, "the bucket to be looked at", func() (bool, string) {
		st := pb.Status()
		return st.Generation == g && st.Connected, fmt.Sprintf("%+v", st)
	})
	if st := pb.Status(); st.Transfers != 0 {
		t.Errorf("the version was put again: %+v", st)
	}
}

func TestPublisherNeverReplacesANewerVersion(t *testing.T) {
	srv := natstest.StartT(t)
	log, _ := testLogger(t)
	opts := Options{URL: srv.URL(), Bucket: "transdb", Logger: log}
	// A writer elsewhere published generation 3.
	other := newProvider(t, t.TempDir(), false)
	for range 3 {
		commit(t, other)
	}
	pb, err := NewPublisher(other, opts)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "generation 3 published", func() (bool, string) {
		st := pb.Status()
		return st.Generation == 3, fmt.Sprintf("%+v", st)
	})
	pb.Close()

	// A publisher of an older file puts nothing until it passes 3.
	wp := newProvider(t, t.TempDir(), false)
	commit(t, wp)
	pb, err = NewPublisher(wp, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer pb.Close()
	_, obs := natstest.Bucket(t, srv.URL(), "transdb")
	commit(t, wp)
	pb.Notify()
	time.Sleep(300 * time.Millisecond)
	if g := objectGeneration(t, obs); g != 3 {
		t.Fatalf("the bucket went back to generation %d", g)
	}
	commit(t, wp)
	g := commit(t, wp)
	pb.Notify()
	waitFor(t, "generation 4 published", func() (bool, string) {
		return objectGeneration(t, obs) == g, fmt.Sprintf("%+v", pb.Status())
	})
}

func TestPasswordsStayOutOfLogsAndStatus(t *testing.T) {
	srv := natstest.StartT(t, "--user", "transdb", "--pass", "s3cret-pw")
	log, lb := testLogger(t)
	url := strings.Replace(srv.URL(), "nats://", "nats://transdb:s3cret-pw@", 1)
	opts := Options{URL: url, Bucket: "transdb", Logger: log}
	_, pb, _, f, _ := publishAndFollow(t, opts)

	// A wrong password fails, and says so, without the password.
	bad := newProvider(t, t.TempDir(), true)
	wrong, err := NewFollower(bad, Options{URL: strings.Replace(url, "s3cret-pw", "wr0ng-pw", 1), Bucket: "transdb", Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	defer wrong.Close()
	waitFor(t, "the wrong password to be reported", func() (bool, string) {
		return strings.Contains(lb.String(), "uthorization"), "no authorization error in the log"
	})
	srv.Kill() // a disconnection is logged too
	waitFor(t, "the disconnection to be logged", func() (bool, string) {
		return strings.Contains(lb.String(), "disconnected"), "no disconnection in the log"
	})
	for _, st := range []Status{pb.Status(), f.Status(), wrong.Status()} {
		if strings.Contains(fmt.Sprintf("%+v", st), "pw") {
			t.Errorf("status shows the password: %+v", st)
		}
	}
	if out := lb.String(); strings.Contains(out, "s3cret-pw") || strings.Contains(out, "wr0ng-pw") {
		t.Errorf("the log shows a password:\n%s", out)
	}
}

// authority writes a new certificate authority and a certificate it
// signs for 127.0.0.1 into dir, and returns the paths of the
// authority's certificate, the server's certificate and its key.
func authority(t *testing.T, dir string) (ca, cert, key string) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "transdb test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	srvKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	srvTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	srvDER, err := x509.CreateCertificate(rand.Reader, srvTmpl, caCert, &srvKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(srvKey)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name, typ string, der []byte) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	return write("ca.pem", "CERTIFICATE", caDER), write("server.pem", "CERTIFICATE", srvDER), write("server-key.pem", "EC PRIVATE KEY", keyDER)
}

func TestTLSWithTheServersAuthority(t *testing.T) {
	ca, cert, key := authority(t, t.TempDir())
	srv := natstest.StartT(t, "--tls", "--tlscert", cert, "--tlskey", key)
	log, _ := testLogger(t)
	url := strings.Replace(srv.URL(), "nats://", "tls://", 1)
	opts := Options{URL: url, Bucket: "transdb", RootCAs: ca, Logger: log}
	publishAndFollow(t, opts)

	// Without the authority, the server's certificate is not trusted.
	untrusted := newProvider(t, t.TempDir(), false)
	commit(t, untrusted)
	pu, err := NewPublisher(untrusted, Options{URL: url, Bucket: "other", Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	defer pu.Close()
	waitFor(t, "the untrusted publisher to fail", func() (bool, string) {
		st := pu.Status()
		return st.Failures > 0 && !st.Connected && st.Generation == 0, fmt.Sprintf("%+v", st)
	})
}

func TestPublisherFindsCommitsItWasNotToldOf(t *testing.T) {
	srv := natstest.StartT(t)
	log, _ := testLogger(t)
	opts := Options{URL: srv.URL(), Bucket: "transdb", Logger: log}
	wp, _, rp, _, _ := publishAndFollow(t, opts)
	// Another process commits (transdbd load, say): no Notify.
	other := newProvider(t, filepath.Dir(wp.Path()), false)
	g := commit(t, other)
	waitGeneration(t, rp, g)
}
