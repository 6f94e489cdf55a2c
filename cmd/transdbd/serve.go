package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"runtime/pprof"
	"syscall"
	"time"

	"transdb/conf"
	"transdb/httpprovider"
	"transdb/mmapdb"
	"transdb/translation"
)

// Limits of the HTTP server. Every connection is served by a goroutine of
// its own, so a slow client holds up no other; these bound how long it
// may hold its connection and how much it may send.
const (
	// readHeaderTimeout bounds the time to send the request headers.
	readHeaderTimeout = 10 * time.Second
	// readTimeout bounds the time to send a whole request, body included:
	// a MaxBodySize load has to arrive within it.
	readTimeout = 2 * time.Minute
	// writeTimeout bounds the time from the start of a request to the
	// end of its response, except for the streamed responses of
	// /v1/dump and /v1/snapshot, whose length is that of the table.
	writeTimeout = 5 * time.Minute
	// idleTimeout closes keep-alive connections idle for that long.
	idleTimeout = 2 * time.Minute
	// maxHeaderBytes limits the request line and headers.
	maxHeaderBytes = 64 << 10
)

func runServe(e *env, args []string) int {
	c := newCLI(e, "serve", "-config FILE [-cpuprofile FILE]", `
Serves the translation providers of the configuration FILE over HTTP until
SIGTERM or SIGINT, on which it stops accepting connections, lets the
requests in flight finish (a long dump included) and exits 0. A request
body that then stops arriving for 5 s is cut off (408); what is still in
flight after ShutdownTimeout (default 30s), or at a second signal, is cut
off, and the exit status is 1. SIGHUP reopens the log files and re-checks
the database files.

A writable provider whose database file is missing creates it; a read-only
one starts without it, answers 503 until it appears and then serves it.
A provider with ImportFrom PERLFILE serves a file that follows PERLFILE, a
database of the Perl module MMapDB: the daemon imports it at start and
again within CheckInterval whenever the Perl module commits, answering
from the previous version meanwhile; /readyz is 503 until the first
import.
Errors in FILE are reported with its name and the line, and exit 1.

A provider with "Publish URL BUCKET" puts every version of its file into
that NATS JetStream object store; one with "Follow URL BUCKET" (read-only)
is a replica that downloads them and serves each as a new version. NATS
out of reach does not stop the daemon: it serves what it has and retries.

It logs to standard error, starting with the address it listens on
("Listen 127.0.0.1:0" picks a free port).

-cpuprofile FILE writes a CPU profile of the whole run to FILE when the
daemon stops, for "go tool pprof"; profiling costs a few per cent.`)
	path := c.fs.String("config", "", "the configuration `FILE` (required)")
	c.required = append(c.required, "config")
	profile := c.fs.String("cpuprofile", "", "write a CPU profile to `FILE` when the daemon stops")
	if _, code, ok := c.parse(args, 0, 0); !ok {
		return code
	}
	cfg, err := conf.Load(*path)
	if err != nil {
		return c.fail(err)
	}
	if *profile != "" {
		f, err := os.Create(*profile)
		if err != nil {
			return c.fail(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return c.fail(err)
		}
		defer func() {
			pprof.StopCPUProfile()
			if err := f.Close(); err != nil {
				failure(e, c.prog, err)
			}
		}()
	}
	return serve(e, c.prog, cfg, *path, serveHooks{})
}

// serveHooks let the default mode add to serve.
type serveHooks struct {
	// started is called with the providers once the handler has started
	// them, before the server listens; an error ends serve.
	started func(providers []*translation.Provider) error
	// listening is called with the address once the server listens.
	listening func(addr net.Addr)
}

// serve serves cfg, read from the file named cfgName, until a signal
// stops it, and returns the exit status.
func serve(e *env, prog string, cfg *conf.Config, cfgName string, hooks serveHooks) int {
	logger := slog.New(slog.NewTextHandler(e.stderr, nil))
	setGCPercent()
	// Signals are caught from the start, so that one arriving while the
	// databases are opened is not lost.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGHUP, syscall.SIGTERM, syscall.SIGINT)
	defer signal.Stop(sigs)

	// The admin page's menu is read once: a changed file takes effect at
	// the next start.
	var menu []byte
	if cfg.Admin && cfg.AdminMenu != "" {
		var err error
		if menu, err = os.ReadFile(cfg.AdminMenu); err != nil {
			return failure(e, prog, fmt.Errorf("AdminMenu: %w", err))
		}
		logger.Info("admin menu", "file", cfg.AdminMenu, "bytes", len(menu))
	}

	providers, err := newProviders(cfg, cfgName)
	if err != nil {
		return failure(e, prog, err)
	}
	defer stopProviders(providers, logger)
	// Name every provider's file, absolute, so that a relative FileName
	// without Root, taken from the working directory, shows where it is.
	for _, p := range providers {
		logger.Info("provider", "file", p.Path(), "basekey", translation.FormatBaseKey(p.BaseKey()), "readonly", p.ReadOnly())
	}
	backups := fileBackups(cfg, providers)
	for path, b := range backups {
		logger.Info("backups", "file", path, "dir", b.Dir, "every", b.Every.String())
	}
	imports := fileImports(cfg, providers)
	for path, imp := range imports {
		logger.Info("import", "file", path, "from", imp.From)
	}
	repl, err := startReplication(cfg, providers, logger)
	if err != nil {
		return failure(e, prog, err)
	}
	// Before the providers stop: a publisher may be reading a version.
	defer repl.close()
	// New starts the providers: a writable one creates its missing file,
	// a read-only one may wait for its file.
	h, err := httpprovider.New(httpprovider.Options{
		Providers:          providers,
		TranslationKey:     cfg.TranslationKey,
		DocumentRoot:       cfg.DocumentRoot,
		TrustedProxies:     cfg.TrustedProxies,
		MaxCallDepth:       cfg.MaxCallDepth,
		MaxSteps:           cfg.MaxSteps,
		MaxRows:            cfg.MaxRows,
		DecisionCacheBytes: cfg.DecisionCacheSize,
		AdminToken:         cfg.AdminToken,
		MaxBodySize:        cfg.MaxBodySize,
		AccessLog:          cfg.AccessLog,
		Flush:              cfg.Flush,
		OnChange:           cfg.OnChange,
		Backups:            backups,
		ImportFrom:         imports,
		ImportInterval:     cfg.CheckInterval,
		Admin:              cfg.Admin,
		AdminMenu:          menu,
		Replicators:        repl.reporters,
		OnCommit:           repl.notify,
		Logger:             logger,
	})
	if err != nil {
		return failure(e, prog, err)
	}
	// The writable files exist now: publish what the buckets lack.
	repl.notifyAll()
	defer func() {
		if err := h.Close(); err != nil {
			logger.Error("closing the logs", "err", err)
		}
	}()
	if hooks.started != nil {
		if err := hooks.started(providers); err != nil {
			return failure(e, prog, err)
		}
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return failure(e, prog, fmt.Errorf("%s: Listen %s: %w", cfgName, cfg.Listen, err))
	}
	dr := new(drain)
	srv := newHTTPServer(h, dr, logger)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	logger.Info("listening", "addr", ln.Addr().String(), "config", cfgName, "providers", len(providers))
	if hooks.listening != nil {
		hooks.listening(ln.Addr())
	}

	for {
		select {
		case err := <-served:
			// Serve returns only on a failure of the listener here.
			return failure(e, prog, err)
		case sig := <-sigs:
			if sig == syscall.SIGHUP {
				if err := h.Rotate(); err != nil {
					logger.Error("SIGHUP: closing the logs", "err", err)
				}
				h.Recheck()
				logger.Info("SIGHUP: logs closed, to be reopened by their next line; databases re-checked")
				continue
			}
			return shutdown(srv, dr, cfg.ShutdownTimeout, sigs, sig, logger)
		}
	}
}

// shutdown stops srv after the signal sig: it closes the listener and
// waits for the requests in flight, until they are done (exit 0), or
// until timeout or a second signal other than SIGHUP cuts them off (exit
// 1). Meanwhile dr holds the request bodies still arriving to drainIdle
// between reads, so that a stalled upload is cut off long before the
// timeout, and one that keeps sending goes on; a response goes on for as
// long as its client reads it, up to the timeout.
func shutdown(srv *http.Server, dr *drain, timeout time.Duration, sigs <-chan os.Signal, sig os.Signal, logger *slog.Logger) int {
	if timeout <= 0 {
		timeout = conf.DefaultShutdownTimeout
	}
	logger.Info("shutting down: finishing the requests in flight", "signal", sig.String(), "timeout", timeout.String())
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- srv.Shutdown(ctx) }()
	dr.begin()
	for {
		select {
		case err := <-done:
			if errors.Is(err, context.DeadlineExceeded) {
				logger.Warn("shutdown timeout: closing the connections still in flight", "timeout", timeout.String())
				srv.Close()
				return exitFailure
			}
			if err != nil {
				logger.Error("shutdown", "err", err)
				return exitFailure
			}
			logger.Info("stopped")
			return exitOK
		case sig := <-sigs:
			if sig == syscall.SIGHUP {
				continue
			}
			logger.Warn("second signal: closing the connections in flight", "signal", sig.String())
			cancel()
			srv.Close()
			<-done
			return exitFailure
		}
	}
}

