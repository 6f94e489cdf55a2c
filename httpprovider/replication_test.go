package httpprovider_test

import (
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"transdb/httpprovider"
	"transdb/translation"
)

// fixedReplicator reports the status it holds.
type fixedReplicator struct {
	mu sync.Mutex
	st httpprovider.ReplicationStatus
}

func (r *fixedReplicator) ReplicationStatus() httpprovider.ReplicationStatus {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.st
}

// decodeSome decodes the fields of v from a 200 answer, ignoring the
// others.
func decodeSome(t *testing.T, r response, v any) {
	t.Helper()
	if r.status != 200 {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("%s: %v", r.body, err)
	}
}

// replicationJSON is the "replication" object of /v1/stats and /readyz.
type replicationJSON struct {
	Role           string  `json:"role"`
	URL            string  `json:"url"`
	Bucket         string  `json:"bucket"`
	Object         string  `json:"object"`
	Connected      bool    `json:"connected"`
	Generation     uint64  `json:"generation"`
	Newest         uint64  `json:"newest"`
	LagGenerations uint64  `json:"lag_generations"`
	LagSeconds     float64 `json:"lag_seconds"`
	LastSync       string  `json:"last_sync"`
	Transfers      uint64  `json:"transfers"`
	Bytes          uint64  `json:"bytes"`
	Failures       uint64  `json:"failures"`
	Refused        uint64  `json:"refused"`
	Error          string  `json:"error"`
}

func TestReplicationShowsInStatsReadyzAndMetrics(t *testing.T) {
	p := newProvider(t, dbPath(t), false)
	sync := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	r := &fixedReplicator{st: httpprovider.ReplicationStatus{
		File: p.Path(), Role: "follow", URL: "nats://***@127.0.0.1:4222", Bucket: "transdb", Object: "trans.mmdb",
		Generation: 7, Newest: 9, Behind: time.Now().Add(-2 * time.Second), LastSync: sync,
		Transfers: 3, Bytes: 1234, Failures: 2, Refused: 1, Err: "object refused",
	}}
	s := serve(t, httpprovider.Options{Providers: []*translation.Provider{p}, Replicators: []httpprovider.Replicator{r}})

	var stats struct {
		Generation  uint64
		Replication replicationJSON
	}
	decodeSome(t, s.get("/v1/stats"), &stats)
	got := stats.Replication
	if got.Role != "follow" || got.URL != "nats://***@127.0.0.1:4222" || got.Bucket != "transdb" || got.Object != "trans.mmdb" ||
		got.Connected || got.Generation != 7 || got.Newest != 9 || got.LagGenerations != 2 || got.LagSeconds < 2 ||
		got.LastSync != "2026-01-02T03:04:05Z" || got.Transfers != 3 || got.Bytes != 1234 || got.Failures != 2 ||
		got.Refused != 1 || got.Error != "object refused" {
		t.Errorf("/v1/stats replication %+v", got)
	}

	var ready struct {
		Status string
		Files  []struct {
			File        string
			Replication *replicationJSON
		}
	}
	decodeSome(t, s.get("/readyz"), &ready)
	if len(ready.Files) != 1 || ready.Files[0].Replication == nil || ready.Files[0].Replication.Newest != 9 {
		t.Errorf("/readyz %+v", ready)
	}

	metrics := string(s.get("/metrics").body)
	labels := `{bucket="transdb",file="` + p.Path() + `",role="follow"}`
	for _, want := range []string{
		"transdb_replication_connected" + labels + " 0",
		"transdb_replication_generation" + labels + " 7",
		"transdb_replication_newest_generation" + labels + " 9",
		"transdb_replication_lag_generations" + labels + " 2",
		"transdb_replication_lag_seconds" + labels + " 2.",
		"transdb_replication_last_sync_timestamp_seconds" + labels + " 1.767323045e+09",
		"transdb_replication_transfers_total" + labels + " 3",
		"transdb_replication_bytes_total" + labels + " 1234",
		"transdb_replication_failures_total" + labels + " 2",
		"transdb_replication_refused_total" + labels + " 1",
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}

	// In sync: no lag.
	r.mu.Lock()
	r.st.Generation, r.st.Connected, r.st.Err = 9, true, ""
	r.mu.Unlock()
	stats.Replication = replicationJSON{}
	decodeSome(t, s.get("/v1/stats"), &stats)
	if got := stats.Replication; got.LagGenerations != 0 || got.LagSeconds != 0 || !got.Connected || got.Error != "" {
		t.Errorf("in sync: %+v", got)
	}
}

func TestAReplicaWithoutFileIsNotReadyButShowsItsReplication(t *testing.T) {
	p := newProvider(t, dbPath(t), true)
	r := &fixedReplicator{st: httpprovider.ReplicationStatus{File: p.Path(), Role: "follow", Bucket: "transdb", Newest: 4}}
	s := serve(t, httpprovider.Options{Providers: []*translation.Provider{p}, Replicators: []httpprovider.Replicator{r}})
	s.wantError(s.get("/readyz"), 503)
	metrics := string(s.get("/metrics").body)
	if !strings.Contains(metrics, `transdb_replication_newest_generation{bucket="transdb",file="`+p.Path()+`",role="follow"} 4`) ||
		!strings.Contains(metrics, `transdb_database_ready{file="`+p.Path()+`"} 0`) {
		t.Errorf("/metrics:\n%s", metrics)
	}
}

func TestOnCommitFollowsEveryCommitOfTheServer(t *testing.T) {
	p := newProvider(t, dbPath(t), false)
	var mu sync.Mutex
	var got []uint64
	s := serve(t, httpprovider.Options{Providers: []*translation.Provider{p}, AdminToken: token,
		OnCommit: func(file string, generation uint64) {
			if file != p.Path() {
				t.Errorf("OnCommit of %s", file)
			}
			mu.Lock()
			got = append(got, generation)
			mu.Unlock()
		}})
	s.txn(`{"ops":[{"op":"insert","key":"k","uri":"/u","block":0,"order":0,"action":"a"}]}`)
	s.loadExample()
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 2 || got[0] != 1 || got[1] != 2 {
		t.Errorf("OnCommit saw %v, want [1 2]", got)
	}
}

func TestAReplicatorMustReplicateAServedFile(t *testing.T) {
	p := newProvider(t, dbPath(t), false)
	for _, rs := range [][]httpprovider.Replicator{
		{&fixedReplicator{st: httpprovider.ReplicationStatus{File: "/elsewhere.mmdb"}}},
		{&fixedReplicator{st: httpprovider.ReplicationStatus{File: p.Path()}}, &fixedReplicator{st: httpprovider.ReplicationStatus{File: p.Path()}}},
	} {
		if _, err := httpprovider.New(httpprovider.Options{Providers: []*translation.Provider{p}, Replicators: rs}); err == nil {
			t.Errorf("New accepted replicators of %s", rs[0].ReplicationStatus().File)
		}
	}
}
