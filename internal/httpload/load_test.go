package httpload

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

func TestRunMakesExactlyTheRequestsAskedForAndCountsFailures(t *testing.T) {
	var served, bad atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served.Add(1)
		if r.URL.Path == "/bad" {
			bad.Add(1)
			w.WriteHeader(http.StatusInternalServerError)
		}
		w.Write([]byte("ok"))
	}))
	defer srv.Close()
	res, err := Run(context.Background(), Round{
		Addr: srv.Listener.Addr().String(), Conns: 4, Requests: 1000,
		Targets: []string{"/a", "/b", "/c", "/bad"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests != 1000 || served.Load() != 1000 || len(res.Latencies) != 1000 {
		t.Errorf("%d requests, %d served, %d latencies; want 1000", res.Requests, served.Load(), len(res.Latencies))
	}
	// Each connection walks the list from its own start: about one in
	// four is /bad.
	if res.Failures != bad.Load() || res.Failures < 200 || len(res.Errors) != maxErrors {
		t.Errorf("%d failures, %d errors kept; want %d, %d", res.Failures, len(res.Errors), bad.Load(), maxErrors)
	}
	if res.Percentile(0.5) > res.Percentile(0.99) || res.Percentile(1) != res.Latencies[999] || res.Rate() <= 0 {
		t.Errorf("p50 %v, p99 %v, max %v, rate %v", res.Percentile(0.5), res.Percentile(0.99), res.Percentile(1), res.Rate())
	}
}

func TestRunStopsAfterItsDurationAndChecksEveryAnswer(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(r.URL.Path))
	}))
	defer srv.Close()
	targets := []string{"/0", "/1", "/2"}
	var checked atomic.Int64
	start := time.Now()
	res, err := Run(context.Background(), Round{
		Addr: srv.Listener.Addr().String(), Conns: 2, Duration: 200 * time.Millisecond, Targets: targets,
		Check: func(i int, r Response) error {
			checked.Add(1)
			if string(r.Body) != targets[i] {
				return errors.New("wrong body " + string(r.Body))
			}
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 200*time.Millisecond || d > 10*time.Second {
		t.Errorf("the round took %v", d)
	}
	if res.Failures != 0 || res.Requests == 0 || checked.Load() != res.Requests {
		t.Errorf("%d requests, %d checked, %d failures: %v", res.Requests, checked.Load(), res.Failures, res.Errors)
	}
}

func TestRunFailsAGenerationThatGoesBack(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// 5, 6, then 3: the third answer goes back.
		g := []int{5, 6, 3, 7}[n.Add(1)-1]
		w.Header().Set("X-Transdb-Generation", strconv.Itoa(g))
	}))
	defer srv.Close()
	res, err := Run(context.Background(), Round{Addr: srv.Listener.Addr().String(), Conns: 1, Requests: 4, Targets: []string{"/"}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Failures != 1 {
		t.Errorf("%d failures, want 1: %v", res.Failures, res.Errors)
	}
	if lo, hi, k := res.GenerationRange(); lo != 5 || hi != 7 || k != 3 {
		t.Errorf("generations %d..%d, %d of them; want 5..7, 3", lo, hi, k)
	}
}

func TestMergeAddsRoundsUp(t *testing.T) {
	a := Result{Requests: 2, Elapsed: time.Second, Latencies: []time.Duration{1, 5}, Generations: map[uint64]int{1: 1}}
	b := Result{Requests: 3, Failures: 1, Errors: []error{errors.New("x")}, Elapsed: time.Second,
		Latencies: []time.Duration{2, 3, 9}, Generations: map[uint64]int{1: 2, 2: 1}}
	var total Result
	total.Merge(&a)
	total.Merge(&b)
	if total.Requests != 5 || total.Failures != 1 || len(total.Errors) != 1 || total.Rate() != 2.5 ||
		total.Percentile(0.6) != 3 || total.Generations[1] != 3 || total.Generations[2] != 1 {
		t.Errorf("merged %+v", total)
	}
}

func TestRunRefusesAnEmptyRound(t *testing.T) {
	for _, r := range []Round{
		{Addr: "127.0.0.1:1", Conns: 0, Requests: 1, Targets: []string{"/"}},
		{Addr: "127.0.0.1:1", Conns: 1, Requests: 1},
		{Addr: "127.0.0.1:1", Conns: 1, Targets: []string{"/"}},
	} {
		if _, err := Run(context.Background(), r); err == nil {
			t.Errorf("%+v: no error", r)
		}
	}
}

func TestRunAtARateSendsOnSchedule(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	res, err := Run(context.Background(), Round{
		Addr: srv.Listener.Addr().String(), Conns: 2, Duration: 500 * time.Millisecond, Rate: 200, Targets: []string{"/"},
	})
	if err != nil {
		t.Fatal(err)
	}
	// 200 per second for half a second: 100 requests, give or take the
	// ones at the edges; never more, however fast the server, and fewer
	// only when a busy machine delays the client or the server.
	if res.Requests < 50 || res.Requests > 102 || res.Failures != 0 {
		t.Errorf("%d requests, %d failures; want about 100 and no more", res.Requests, res.Failures)
	}
}
