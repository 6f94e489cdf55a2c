package httpprovider

import (
	"maps"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the Prometheus metrics of a Server, in a registry of its
// own, so that several servers in one process do not collide.
type metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	handler  http.Handler
}

// newMetrics registers the metrics of s: request counts and latencies
// by endpoint and status, the state of every database file and
// provider, and the Go runtime and process collectors.
func newMetrics(s *Server) *metrics {
	reg := prometheus.NewRegistry()
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "transdb_http_requests_total",
			Help: "HTTP requests served, by endpoint and status code.",
		}, []string{"endpoint", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "transdb_http_request_duration_seconds",
			Help:    "Time to serve HTTP requests, by endpoint and status code.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 10},
		}, []string{"endpoint", "code"}),
	}
	reg.MustRegister(m.requests, m.duration, dbCollector{s},
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.handler = promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorLog: slogPrinter{s}})
	return m
}

// routeMetrics are the metrics of one endpoint and status.
type routeMetrics struct {
	requests prometheus.Counter
	duration prometheus.Observer
}

// of returns the metrics of endpoint and status.
func (m *metrics) of(endpoint string, status int) *routeMetrics {
	code := strconv.Itoa(status)
	return &routeMetrics{m.requests.WithLabelValues(endpoint, code), m.duration.WithLabelValues(endpoint, code)}
}

// observe counts a served request of rt. The metrics of each status are
// looked up once and kept in rt: a route answers with a few statuses
// (the redirects and errors of /v1/auth are most of its answers).
func (m *metrics) observe(rt *route, status int, d time.Duration) {
	var rm *routeMetrics
	if by := rt.byStatus.Load(); by != nil {
		rm = (*by)[status]
	}
	if rm == nil {
		rm = m.statusMetrics(rt, status)
	}
	rm.requests.Inc()
	rm.duration.Observe(d.Seconds())
}

// statusMetrics returns the metrics of rt's answers with status, and
// keeps them in rt.byStatus.
func (m *metrics) statusMetrics(rt *route, status int) *routeMetrics {
	rt.statusMu.Lock()
	defer rt.statusMu.Unlock()
	old := rt.byStatus.Load()
	if old != nil {
		if rm := (*old)[status]; rm != nil {
			return rm
		}
	}
	by := make(map[int]*routeMetrics, 4)
	if old != nil {
		maps.Copy(by, *old)
	}
	rm := m.of(rt.endpoint, status)
	by[status] = rm
	rt.byStatus.Store(&by)
	return rm
}

// slogPrinter passes the errors of the metrics handler to the logger.
type slogPrinter struct{ s *Server }

func (p slogPrinter) Println(v ...any) {
	p.s.log.Error("httpprovider: metrics", "err", v)
}

// The metrics of the databases, read at every scrape.
var (
	descReady = prometheus.NewDesc("transdb_database_ready",
		"1 when the database file is mapped and served, 0 when it is not (yet).", []string{"file"}, nil)
	descGeneration = prometheus.NewDesc("transdb_generation",
		"Generation of the newest version of the database file.", []string{"file"}, nil)
	descFileBytes = prometheus.NewDesc("transdb_file_bytes",
		"Size of the newest version of the database file.", []string{"file"}, nil)
	descStored = prometheus.NewDesc("transdb_stored_records",
		"Records stored in the newest version of the database file: actions and notes of every base key.", []string{"file"}, nil)
	descReloads = prometheus.NewDesc("transdb_reloads_total",
		"Versions of the database file switched to by this process.", []string{"file"}, nil)
	descCommits = prometheus.NewDesc("transdb_commits_total",
		"Transactions of a provider committed by this process.", []string{"file", "basekey"}, nil)
	descCreates = prometheus.NewDesc("transdb_actions_created_total",
		"Actions inserted by the commits of a provider in this process.", []string{"file", "basekey"}, nil)
	descDeletes = prometheus.NewDesc("transdb_actions_deleted_total",
		"Actions deleted by the commits of a provider in this process.", []string{"file", "basekey"}, nil)
	descRecords = prometheus.NewDesc("transdb_records",
		"Actions in the translation table of a provider.", []string{"file", "basekey"}, nil)
	descLookups = prometheus.NewDesc("transdb_lookups_total",
		"Lookups (fetch and resolve) served by a provider.", []string{"file", "basekey"}, nil)
	descDecisionHits = prometheus.NewDesc("transdb_decision_cache_hits_total",
		"Translations of a provider answered from its decision cache.", []string{"file", "basekey"}, nil)
	descDecisionMisses = prometheus.NewDesc("transdb_decision_cache_misses_total",
		"Translations of a provider made while its decision cache is on, traced ones aside.", []string{"file", "basekey"}, nil)
	descVerifyFailures = prometheus.NewDesc("transdb_verify_failures_total",
		"Versions of the database file that failed the background verification: damaged files.", []string{"file"}, nil)
	descVerified = prometheus.NewDesc("transdb_verified_generation",
		"Generation of the last version of the database file that passed the background verification.", []string{"file"}, nil)
	descVerifyFailed = prometheus.NewDesc("transdb_verify_failed",
		"1 while the version of the database file served failed the background verification, 0 otherwise.", []string{"file"}, nil)
	descBackups = prometheus.NewDesc("transdb_backups_total",
		"Automatic backups of the database file written by this process.", []string{"file"}, nil)
	descBackupFailures = prometheus.NewDesc("transdb_backup_failures_total",
		"Automatic backups of the database file that failed in this process.", []string{"file"}, nil)
	descBackupAge = prometheus.NewDesc("transdb_backup_age_seconds",
		"Time since the newest automatic backup of the database file was taken; absent while there is none.", []string{"file"}, nil)
)

