package main

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"

	"transdb/bench"
)

// The bare handler is the yardstick of transdbd's HTTP throughput: a
// net/http server, as plain as it gets, that answers every request with
// a constant body of the size of a typical transdbd answer, and the same
// headers (Content-Type, X-Transdb-Generation, with Date and
// Content-Length from net/http), so that both send the same bytes. It
// runs in a process of its own, as transdbd does, with the same
// GOMAXPROCS: each server competes with the load generator for the two
// cores in the same way.

// bareBodies are the constant answers of the bare handler, by path.
type bareBodies struct {
	fetch, resolve []byte
	generation     []string // the header's value; shared by all responses, never modified
}

// jsonType is the Content-Type header value of every answer.
var jsonType = []string{"application/json"}

// runBare serves the bare handler on 127.0.0.1, a free port, logging
// "msg=listening addr=..." as transdbd does, until it is killed.
func runBare(fetchFile, resolveFile, generation string) error {
	var b bareBodies
	var err error
	if b.fetch, err = os.ReadFile(fetchFile); err != nil {
		return err
	}
	if b.resolve, err = os.ReadFile(resolveFile); err != nil {
		return err
	}
	b.generation = []string{generation}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	slog.New(slog.NewTextHandler(os.Stderr, nil)).Info("listening", "addr", ln.Addr().String())
	return http.Serve(ln, b)
}

// ServeHTTP answers /v1/resolve with the resolve body and everything else
// with the fetch body.
func (b bareBodies) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body := b.fetch
	if r.URL.Path == "/v1/resolve" {
		body = b.resolve
	}
	h := w.Header()
	h["Content-Type"] = jsonType
	h["X-Transdb-Generation"] = b.generation
	w.Write(body)
}

// startBare starts this program as the bare server, answering fetch and
// resolve with the given bodies and header generation.
func startBare(self, dir string, fetch, resolve []byte, generation uint64) (*bench.Server, error) {
	ff, rf := dir+"/bare-fetch.json", dir+"/bare-resolve.json"
	if err := os.WriteFile(ff, fetch, 0o644); err != nil {
		return nil, err
	}
	if err := os.WriteFile(rf, resolve, 0o644); err != nil {
		return nil, err
	}
	return bench.StartServer("bare handler", childCommand(self, "bare", ff, rf, strconv.FormatUint(generation, 10)))
}

// childErr reports the failure of a child mode and exits.
func childErr(mode string, err error) {
	fmt.Fprintf(os.Stderr, "httpbench %s: %v\n", mode, err)
	os.Exit(1)
}
