package httpprovider

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"maps"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"transdb/admin"
	"transdb/engine"
	"transdb/internal/fault"

	"transdb/perlmmapdb"
	"transdb/translation"
)

// DefaultMaxBodySize is the request body limit when Options.MaxBodySize
// is 0: 64 MiB.
const DefaultMaxBodySize int64 = 64 << 20

// HeaderGeneration is the response header that carries the generation of
// the database version a response was made from, in decimal. Every
// response has it: for a lookup it equals the body's "generation"; for
// an error or a response without a version of its own it is the current
// generation of the provider concerned (the first one when none is
// selected), or 0 when there is no database yet.
const HeaderGeneration = "X-Transdb-Generation"

// Options configure a Server. They are the top-level directives of a
// transdbd configuration together with its providers.
type Options struct {
	// Providers are the translation tables served, in configuration
	// order. A request selects one by its base key (the repeated
	// basekey parameter, or the basekey array of a txn body), matched
	// exactly against Provider.BaseKey; a request without basekey gets
	// the first. At least one is required. The Server does not own them:
	// New starts them, but stopping them after Close is the caller's
	// business.
	Providers []*translation.Provider

	// TranslationKey is the key of a lookup whose request has no key
	// parameter, and the key a translation starts with. Empty means
	// none: a lookup without a key parameter is 400 Bad Request, and a
	// translation starts with engine.DefaultTranslationKey.
	TranslationKey string

	// DocumentRoot is the document root of translations ($DOCROOT).
	DocumentRoot string

	// TrustedProxies are the proxies in front whose forwarding headers
	// GET /v1/auth believes: from a peer in one of these prefixes, the
	// client's address is the one X-Real-IP gives, else the last one in
	// X-Forwarded-For that is not a trusted proxy's. Empty means none:
	// the client's address is the peer's, whatever the headers say. Name
	// only proxies that set these headers themselves, or a client could
	// choose its own address.
	TrustedProxies []netip.Prefix

	// MaxCallDepth, MaxSteps and MaxRows bound each translation; zero
	// means the engine's defaults (see engine.Options).
	MaxCallDepth, MaxSteps, MaxRows int

	// DecisionCacheBytes bounds the decision cache of each provider's
	// engine: zero means the engine's default, a negative number none
	// (see engine.Options.DecisionCacheBytes).
	DecisionCacheBytes int64

	// AdminToken is the bearer token that write requests must present
	// in "Authorization: Bearer <token>". Empty disables writes: /v1/txn,
	// /v1/load and /v1/rotate answer 403 Forbidden (Rotate, as a daemon
	// calls it on SIGHUP, needs no token). Use a long random token, and
	// keep the port away from untrusted networks if it is sent in
	// clear: it is the only protection of the write endpoints.
	AdminToken string

	// MaxBodySize limits every request body, in bytes; a larger one is
	// 413 Request Entity Too Large. 0 means DefaultMaxBodySize. Raise it
	// for loads of big tables: a load is parsed completely before it is
	// applied, so it holds the table in memory.
	MaxBodySize int64

	// AccessLog is a directory in which the server appends one line per
	// request to access_<pid>.log (see the package documentation for the
	// format). The directory must exist. Empty means no access log.
	AccessLog string

	// Flush writes every access log line, and the journal lines of every
	// commit, to the file at once, whole lines per write call. Without
	// it the lines are buffered and reach the file when the buffer is
	// full, on Rotate and on Close: cheaper, but the last lines are lost
	// if the process dies. The configuration default is on.
	Flush bool

	// OnChange is a shell command that the server runs with "sh -c"
	// after each commit it makes (a txn or a load), with
	// TRANSDB_GENERATION (the new generation) and TRANSDB_FILE (the
	// database file) added to its environment. It runs in the
	// background, one run at a time: the commits made while it runs are
	// followed by one run for the newest generation of each file (a
	// command slower than the commits skips generations rather than fall
	// behind). A failure is logged. Commits of other processes do not run
	// it. Empty means none.
	OnChange string

	// VerifyInterval is how often the server looks for a version of its
	// database files that it has not verified yet; it verifies each
	// version it maps in the background (see the package documentation).
	// 0 means DefaultVerifyInterval; negative turns the verification
	// off, which leaves a damaged file to be found by transdbd verify.
	VerifyInterval time.Duration

	// Backups turns on automatic backups of database files, keyed by the
	// path of the file as translation.Provider.Path returns it. After
	// each commit the server makes to such a file it writes a backup of
	// the newest version to the file's Backups.Dir, in the background:
	// no answer, the commit's included, waits for it (see Backups for
	// how commits made meanwhile are backed up). A backup is a verified
	// copy named after the database file with the UTC time it was taken
	// (mmapdb.WriteBackup). A failed one (a full disk, a directory
	// removed) is logged at level ERROR and counted in
	// transdb_backup_failures_total; it fails no commit, and the next
	// commit tries again. After each backup, and when the server starts,
	// the backups are pruned by Backups.Policy (mmapdb.PruneBackups).
	// Commits of other processes start no backup, and a file that only
	// read-only providers serve has none. Close waits for the backup
	// under way and takes the one that Every holds back.
	Backups map[string]Backups

	// ImportFrom makes database files follow files of the Perl module
	// MMapDB, keyed by the database file (the providers' Path): the
	// server imports the Perl file at once (perlmmapdb.Follow), and
	// again whenever the Perl module commits a new version, each import
	// one transaction that replaces the whole content of the file, IDs
	// included; lookups are answered from the previous version
	// meanwhile. Every provider of such a file must be read-only, as the
	// next import would undo its writes. /readyz is 503 for the file
	// until the first import has been committed, and then reports the
	// imports and the failure of the last one, if it failed; so does
	// /metrics. Failures are logged; the file keeps the version imported
	// last. Imports run no OnChange command and write no journal.
	ImportFrom map[string]Import

	// ImportInterval is how often the Perl files of ImportFrom are
	// compared with the versions imported last; 0 means
	// perlmmapdb.DefaultFollowInterval. A daemon passes CheckInterval.
	ImportInterval time.Duration

	// Admin serves the admin page (package admin) at /admin/: an editor
	// of the tables in the browser, which works through this API. It
	// writes only with the AdminToken its user enters, so it opens no
	// access of its own; leave it off where nobody edits tables in a
	// browser.
	Admin bool

	// AdminMenu, when not nil, is the admin page's pop-up menu, an HTML
	// fragment served at /admin/menu.html with the page's
	// Content-Security-Policy (see admin.Handler); nil means no menu.
	// It has no effect without Admin.
	AdminMenu []byte

	// Replicators report the replication of database files, one each
	// at most, which /v1/stats, /readyz and /metrics show; a
	// Replicator's file must be a provider's. nil means none.
	Replicators []Replicator

	// OnCommit, when set, is called after each commit the server makes
	// (a txn or a load), with the database file and the new generation,
	// in the goroutine of the request: it must return at once (as
	// replica.Publisher.Notify does). Commits of other processes do not
	// call it.
	OnCommit func(file string, generation uint64)

	// Logger receives the server's own messages: failures of log files,
	// of OnChange commands, of the verification of a database version, of
	// backups and of requests that fail on the server's side. nil means
	// slog.Default().
	Logger *slog.Logger

	// clock is the time of the backups; nil means the system's. Tests
	// set it.
	clock clock
}