// dbCollector reports the state of a server's databases.
type dbCollector struct{ s *Server }

func (c dbCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descReady, descGeneration, descFileBytes, descStored,
		descReloads, descCommits, descCreates, descDeletes, descRecords, descLookups,
		descDecisionHits, descDecisionMisses, descVerifyFailures, descVerified, descVerifyFailed, descBackups, descBackupFailures, descBackupAge,
		descImports, descImportFailures, descImportFailing, descImportAge} {
		ch <- d
	}
	for _, d := range replDescs {
		ch <- d
	}
}

func (c dbCollector) Collect(ch chan<- prometheus.Metric) {
	done := map[*dbFile]bool{}
	seen := map[[2]string]bool{} // two providers with one base key on one file count once
	for _, pr := range c.s.providers {
		if id := [2]string{pr.file.path, pr.name}; seen[id] {
			continue
		} else {
			seen[id] = true
		}
		st, err := pr.p.Stats()
		file := pr.file.path
		first := !done[pr.file]
		done[pr.file] = true
		if first {
			ready := 0.0
			if err == nil {
				ready = 1
			}
			ch <- prometheus.MustNewConstMetric(descReady, prometheus.GaugeValue, ready, file)
			c.backups(ch, pr.file)
			c.imports(ch, pr.file)
			replicationMetrics(ch, pr.file, time.Now())
		}
		if err != nil {
			continue
		}
		if first {
			ch <- prometheus.MustNewConstMetric(descGeneration, prometheus.GaugeValue, float64(st.Generation), file)
			ch <- prometheus.MustNewConstMetric(descFileBytes, prometheus.GaugeValue, float64(st.FileSize), file)
			ch <- prometheus.MustNewConstMetric(descStored, prometheus.GaugeValue, float64(st.StoredRecords), file)
			ch <- prometheus.MustNewConstMetric(descReloads, prometheus.CounterValue, float64(st.Reloads), file)
			c.verification(ch, pr.file)
		}
		ch <- prometheus.MustNewConstMetric(descCommits, prometheus.CounterValue, float64(st.Commits), file, pr.name)
		ch <- prometheus.MustNewConstMetric(descCreates, prometheus.CounterValue, float64(st.Creates), file, pr.name)
		ch <- prometheus.MustNewConstMetric(descDeletes, prometheus.CounterValue, float64(st.Deletes), file, pr.name)
		ch <- prometheus.MustNewConstMetric(descRecords, prometheus.GaugeValue, float64(st.Records), file, pr.name)
		ch <- prometheus.MustNewConstMetric(descLookups, prometheus.CounterValue, float64(st.Reads), file, pr.name)
		hits, misses := pr.e.DecisionCacheStats()
		ch <- prometheus.MustNewConstMetric(descDecisionHits, prometheus.CounterValue, float64(hits), file, pr.name)
		ch <- prometheus.MustNewConstMetric(descDecisionMisses, prometheus.CounterValue, float64(misses), file, pr.name)
	}
}

// verification reports the background verification of f, when it is on.
func (c dbCollector) verification(ch chan<- prometheus.Metric, f *dbFile) {
	if c.s.verifier == nil {
		return
	}
	snap, err := f.provider.p.Snapshot()
	if err != nil {
		return
	}
	v := c.s.verificationOf(f, snap)
	snap.Release()
	failed := 0.0
	if v.state == "failed" {
		failed = 1
	}
	ch <- prometheus.MustNewConstMetric(descVerifyFailures, prometheus.CounterValue, float64(v.failures), f.path)
	ch <- prometheus.MustNewConstMetric(descVerifyFailed, prometheus.GaugeValue, failed, f.path)
	if v.anyGood {
		ch <- prometheus.MustNewConstMetric(descVerified, prometheus.GaugeValue, float64(v.good), f.path)
	}
}

// backups reports the automatic backups of f, when it has them.
func (c dbCollector) backups(ch chan<- prometheus.Metric, f *dbFile) {
	if f.backups == nil {
		return
	}
	st := f.backups.state()
	ch <- prometheus.MustNewConstMetric(descBackups, prometheus.CounterValue, float64(st.written), f.path)
	ch <- prometheus.MustNewConstMetric(descBackupFailures, prometheus.CounterValue, float64(st.failed), f.path)
	if !st.newest.IsZero() {
		ch <- prometheus.MustNewConstMetric(descBackupAge, prometheus.GaugeValue, st.now.Sub(st.newest).Seconds(), f.path)
	}
}
