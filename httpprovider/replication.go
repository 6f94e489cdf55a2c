package httpprovider

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// A Replicator reports the replication of one database file to or from
// other machines: in transdbd, a publisher or a follower of package
// replica. The server shows what it reports in /v1/stats, /readyz and
// /metrics; it does not replicate anything itself.
type Replicator interface {
	// ReplicationStatus returns the state of the replication. It is
	// called for every request of those endpoints: it must be cheap and
	// safe for concurrent use.
	ReplicationStatus() ReplicationStatus
}

// ReplicationStatus is the state of the replication of a database file.
type ReplicationStatus struct {
	File   string // the database file, as Provider.Path names it
	Role   string // "publish" (a writer) or "follow" (a replica)
	URL    string // the NATS servers, without user information
	Bucket string // the object store
	Object string // the object of the file in it

	Connected bool // the connection to NATS is up

	// Generation is what the replication has achieved: the generation
	// last published, or the generation of the replica's file. Newest
	// is the generation of the other side as last seen: the writer's
	// file, or the bucket's object. Behind is since when Newest has been
	// above Generation, zero when it is not.
	Generation, Newest uint64
	Behind             time.Time

	LastSync  time.Time // the last version published or installed; zero: none
	Transfers uint64    // versions published or installed
	Bytes     uint64    // bytes they moved
	Failures  uint64    // attempts that failed and are retried
	Refused   uint64    // objects a replica discarded: corrupt, truncated, older
	Err       string    // the last failure or refusal; empty after a success
}

// lag returns how many generations and how long the replication is
// behind at now; 0 and 0 when it is not.
func (r *ReplicationStatus) lag(now time.Time) (uint64, time.Duration) {
	if r.Newest <= r.Generation {
		return 0, 0
	}
	var d time.Duration
	if !r.Behind.IsZero() {
		d = max(now.Sub(r.Behind), 0)
	}
	return r.Newest - r.Generation, d
}

// replication writes a replication status as the JSON object of
// /v1/stats and /readyz:
//
//	{"role":"follow","url":U,"bucket":B,"object":O,"connected":true,"generation":G,"newest":G,
//	 "lag_generations":0,"lag_seconds":0,"last_sync":T,"transfers":N,"bytes":N,"failures":N,"refused":N,"error":E}
//
// last_sync (RFC 3339, UTC) and error only when set.
func (j *jsonWriter) replication(r *ReplicationStatus, now time.Time) {
	n, d := r.lag(now)
	j.raw(`{"role":`)
	j.str(r.Role)
	j.raw(`,"url":`)
	j.str(r.URL)
	j.raw(`,"bucket":`)
	j.str(r.Bucket)
	j.raw(`,"object":`)
	j.str(r.Object)
	j.raw(`,"connected":`)
	if r.Connected {
		j.raw("true")
	} else {
		j.raw("false")
	}
	j.raw(`,"generation":`)
	j.uint(r.Generation)
	j.raw(`,"newest":`)
	j.uint(r.Newest)
	j.raw(`,"lag_generations":`)
	j.uint(n)
	j.raw(`,"lag_seconds":`)
	j.float(d.Seconds())
	if !r.LastSync.IsZero() {
		j.raw(`,"last_sync":`)
		j.str(r.LastSync.UTC().Format(time.RFC3339Nano))
	}
	j.raw(`,"transfers":`)
	j.uint(r.Transfers)
	j.raw(`,"bytes":`)
	j.uint(r.Bytes)
	j.raw(`,"failures":`)
	j.uint(r.Failures)
	j.raw(`,"refused":`)
	j.uint(r.Refused)
	if r.Err != "" {
		j.raw(`,"error":`)
		j.str(r.Err)
	}
	j.raw("}")
}

// The metrics of replication, per database file, read at every scrape.
var (
	replLabels        = []string{"file", "role", "bucket"}
	descReplConnected = prometheus.NewDesc("transdb_replication_connected",
		"1 while the connection to the NATS servers of the file's replication is up, 0 otherwise.", replLabels, nil)
	descReplGeneration = prometheus.NewDesc("transdb_replication_generation",
		"Generation the replication has achieved: the last published by a writer, the one a replica's file has.", replLabels, nil)
	descReplNewest = prometheus.NewDesc("transdb_replication_newest_generation",
		"Generation of the other side as last seen: a writer's file, the bucket's object for a replica.", replLabels, nil)
	descReplLag = prometheus.NewDesc("transdb_replication_lag_generations",
		"Generations the replication is behind the other side.", replLabels, nil)
	descReplLagSeconds = prometheus.NewDesc("transdb_replication_lag_seconds",
		"Time the replication has been behind the other side; 0 when it is not.", replLabels, nil)
	descReplLastSync = prometheus.NewDesc("transdb_replication_last_sync_timestamp_seconds",
		"Unix time of the last version published or installed.", replLabels, nil)
	descReplTransfers = prometheus.NewDesc("transdb_replication_transfers_total",
		"Versions published or installed.", replLabels, nil)
	descReplBytes = prometheus.NewDesc("transdb_replication_bytes_total",
		"Bytes of the versions published, or downloaded.", replLabels, nil)
	descReplFailures = prometheus.NewDesc("transdb_replication_failures_total",
		"Attempts to publish or download that failed and are retried: NATS out of reach, a transfer cut off.", replLabels, nil)
	descReplRefused = prometheus.NewDesc("transdb_replication_refused_total",
		"Objects a replica discarded, keeping its file: corrupt, truncated, older than its file.", replLabels, nil)
)

// replDescs are the descriptions of the replication metrics.
var replDescs = []*prometheus.Desc{descReplConnected, descReplGeneration, descReplNewest, descReplLag,
	descReplLagSeconds, descReplLastSync, descReplTransfers, descReplBytes, descReplFailures, descReplRefused}

// replicationMetrics reports the replication of f, if it has one.
func replicationMetrics(ch chan<- prometheus.Metric, f *dbFile, now time.Time) {
	if f.replicator == nil {
		return
	}
	r := f.replicator.ReplicationStatus()
	labels := []string{f.path, r.Role, r.Bucket}
	gauge := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v uint64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	connected := 0.0
	if r.Connected {
		connected = 1
	}
	n, d := r.lag(now)
	gauge(descReplConnected, connected)
	gauge(descReplGeneration, float64(r.Generation))
	gauge(descReplNewest, float64(r.Newest))
	gauge(descReplLag, float64(n))
	gauge(descReplLagSeconds, d.Seconds())
	if !r.LastSync.IsZero() {
		gauge(descReplLastSync, float64(r.LastSync.UnixNano())/1e9)
	}
	counter(descReplTransfers, r.Transfers)
	counter(descReplBytes, r.Bytes)
	counter(descReplFailures, r.Failures)
	counter(descReplRefused, r.Refused)
}
