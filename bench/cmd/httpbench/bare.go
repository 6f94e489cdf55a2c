package main

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/pprof"
	"strconv"
	"syscall"
	"time"

	"transdb/bench"
)

// The bare handler is the yardstick of transdbd's HTTP throughput: a
// net/http server, as plain as it gets, that answers every request with
// a constant body of the size of a typical transdbd answer, and the same
// headers (Content-Type, X-Transdb-Generation, with Date and
// Content-Length from net/http), so that both send the same bytes. It
// has transdbd's timeouts and limits, which cost net/http some work per
// request (deadlines on the connection). It runs in a process of its
// own, as transdbd does, with the same GOMAXPROCS: each server competes
// with the load generator for the two cores in the same way.

// The timeouts and limits of the bare server: those of transdbd serve
// (cmd/transdbd/serve.go).
// TestBareServerHasTheLimitsOfTransdbd holds the two to the same values.
const (
	readHeaderTimeout = 10 * time.Second
	readTimeout       = 2 * time.Minute
	writeTimeout      = 5 * time.Minute
	idleTimeout       = 2 * time.Minute
	maxHeaderBytes    = 64 << 10
)

// bareBodies are the constant answers of the bare handler, by path.
type bareBodies struct {
	fetch, resolve, translate []byte
	// auth are the decision headers of the answer to /v1/auth, 200
	// without a body; never modified.
	auth       http.Header
	generation []string // the header's value; shared by all responses, never modified
}

// jsonType is the Content-Type header value of every answer.
var jsonType = []string{"application/json"}

// zeroLength is the Content-Length of the answer to /v1/auth, which
// transdbd sets too.
var zeroLength = []string{"0"}

// runBare serves the bare handler on 127.0.0.1, a free port, logging
// "msg=listening addr=..." as transdbd does, until it is killed. With a
// profile file, it writes a CPU profile there and exits on SIGTERM, as
// transdbd serve -cpuprofile does.
func runBare(fetchFile, resolveFile, translateFile, authFile, generation string, profile ...string) error {
	var b bareBodies
	var err error
	if b.fetch, err = os.ReadFile(fetchFile); err != nil {
		return err
	}
	if b.resolve, err = os.ReadFile(resolveFile); err != nil {
		return err
	}
	if b.translate, err = os.ReadFile(translateFile); err != nil {
		return err
	}
	lines, err := os.ReadFile(authFile)
	if err != nil {
		return err
	}
	if b.auth, err = parseHeaderLines(lines); err != nil {
		return err
	}
	b.generation = []string{generation}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	if len(profile) > 0 {
		if err := profileUntilTerm(profile[0]); err != nil {
			return err
		}
	}
	slog.New(slog.NewTextHandler(os.Stderr, nil)).Info("listening", "addr", ln.Addr().String())
	return newBareServer(b).Serve(ln)
}

// profileUntilTerm starts a CPU profile into the file name, which is
// written when SIGTERM or SIGINT arrives; then the process exits 0.
func profileUntilTerm(name string) error {
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		return err
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-sig
		pprof.StopCPUProfile()
		if err := f.Close(); err != nil {
			childErr("bare", err)
		}
		os.Exit(0)
	}()
	return nil
}

// newBareServer returns the bare server of the bodies b.
func newBareServer(b bareBodies) *http.Server {
	return &http.Server{
		Handler:           b,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
	}
}

// ServeHTTP answers /v1/resolve with the resolve body, /v1/translate
// with the translate body, /v1/auth with 200, the auth headers and no
// body, and everything else with the fetch body.
func (b bareBodies) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body := b.fetch
	switch r.URL.Path {
	case "/v1/resolve":
		body = b.resolve
	case "/v1/translate":
		body = b.translate
	case "/v1/auth":
		h := w.Header()
		for name, v := range b.auth {
			h[name] = v
		}
		h["X-Transdb-Generation"] = b.generation
		h["Content-Length"] = zeroLength
		w.WriteHeader(http.StatusOK)
		return
	}
	h := w.Header()
	h["Content-Type"] = jsonType
	h["X-Transdb-Generation"] = b.generation
	w.Write(body)
}

// startBare starts this program as the bare server, answering fetch,
// resolve and translate with the given bodies, auth with the given
// header lines, and the header generation; it writes a CPU profile to
// the file profile unless that is empty.
func startBare(self, dir string, fetch, resolve, translate, auth []byte, generation uint64, profile string) (*bench.Server, error) {
	var files []string
	for _, f := range []struct {
		name string
		body []byte
	}{{"fetch", fetch}, {"resolve", resolve}, {"translate", translate}, {"auth", auth}} {
		name := dir + "/bare-" + f.name + ".json"
		if err := os.WriteFile(name, f.body, 0o644); err != nil {
			return nil, err
		}
		files = append(files, name)
	}
	args := append(files, strconv.FormatUint(generation, 10))
	if profile != "" {
		args = append(args, profile)
	}
	return bench.StartServer("bare handler", childCommand(self, "bare", args...))
}

// childErr reports the failure of a child mode and exits.
func childErr(mode string, err error) {
	fmt.Fprintf(os.Stderr, "httpbench %s: %v\n", mode, err)
	os.Exit(1)
}