// Server serves the HTTP API of transdbd over a list of translation
// providers. It implements http.Handler; mount it at the root of an
// http.Server. A Server is safe for concurrent use.
type Server struct {
	providers      []*provider
	files          []*dbFile
	token          []byte   // AdminToken; nil when writes are disabled
	tokenHash      [32]byte // SHA-256 of token, for the comparison
	defKey         string
	trustedProxies []netip.Prefix
	maxBody        int64
	flush          bool
	log            *slog.Logger
	mux            *http.ServeMux
	gets           map[string]*route // the GET endpoints by path, which answer HEAD too
	notFound       *route            // the JSON 404 of a path that is no endpoint
	genText        atomic.Pointer[generationText]
	access         *logFile // nil without AccessLog
	onChange       *commandRunner
	onCommit       func(file string, generation uint64)
	metrics        *metrics
	verifier       *verifier // nil when verification is off
	admin          bool
	adminMenu      []byte
}

// provider is one configured translation table.
type provider struct {
	p       *translation.Provider
	e       *engine.Engine // evaluates p's table
	baseKey []string
	name    string // FormatBaseKey(baseKey), for messages and metrics
	file    *dbFile
	lists   listCache // the (key, uri) pairs for /v1/lists
}

// dbFile is one database file: the providers on it share its journal.
type dbFile struct {
	path       string
	provider   *provider // the first on the file
	journal    *logFile
	verified   verifyState
	backups    *backupper           // nil without backups
	follower   *perlmmapdb.Follower // nil unless the file follows a Perl file
	replicator Replicator           // nil without replication
}

