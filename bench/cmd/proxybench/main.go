// Command proxybench measures what transdbd adds to a request behind
// nginx: requests per second and latency through nginx with the shipped
// configuration (conf/proxies/nginx/transdb.conf: an auth_request
// subrequest to transdbd's /v1/auth per request, then the proxy to the
// upstream the table computes) against nginx proxying the same requests
// straight to the same backend, and against nginx with an auth_request
// subrequest to a bare Go handler that answers 200 at once (what the
// subrequest itself costs), in the same run, rounds alternating. For
// transdbd it reports its CPU time per request, from /proc.
//
//	cd bench && go run ./cmd/proxybench [-conns 32] [-duration 10s] [-rounds 3] [-cpuprofile FILE]
//
// It builds transdbd, serves the example table (testdata/example.txt)
// without its redirect of hosts other than www.xyz.com and www.xyz.de,
// since the load generator names the server by its address, starts a
// backend answering a constant body, the bare handler, and nginx (the
// Debian package) with the three sites, all on loopback ports; the load generator is
// internal/httpload, with every answer checked. With -cpuprofile,
// transdbd writes a CPU profile of the whole run, and the command prints
// its top functions.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"time"

	"transdb/bench"
	"transdb/internal/httpload"
	"transdb/internal/syncbuf"
)

func main() {
	conns := flag.Int("conns", 32, "keep-alive connections of the load generator")
	duration := flag.Duration("duration", 10*time.Second, "length of each measured round")
	rounds := flag.Int("rounds", 3, "rounds of each configuration, alternating")
	nginx := flag.String("nginx", "nginx", "the nginx binary")
	profile := flag.String("cpuprofile", "", "write transdbd's CPU profile to `FILE` and print its top functions")
	flag.Parse()
	if err := run(*conns, *duration, *rounds, *nginx, *profile); err != nil {
		fmt.Fprintln(os.Stderr, "proxybench:", err)
		os.Exit(1)
	}
}

// backendBody is what the backend answers, the size of a small page.
var backendBody = bytes.Repeat([]byte("transdb proxy benchmark\n"), 20)