// newHTTPServer returns the server for h with the limits above; dr
// follows its request bodies for the shutdown.
func newHTTPServer(h http.Handler, dr *drain, logger *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           withDeadlines(h, dr),
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
}

// withDeadlines lifts the deadlines of the streamed /v1/dump and
// /v1/snapshot, whose responses last as long as the table takes to
// stream: net/http gives every response a write deadline of
// WriteTimeout, and every connection a read deadline of ReadTimeout,
// whose passing would cancel the request's context. It hands the
// request body to dr to follow while the handler runs.
func withDeadlines(h http.Handler, dr *drain) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && (r.URL.Path == "/v1/dump" || r.URL.Path == "/v1/snapshot") {
			rc := http.NewResponseController(w)
			_ = rc.SetReadDeadline(time.Time{})
			_ = rc.SetWriteDeadline(time.Time{})
		}
		if b := dr.body(w, r); b != nil {
			defer dr.done(b)
			r.Body = b
		}
		h.ServeHTTP(w, r)
	})
}

// newProviders creates the providers of cfg, read from the file named
// cfgName.
func newProviders(cfg *conf.Config, cfgName string) ([]*translation.Provider, error) {
	var providers []*translation.Provider
	for _, cp := range cfg.Providers {
		p, err := newProvider(cfg, cp)
		if err != nil {
			for _, p := range providers {
				p.Stop()
			}
			return nil, fmt.Errorf("%s:%d: %w", cfgName, cp.Line, err)
		}
		providers = append(providers, p)
	}
	return providers, nil
}