// replication returns the state of f's replication, nil without one.
func (f *dbFile) replication() *ReplicationStatus {
	if f.replicator == nil {
		return nil
	}
	r := f.replicator.ReplicationStatus()
	return &r
}

// New returns a Server for the providers of opts and starts them: it
// maps the newest version of every file and creates the missing file of
// a writable provider. A read-only provider whose file does not exist
// yet is not an error: the server answers 503 for it until the file
// appears. New fails on invalid options, on a writable provider that
// cannot be started, and when the access log cannot be opened.
func New(opts Options) (*Server, error) {
	if len(opts.Providers) == 0 {
		return nil, errors.New("httpprovider: no providers")
	}
	if opts.MaxBodySize < 0 {
		return nil, fmt.Errorf("httpprovider: negative MaxBodySize %d", opts.MaxBodySize)
	}
	s := &Server{
		defKey:         opts.TranslationKey,
		trustedProxies: opts.TrustedProxies,
		maxBody:        opts.MaxBodySize,
		flush:          opts.Flush,
		log:            opts.Logger,
		admin:          opts.Admin,
		adminMenu:      opts.AdminMenu,
	}
	if s.maxBody == 0 {
		s.maxBody = DefaultMaxBodySize
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if opts.AdminToken != "" {
		s.token = []byte(opts.AdminToken)
		s.tokenHash = sha256.Sum256(s.token)
	}
	files := map[string]*dbFile{}
	for i, p := range opts.Providers {
		if p == nil {
			return nil, fmt.Errorf("httpprovider: provider %d is nil", i)
		}
		f := files[p.Path()]
		if f == nil {
			f = &dbFile{path: p.Path()}
			f.journal = newLogFile(p.Path()+".journal", s.flush, s.log)
			files[p.Path()] = f
			s.files = append(s.files, f)
		}
		bk := p.BaseKey()
		pr := &provider{p: p, e: engine.New(p, engine.Options{TranslationKey: opts.TranslationKey,
			DocumentRoot: opts.DocumentRoot, MaxCallDepth: opts.MaxCallDepth, MaxSteps: opts.MaxSteps,
			MaxRows: opts.MaxRows, DecisionCacheBytes: opts.DecisionCacheBytes}),
			baseKey: bk, name: translation.FormatBaseKey(bk), file: f}
		if f.provider == nil {
			f.provider = pr
		}
		s.providers = append(s.providers, pr)
	}
	if err := checkBackups(opts.Backups, files); err != nil {
		return nil, err
	}
	if err := checkImports(opts.ImportFrom, files, s.providers); err != nil {
		return nil, err
	}
	for _, r := range opts.Replicators {
		file := r.ReplicationStatus().File
		f := files[file]
		switch {
		case f == nil:
			return nil, fmt.Errorf("httpprovider: replication of %s: no provider serves that file", file)
		case f.replicator != nil:
			return nil, fmt.Errorf("httpprovider: replication of %s: the file has one already", file)
		}
		f.replicator = r
	}
	s.onCommit = opts.OnCommit
	if opts.AccessLog != "" {
		if fi, err := os.Stat(opts.AccessLog); err != nil {
			return nil, fmt.Errorf("httpprovider: access log: %w", err)
		} else if !fi.IsDir() {
			return nil, fmt.Errorf("httpprovider: access log %s is not a directory", opts.AccessLog)
		}
	}
	for _, pr := range s.providers {
		if err := pr.p.Start(); err != nil {
			if !pr.p.ReadOnly() {
				return nil, fmt.Errorf("httpprovider: start %s: %w", pr.p.Path(), err)
			}
			s.logStartError(pr, err)
		}
	}
	if opts.AccessLog != "" {
		name := filepath.Join(opts.AccessLog, "access_"+strconv.Itoa(os.Getpid())+".log")
		s.access = newLogFile(name, s.flush, s.log)
		if err := s.access.open(); err != nil {
			return nil, fmt.Errorf("httpprovider: access log: %w", err)
		}
	}
	if opts.OnChange != "" {
		s.onChange = newCommandRunner(opts.OnChange, s.log)
	}
	s.startBackups(opts)
	s.startImports(opts)
	s.metrics = newMetrics(s)
	s.routes()
	if opts.VerifyInterval >= 0 {
		interval := opts.VerifyInterval
		if interval == 0 {
			interval = DefaultVerifyInterval
		}
		s.verifier = startVerifier(s, interval)
	}
	return s, nil
}

// checkBackups checks the backups of opts: each of a file served, with
// a directory of its own among the files of one name.
func checkBackups(backups map[string]Backups, files map[string]*dbFile) error {
	names := map[[2]string]string{} // directory and file name -> file
	for _, path := range slices.Sorted(maps.Keys(backups)) {
		b := backups[path]
		if files[path] == nil {
			return fmt.Errorf("httpprovider: backups of %s: no provider serves that file", path)
		}
		if b.Dir == "" || b.Every < 0 {
			return fmt.Errorf("httpprovider: backups of %s: want a directory and an interval of 0 or more", path)
		}
		// Backups are known by their names, which name the file.
		key := [2]string{filepath.Clean(b.Dir), filepath.Base(path)}
		if first, ok := names[key]; ok {
			return fmt.Errorf("httpprovider: backups of %s and %s in %s: files of one name need backup directories of their own", first, path, b.Dir)
		}
		names[key] = path
	}
	return nil
}

// startBackups starts the backuppers of the files with backups and a
// writable provider.
func (s *Server) startBackups(opts Options) {
	c := opts.clock
	if c == nil {
		c = realClock{}
	}
	for _, f := range s.files {
		b, ok := opts.Backups[f.path]
		if !ok {
			continue
		}
		for _, pr := range s.providers {
			if pr.file == f && !pr.p.ReadOnly() {
				f.backups = newBackupper(f, b, s.log, c)
				break
			}
		}
	}
}

// logStartError reports a provider that could not be started; for a
// read-only provider still waiting for its file that is expected.
func (s *Server) logStartError(pr *provider, err error) {
	if errors.Is(err, fs.ErrNotExist) {
		s.log.Info("httpprovider: database file does not exist yet", "file", pr.p.Path(), "basekey", pr.name)
		return
	}
	s.log.Warn("httpprovider: cannot start provider", "file", pr.p.Path(), "basekey", pr.name, "err", err)
}

// Rotate closes the access log and the journals, letting go of files
// that were renamed away (by logrotate, say); each is opened again under
// its own name when its next line is written, as the log files of
// Kamailio's db_flatstore are. Lines buffered without Flush
// are written first. POST /v1/rotate calls it; a daemon calls it on
// SIGHUP. It returns the errors of writing and closing the files.
func (s *Server) Rotate() error {
	var errs []error
	for _, l := range s.logs() {
		errs = append(errs, l.rotate())
	}
	return errors.Join(errs...)
}

// logs returns the access log, if any, and the journals.
func (s *Server) logs() []*logFile {
	var logs []*logFile
	if s.access != nil {
		logs = append(logs, s.access)
	}
	for _, f := range s.files {
		logs = append(logs, f.journal)
	}
	return logs
}

// Recheck starts every provider again (see translation.Provider.Start):
// each maps the newest version of its file now instead of within its
// CheckInterval, and a read-only provider whose file has appeared starts
// serving it; a new version is verified without waiting for
// VerifyInterval, and the Perl files of ImportFrom are looked at now.
// Failures are logged. A daemon calls it on SIGHUP.
func (s *Server) Recheck() {
	for _, pr := range s.providers {
		if err := pr.p.Start(); err != nil {
			s.logStartError(pr, err)
		}
	}
	if s.verifier != nil {
		s.verifier.check()
	}
	for _, f := range s.files {
		if f.follower != nil {
			f.follower.Check()
		}
	}
}

// Close stops following the Perl files of ImportFrom, after an import in
// progress, flushes and closes the access log and the journals, waits for
// running OnChange commands and backups, takes the backups that
// Backups.Every holds back, and stops the verification; commits after
// Close run no command and start no backup. It does not stop the
// providers. Call it after the http.Server has shut down, when no
// request is served any more: lines of later requests are dropped.
func (s *Server) Close() error {
	for _, f := range s.files {
		if f.follower != nil {
			f.follower.Close()
		}
	}
	if s.verifier != nil {
		s.verifier.close()
	}
	var errs []error
	for _, l := range s.logs() {
		errs = append(errs, l.close())
	}
	if s.onChange != nil {
		s.onChange.close()
	}
	for _, f := range s.files {
		if f.backups != nil {
			f.backups.close()
		}
	}
	return errors.Join(errs...)
}

// A route is one endpoint: a handler that reports failure as an error,
// which the server turns into a JSON error response.
type route struct {
	s        *Server
	endpoint string // the path; the metrics label
	serve    func(x *exchange) error
	// byStatus are the metrics of the statuses the route has answered
	// with, looked up once each; replaced, never modified.
	byStatus atomic.Pointer[map[int]*routeMetrics]
	statusMu sync.Mutex // serializes the replacing

	// strict routes take only the query parameters in params; any other
	// is 400. The routes of 404 and 405 answers are not strict.
	strict bool
	params []string
}

// ServeHTTP serves a request of the route, as Server.ServeHTTP does
// after looking the route up.
func (rt *route) ServeHTTP(w http.ResponseWriter, r *http.Request) { rt.s.serve(rt, w, r) }

// routes registers the endpoints. Every path also gets a route that
// answers other methods with 405, and "/" answers everything else with
// 404, so that the mux itself never writes a plain-text error.
func (s *Server) routes() {
	s.mux = http.NewServeMux()
	allowed := map[string][]string{}
	var paths []string
	s.gets = map[string]*route{}
	handle := func(method, path string, serve func(*exchange) error, params ...string) {
		rt := &route{s: s, endpoint: path, serve: serve, strict: true, params: params}
		s.mux.Handle(method+" "+path, rt)
		if method == http.MethodGet {
			s.gets[path] = rt
		}
		if allowed[path] == nil {
			paths = append(paths, path)
		}
		allowed[path] = append(allowed[path], method)
		if method == http.MethodGet {
			allowed[path] = append(allowed[path], http.MethodHead)
		}
	}
	handle(http.MethodGet, "/v1/fetch", s.handleFetch, "basekey", "key", "uri", "notes")
	handle(http.MethodGet, "/v1/resolve", s.handleResolve, "basekey", "key", "uri")
	handle(http.MethodGet, "/v1/translate", s.handleTranslate, translateParams...)
	handle(http.MethodGet, "/v1/auth", s.handleAuth, authParams...)
	handle(http.MethodGet, "/v1/keys", s.handleKeys, "basekey")
	handle(http.MethodGet, "/v1/uris", s.handleURIs, "basekey", "key")
	handle(http.MethodGet, "/v1/dump", s.handleDump, "basekey", "format")
	handle(http.MethodGet, "/v1/snapshot", s.handleSnapshot, "basekey")
	handle(http.MethodGet, "/v1/stats", s.handleStats, "basekey")
	handle(http.MethodGet, "/v1/providers", s.handleProviders)
	handle(http.MethodGet, "/v1/lists", s.handleLists, "basekey", "key", "filter", "section", "after_key", "after_uri", "limit")
	handle(http.MethodGet, "/v1/check", s.handleCheck, "basekey", "key", "uri")
	handle(http.MethodGet, "/v1/journal", s.handleJournal, "basekey", "key", "uri", "limit")
	handle(http.MethodGet, "/healthz", s.handleHealthz)
	handle(http.MethodGet, "/readyz", s.handleReadyz)
	handle(http.MethodGet, "/metrics", s.handleMetrics)
	handle(http.MethodPost, "/v1/txn", s.handleTxn, "basekey")
	handle(http.MethodPost, "/v1/load", s.handleLoad, "basekey", "format", "clear", "empty", "generation")
	handle(http.MethodPost, "/v1/rotate", s.handleRotate)
	if s.admin {
		page := admin.Handler(s.adminMenu)
		handle(http.MethodGet, admin.Prefix, func(x *exchange) error {
			page.ServeHTTP(x, x.r)
			return nil
		})
	}
	for _, path := range paths {
		allow := strings.Join(allowed[path], ", ")
		s.mux.Handle(path, &route{s: s, endpoint: path, serve: func(x *exchange) error {
			x.Header().Set("Allow", allow)
			return errorf(http.StatusMethodNotAllowed, "method %s not allowed for %s (allowed: %s)", x.r.Method, path, allow)
		}})
	}
	s.notFound = &route{s: s, endpoint: "other", serve: func(x *exchange) error {
		return errorf(http.StatusNotFound, "no such endpoint: %s", x.r.URL.Path)
	}}
	s.mux.Handle("/", s.notFound)
}

// ServeHTTP serves one request of the API. Requests outside it get a
// JSON 404; every response carries HeaderGeneration, and every request
// is counted in the metrics and written to the access log.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// A GET or HEAD of an endpoint's own path is what the mux would
	// route to the endpoint; the map finds it sooner.
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		if rt := s.gets[r.URL.Path]; rt != nil {
			s.serve(rt, w, r)
			return
		}
	}
	h, _ := s.mux.Handler(r)
	rt, ok := h.(*route)
	if !ok {
		// The mux would redirect to a cleaned path (/v1//fetch to
		// /v1/fetch) with an HTML body: such a path is no endpoint, and
		// gets the JSON 404 of "/". Only the admin page's own path
		// without its slash is redirected, for a browser.
		rt = s.notFound
		if s.admin && r.URL.Path+"/" == admin.Prefix {
			rt = &route{s: s, endpoint: "other", serve: func(x *exchange) error {
				h.ServeHTTP(x, x.r)
				return nil
			}}
		}
	}
	s.serve(rt, w, r)
}