func run(conns int, duration time.Duration, rounds int, nginxBin, profile string) error {
	root, err := bench.ModuleDir()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "proxybench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	bin := filepath.Join(dir, "transdbd")
	if out, err := exec.Command("go", "build", "-o", bin, "transdb/cmd/transdbd").CombinedOutput(); err != nil {
		return fmt.Errorf("building transdbd: %v\n%s", err, out)
	}
	db := filepath.Join(dir, "trans.mmdb")
	if out, err := exec.Command(bin, "load", "-db", db, filepath.Join(root, "testdata", "example.txt")).CombinedOutput(); err != nil {
		return fmt.Errorf("loading the example table: %v\n%s", err, out)
	}
	cfg := filepath.Join(dir, "transdbd.conf")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(`Listen 127.0.0.1:0
TranslationKey front
DocumentRoot %s
TrustedProxies 127.0.0.1
AdminToken bench
<TranslationProvider MMapDB>
    FileName %s
</TranslationProvider>
`, dir, db)), 0o644); err != nil {
		return err
	}
	args := []string{"serve", "-config", cfg}
	if profile != "" {
		args = append(args, "-cpuprofile", profile)
	}
	daemon := exec.Command(bin, args...)
	var daemonLog syncbuf.Buffer
	daemon.Stderr = &daemonLog
	if err := daemon.Start(); err != nil {
		return err
	}
	defer daemon.Process.Kill()
	transdbAddr, err := waitFor(&daemonLog, regexp.MustCompile(`msg=listening addr=(\S+)`))
	if err != nil {
		return err
	}
	// Records 1 and 2 redirect hosts other than www.xyz.com and
	// www.xyz.de; the load generator's Host is 127.0.0.1:PORT.
	if err := commit(transdbAddr, `{"ops":[{"op":"delete","old":{"key":"front","uri":":PRE:","block":0,"order":0,"id":1}},`+
		`{"op":"delete","old":{"key":"front","uri":":PRE:","block":0,"order":1,"id":2}}]}`); err != nil {
		return err
	}

	backend, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	go http.Serve(backend, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Write(backendBody)
	}))

	// A bare auth handler: what an auth_request subrequest costs when
	// its answer costs nothing.
	bare, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	go http.Serve(bare, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))

	direct, viaBare, viaTransdb := freeAddr(), freeAddr(), freeAddr()
	ngx, err := startNginx(nginxBin, dir, root, transdbAddr, backend.Addr().String(), bare.Addr().String(), direct, viaBare, viaTransdb)
	if err != nil {
		return err
	}
	defer func() {
		ngx.Process.Signal(syscall.SIGTERM)
		ngx.Wait()
	}()

	configs := []struct {
		name, addr string
		pid        int // the auth server whose CPU time is counted
		results    []httpload.Result
		cpu        []time.Duration
	}{
		{name: "nginx -> backend", addr: direct},
		{name: "nginx + auth_request to a bare handler", addr: viaBare},
		{name: "nginx + auth_request to transdbd", addr: viaTransdb, pid: daemon.Process.Pid},
	}
	check := func(i int, r httpload.Response) error {
		if r.Status != 200 || !bytes.Equal(r.Body, backendBody) {
			return fmt.Errorf("status %d, body of %d bytes: not the backend's answer", r.Status, len(r.Body))
		}
		return nil
	}
	round := func(addr string, d time.Duration) (httpload.Result, error) {
		ctx, cancel := context.WithTimeout(context.Background(), d+time.Minute)
		defer cancel()
		res, err := httpload.Run(ctx, httpload.Round{Addr: addr, Conns: conns, Duration: d,
			Targets: []string{"/appl1/x"}, Check: check})
		if err == nil && res.Failures > 0 {
			err = fmt.Errorf("%d failures, first: %v", res.Failures, res.Errors)
		}
		return res, err
	}
	fmt.Printf("proxybench: %d connections, %d rounds of %v each, GOMAXPROCS of the load generator %d\n",
		conns, rounds, duration, runtimeProcs())
	for i := range configs {
		if _, err := round(configs[i].addr, 2*time.Second); err != nil { // warm-up
			return fmt.Errorf("%s: %v", configs[i].name, err)
		}
	}
	for r := 0; r < rounds; r++ {
		for i := range configs {
			cpu0 := cpuTime(configs[i].pid)
			res, err := round(configs[i].addr, duration)
			if err != nil {
				return fmt.Errorf("%s: %v", configs[i].name, err)
			}
			cpu := cpuTime(configs[i].pid) - cpu0
			configs[i].results = append(configs[i].results, res)
			configs[i].cpu = append(configs[i].cpu, cpu)
			perReq := ""
			if configs[i].pid != 0 {
				perReq = fmt.Sprintf("  transdbd CPU %.1f µs/request", float64(cpu.Microseconds())/float64(res.Requests))
			}
			fmt.Printf("round %d  %-40s %8.0f req/s  p50 %7s  p99 %7s%s\n", r+1, configs[i].name, res.Rate(),
				res.Percentile(0.50).Round(time.Microsecond), res.Percentile(0.99).Round(time.Microsecond), perReq)
		}
	}
	var rates [3][]float64
	for i := range configs {
		for _, res := range configs[i].results {
			rates[i] = append(rates[i], res.Rate())
		}
	}
	fmt.Println()
	fmt.Printf("%-40s %10s %10s %10s\n", "median of the rounds", "req/s", "p50", "p99")
	for i := range configs {
		var all httpload.Result
		for j := range configs[i].results {
			all.Merge(&configs[i].results[j])
		}
		fmt.Printf("%-40s %10.0f %10s %10s\n", configs[i].name, median(rates[i]),
			all.Percentile(0.50).Round(time.Microsecond), all.Percentile(0.99).Round(time.Microsecond))
	}
	fmt.Printf("throughput with transdbd / without auth_request, per round: %s\n", ratios(rates[2], rates[0]))
	fmt.Printf("throughput with transdbd / with the bare auth handler, per round: %s\n", ratios(rates[2], rates[1]))

	daemon.Process.Signal(syscall.SIGTERM)
	daemon.Wait()
	if profile != "" {
		out, err := exec.Command("go", "tool", "pprof", "-top", "-nodecount=30", bin, profile).CombinedOutput()
		if err != nil {
			return fmt.Errorf("pprof: %v\n%s", err, out)
		}
		fmt.Printf("\ntransdbd's CPU profile (%s):\n%s", profile, out)
	}
	return nil
}