// newProvider creates the provider cp of cfg.
func newProvider(cfg *conf.Config, cp conf.Provider) (*translation.Provider, error) {
	baseKey, err := translation.ParseBaseKey(cp.BaseKey)
	if err != nil {
		return nil, fmt.Errorf("BaseKey: %w", err)
	}
	return translation.New(translation.Options{
		FileName:      cp.FileName,
		Root:          cp.Root,
		ReadOnly:      cp.ReadOnly,
		BaseKey:       baseKey,
		NoLock:        cp.NoLock,
		CheckInterval: cfg.CheckInterval,
	})
}

// fileBackups returns the automatic backups that cfg configures, by the
// database file of providers, which newProviders made from cfg.
func fileBackups(cfg *conf.Config, providers []*translation.Provider) map[string]httpprovider.Backups {
	backups := map[string]httpprovider.Backups{}
	for i, cp := range cfg.Providers {
		if b := cp.Backups; b != nil {
			backups[providers[i].Path()] = httpprovider.Backups{Dir: b.Dir, Every: b.Every,
				Policy: mmapdb.BackupPolicy{KeepAll: b.KeepAll, KeepMin: b.KeepMin, DeleteAfter: b.DeleteAfter}}
		}
	}
	return backups
}

// fileImports returns the Perl files that the database files of cfg
// follow, by the database file of providers, which newProviders made
// from cfg.
func fileImports(cfg *conf.Config, providers []*translation.Provider) map[string]httpprovider.Import {
	imports := map[string]httpprovider.Import{}
	for i, cp := range cfg.Providers {
		if cp.ImportFrom != "" {
			imports[providers[i].Path()] = httpprovider.Import{From: cp.ImportFrom, NoLock: cp.NoLock}
		}
	}
	return imports
}

// stopProviders stops the providers, logging what fails.
func stopProviders(providers []*translation.Provider, logger *slog.Logger) {
	for _, p := range providers {
		if err := p.Stop(); err != nil {
			logger.Error("stopping the provider", "file", p.Path(), "err", err)
		}
	}
}

// daemonGCPercent is the garbage collector's target of a daemon whose
// environment sets no GOGC.
const daemonGCPercent = 400

// setGCPercent lets the heap of the daemon grow to five times its live
// size between collections, unless GOGC says otherwise. The live heap is
// small beside the mapped database, and most of it is the engine's cache
// of compiled actions, which lives long: marking it again every few
// thousand requests took a third of the CPU of /v1/translate at 100k
// records (see bench/README.md), while collecting a fourth as often
// costs a few tens of megabytes.
func setGCPercent() {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(daemonGCPercent)
	}
}