// serve runs a route's handler with the body limit, the error response,
// the metrics and the access log around it.
func (s *Server) serve(rt *route, w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	x := exchanges.Get().(*exchange)
	x.s, x.w, x.r = s, w, r
	defer x.recycle()
	if r.Body != nil && r.Body != http.NoBody {
		r.Body = bodyReader{http.MaxBytesReader(w, r.Body, s.maxBody)}
	}
	var err error
	if r.ContentLength > s.maxBody {
		err = tooLarge(s.maxBody)
	} else if err = x.checkParams(rt); err == nil {
		// A database file written over in place faults the reads of its
		// mapping: the request fails, the server goes on, and the file
		// is mapped again (mmapdb notices the change).
		err = fault.Call(func() error { return rt.serve(x) })
	}
	if err != nil {
		x.fail(err)
	}
	s.finish(x, rt, time.Since(start))
	if x.aborted {
		// The response was under way: end the connection so that the
		// client sees it incomplete.
		panic(http.ErrAbortHandler)
	}
}

// finish counts a served request of rt and writes its access log line.
func (s *Server) finish(x *exchange, rt *route, d time.Duration) {
	status := x.status
	if !x.wrote {
		status = http.StatusOK
	}
	s.metrics.observe(rt, status, d)
	if s.access != nil {
		s.access.writeAccess(time.Now(), x, status, d)
	}
}

// noBaseKey returns the base key keys names, as a request gives it: one
// empty key, as in basekey=, is no base key.
func noBaseKey(keys []string) []string {
	if len(keys) == 1 && keys[0] == "" {
		return nil
	}
	return keys
}

// selectProvider returns the provider whose base key is keys, exactly;
// no keys select the first provider, and one empty key selects the
// provider without base key.
func (s *Server) selectProvider(keys []string, given bool) (*provider, error) {
	if !given {
		return s.providers[0], nil
	}
	keys = noBaseKey(keys)
	for _, pr := range s.providers {
		if slices.Equal(pr.baseKey, keys) {
			return pr, nil
		}
	}
	return nil, errorf(http.StatusNotFound, "unknown basekey %s", translation.FormatBaseKey(keys))
}

// generation returns the current generation of pr's file, or of the
// first provider's when pr is nil; 0 when there is no database.
func (s *Server) generation(pr *provider) uint64 {
	if pr == nil {
		pr = s.providers[0]
	}
	var g uint64
	// Also when a request failed because the file was written over in
	// place: its header may fault as well (see serve).
	err := fault.Call(func() (err error) {
		g, err = pr.p.Generation()
		return err
	})
	if err != nil {
		return 0
	}
	return g
}