// startNginx starts nginx with three sites: direct proxies every request
// to the backend; viaBare does so after an auth_request subrequest to the
// bare handler; viaTransdb serves the shipped
// conf/proxies/nginx/transdb.conf as conf/proxies/nginx/site.conf does.
func startNginx(bin, dir, root, transdbAddr, backendAddr, bareAddr, direct, viaBare, viaTransdb string) (*exec.Cmd, error) {
	user := ""
	if os.Geteuid() == 0 {
		user = "user root;"
	}
	conf := fmt.Sprintf(`%s
daemon off;
worker_processes auto;
pid %[2]s/nginx.pid;
error_log %[2]s/nginx-error.log;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path %[2]s/body;
    proxy_temp_path %[2]s/proxy;
    fastcgi_temp_path %[2]s/fastcgi;
    uwsgi_temp_path %[2]s/uwsgi;
    scgi_temp_path %[2]s/scgi;
    upstream transdb { server %[3]s; keepalive 64; }
    upstream backend { server %[4]s; keepalive 64; }
    server {
        listen %[5]s;
        location / {
            proxy_pass http://backend;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }
    }
    upstream bare { server %[8]s; keepalive 64; }
    server {
        listen %[9]s;
        location = /_auth {
            internal;
            proxy_pass http://bare/;
            proxy_pass_request_body off;
            proxy_set_header Content-Length "";
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }
        location / {
            auth_request /_auth;
            proxy_pass http://backend;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }
    }
    server {
        listen %[6]s;
        set $transdb_key front;
        include %[7]s;
    }
}
`, user, dir, transdbAddr, backendAddr, direct, viaTransdb, filepath.Join(root, "conf", "proxies", "nginx", "transdb.conf"), bareAddr, viaBare)
	path := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "-p", dir, "-e", filepath.Join(dir, "nginx-error.log"), "-c", path)
	var out syncbuf.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting nginx (the Debian package nginx): %v", err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for _, addr := range []string{direct, viaBare, viaTransdb} {
		for {
			c, err := net.DialTimeout("tcp", addr, time.Second)
			if err == nil {
				c.Close()
				break
			}
			if time.Now().After(deadline) {
				cmd.Process.Kill()
				log, _ := os.ReadFile(filepath.Join(dir, "nginx-error.log"))
				return nil, fmt.Errorf("nginx does not listen on %s: %s\n%s", addr, out.String(), log)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return cmd, nil
}

// commit applies a transaction through transdbd.
func commit(addr, body string) error {
	req, err := http.NewRequest("POST", "http://"+addr+"/v1/txn", strings.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer bench")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return fmt.Errorf("txn: %d %s", resp.StatusCode, b)
	}
	return nil
}

// waitFor waits until the log matches re and returns the first group.
func waitFor(log *syncbuf.Buffer, re *regexp.Regexp) (string, error) {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if m := re.FindStringSubmatch(log.String()); m != nil {
			return m[1], nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return "", fmt.Errorf("transdbd does not listen:\n%s", log.String())
}

// freeAddr returns a loopback address whose port was free a moment ago.
func freeAddr() string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func median(v []float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	return s[len(s)/2]
}

// ratios returns a[i]/b[i] for each round, sorted, as text.
func ratios(a, b []float64) string {
	r := make([]float64, len(a))
	for i := range a {
		r[i] = a[i] / b[i]
	}
	sort.Float64s(r)
	parts := make([]string, len(r))
	for i, x := range r {
		parts[i] = fmt.Sprintf("%.2f", x)
	}
	return strings.Join(parts, ", ") + "x"
}

// cpuTime returns the user and system CPU time of process pid so far,
// from /proc; 0 for pid 0 or when it cannot be read.
func cpuTime(pid int) time.Duration {
	if pid == 0 {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The fields after the command name, which is in parentheses:
	// utime and stime are the 14th and 15th of the line.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0
	}
	var utime, stime int64
	fmt.Sscan(f[11], &utime)
	fmt.Sscan(f[12], &stime)
	return time.Duration(utime+stime) * time.Second / clockTicks
}

// clockTicks is USER_HZ, the unit of the times in /proc/PID/stat: 100 on
// Linux.
const clockTicks = 100
