// Package httpprovider serves the HTTP API of transdbd: lookups in
// translation tables for reverse proxies, and their administration.
//
// New takes the translation providers of a configuration and returns a
// Server, an http.Handler to mount at the root of an http.Server:
//
//	srv, err := httpprovider.New(httpprovider.Options{
//		Providers:  []*translation.Provider{p},
//		AdminToken: token,
//		Flush:      true,
//	})
//	...
//	http.ListenAndServe(addr, srv)
//
// A daemon calls Rotate and Recheck on SIGHUP, and Close after the
// http.Server has shut down. With Options.Admin the server also serves
// the admin page of package admin at /admin/, an editor of the tables
// in the browser that works through the endpoints below.
//
// # Reading
//
// GET /v1/fetch?key=K&uri=U[&notes=1] returns the block list of K and U
// (see WriteFetch), GET /v1/resolve?key=K&uri=U the lookups of one
// request (see WriteResolution), GET /v1/keys {"keys":[...]}, GET
// /v1/uris[?key=K] {"pairs":[["key","uri"],...]}, GET
// /v1/dump[?format=text|file|jsonl] the table in a text format of package
// translation, streamed, GET /v1/snapshot the database file itself, with
// an ETag ("GENERATION-CHECKSUM") that If-None-Match turns into 304 Not
// Modified, and GET /v1/stats the numbers of WriteStats. For editors of
// the tables, such as the admin page: GET /v1/providers lists the tables
// served and whether writes are enabled, GET /v1/lists the (key, uri)
// pairs of a table a page at a time (by key, key regular expression and
// section, from a pair on), GET /v1/check the rows the engine cannot
// evaluate (of the table, a key or a list) and GET /v1/journal the
// recent journal lines (of the table, a key or a list), newest first,
// read from the end of the journal. GET /healthz is
// 200 while the process serves; GET /readyz is 200 when every provider
// has a database mapped and 503 otherwise, for instance while the file
// of a read-only provider does not exist yet (its lookups are 503 then
// too), or while the version served has failed its verification (see
// below); its body says how the verification of each file stands. GET
// /metrics has the Prometheus metrics: requests and their latency by
// endpoint and status, and per database file and provider the
// generation, size, records, lookups, commits, reloads, the results
// of the verification, the automatic backups and the imports of a file
// that follows a Perl MMapDB file (Options.ImportFrom, which also keeps
// /readyz at 503 until the first import).
//
// Each lookup works on one version of the database from start to end,
// and the header X-Transdb-Generation (HeaderGeneration), which every
// response carries, is that version's generation, equal to the body's
// "generation". Without TranslationKey, the key parameter is required.
// Keys and uris must be valid UTF-8 without NUL bytes and white space;
// a parameter given twice, and one the endpoint does not take (note=1
// for notes=1), is 400.
//
// A request selects a provider with the basekey parameter, repeated per
// level (basekey=trans&basekey=db), matched exactly against the
// providers' base keys; without it the first provider serves. A single
// empty basekey= selects a provider without base key.
//
// # Translating
//
// GET /v1/translate?uri=U[&host=H&...] answers the engine's decision for
// the request its parameters describe, as JSON (see WriteDecision).
//
// GET /v1/auth[?key=K&basekey=...&deny=401|403] is the same evaluation
// for the proxies that send a subrequest per client request (nginx
// auth_request, Caddy forward_auth, Traefik forwardAuth, Envoy
// ext_authz, HAProxy with Lua). It reads the original request from the
// subrequest's headers: the request target from X-Original-URI, else
// X-Forwarded-Uri (the raw target with its query string: the path is
// percent-decoded and its "." and ".." segments resolved, a path above
// the root is a 400), the method from X-Original-Method, else
// X-Forwarded-Method, else the subrequest's own (the X-Original-* and
// X-Forwarded-* headers of a pair, or two of one, that disagree make
// the request ambiguous: a 400 decision); the host from
// X-Forwarded-Host, else Host; the scheme from X-Forwarded-Proto and the
// port from X-Forwarded-Port; the client's address from the peer, or,
// when the peer is one of Options.TrustedProxies, from X-Real-IP, else
// the last address in X-Forwarded-For that is not a trusted proxy's. The
// subrequest's headers are the request's headers for the table
// ($HEADERS). A missing X-Original-URI is a 400 error as JSON.
//
// A decision to proceed is 200 with an empty body and the decision in
// headers: X-Transdb-Proxy, X-Transdb-File, X-Transdb-Uri,
// X-Transdb-Path-Info and X-Transdb-Handler when they have a value,
// X-Transdb-Generation, and X-Transdb-Note-NAME (one header per value)
// and X-Transdb-Ctx-NAME for the notes and %CTX. X-Transdb-Proxy and
// Location are URLs, with the bytes no URL holds as they are
// percent-encoded; X-Transdb-File is the path's UTF-8 bytes. Any other
// value that is not printable ASCII, or has white space at either end,
// is sent as an RFC 8187 ext-value, the prefix below and its
// percent-encoded bytes:
//
//	UTF-8''J%C3%BCrgen
//
// A name has the characters that cannot be in a header name
// percent-encoded, and its capitals too when it differs from another
// name in case only. A redirect is its 3xx with Location, an error its
// status with the message as a text/plain body; an error of a 2xx,
// which a proxy would take for leave to proceed, is a 500. With
// deny=401 or deny=403 (for nginx, whose auth_request passes on nothing
// but 2xx, 401 and 403) every answer other than 200 is sent with that
// status instead, carrying the real one in X-Transdb-Status, and
// Location and the message in X-Transdb-Location and X-Transdb-Message.
//
// # Writing
//
// Writes (txn, load and rotate) need the header "Authorization: Bearer
// <AdminToken>". Without an AdminToken they are disabled (403), as txn
// and load are on read-only providers.
//
// POST /v1/txn applies a list of operations in one transaction, all or
// nothing:
//
//	{"basekey": ["trans", "db"], "generation": 7, "ops": [
//		{"op": "insert", "key": "front", "uri": "/", "block": 0, "order": 0, "action": "...", "note": "..."},
//		{"op": "update", "old": {"key": "front", "uri": "/", "block": 0, "order": 0, "id": 9}, "new": {... as insert ...}},
//		{"op": "delete", "old": {"key": "front", "uri": "/", "block": 0, "order": 0, "id": 9}},
//		{"op": "clear"}
//	]}
//
// The body is decoded strictly: unknown, repeated, missing, null and
// mistyped fields, block or order outside 0..4294967295, an id that is
// not a positive integer, white space in a key or uri and unknown ops
// are 400, naming the field (ops[2].old.block). An old record (whose
// action and note may be given but are not compared) that does not
// match the stored one is 409. More than 100,000 ops are 413. Nothing
// is committed then. The answer
// is {"generation": G, "results": [...]}, one result per op:
// {"id": N} with the new record's id for insert and update, {"deleted":
// N} with the number of records deleted for delete (1) and clear. An
// optional "generation": G in the body makes the txn optimistic: it is
// refused with 409 when the database is no longer at generation G (a
// commit came in between since the client read it), and the 409's
// X-Transdb-Generation is the current generation.
//
// POST /v1/load?format=text|file|jsonl[&clear=1][&generation=G] inserts
// the table in the body in one transaction, after deleting the table
// first with clear=1. With generation=G it is refused with 409 when the
// database is no longer at generation G (it was dumped from G and edited
// offline meanwhile). A malformed table is 400 naming the line. The
// answer is {"generation": G, "records": N}.
//
// POST /v1/rotate is Rotate. It is a write like the others: 403 without
// an AdminToken, 401 without the token. SIGHUP rotates without one.
//
// Transactions of one database file are serialised in the process: a
// request waits for the one before it. A request body is read and
// checked before its transaction begins.
//
// # Verification
//
// Opening a version of a database file reads its header only, whatever
// its size, so a byte flipped in the body would be served without
// notice. The server therefore verifies every version it maps, as
// transdbd verify does (the body checksum and the whole structure), in
// a goroutine of its own: within Options.VerifyInterval of the mapping,
// one version at a time, and paced, a pause three times as long as each
// step (a MiB of the checksum, 65536 records of the walk), so that it
// takes a quarter of one core and of the disk's time at the most. Lookups
// and commits never wait for it; a version superseded before its turn is
// skipped. A version that fails is logged at level ERROR and counted in
// transdb_verify_failures_total; while it is served,
// transdb_verify_failed is 1 and /readyz is 503, so that a balancer
// turns to a replica with a sound copy, though the server goes on
// answering. transdb_verified_generation is the generation of the last
// version that verified.
//
// # Backups
//
// With Options.Backups, the server backs up a database file after its
// own commits, in the background: it copies the newest version, pinned,
// to a temporary file in the backup directory, fsyncs and verifies it
// and renames it to the database's name followed by the UTC time
// (trans.mmdb.20261121T080000.000000000Z, mmapdb.WriteBackup). Neither
// the commit's answer nor any other request waits for it. Backups never
// overlap: commits made while one is written are followed by one backup
// of the newest version, and with Backups.Every at most one backup
// starts per interval, the commits of an interval being backed up
// together at its end. A failure is logged at level ERROR and counted
// in transdb_backup_failures_total, and fails no commit; the next commit
// tries again. After each backup and when the server starts, the
// backups are pruned by the layered policy of Backups.Policy; only files
// named as backups of the file are deleted, and temporary files of
// backups whose writers died. /metrics has transdb_backups_total,
// transdb_backup_failures_total and transdb_backup_age_seconds, the age
// of the newest backup (absent while there is none).
//
// # Replication
//
// The server replicates nothing itself, but shows the replication of its
// files that Options.Replicators report (transdbd's publishers and
// followers, package replica): "replication" in /v1/stats and in the
// file's entry of /readyz, and the transdb_replication_* metrics, per
// file with its role and bucket: whether NATS is connected, the
// generation published or followed, the newest of the other side, the
// lag in generations and seconds, the last sync, and the transfers,
// bytes, failures and refused objects. Options.OnCommit tells a
// publisher of each commit.
//
// # Errors
//
// Every error is a JSON object {"error": "..."}: 400 for a malformed
// request, 401 for a missing or wrong token, 403 when writes are
// disabled or the provider is read-only, 404 for an unknown path or
// basekey, 405 for a wrong method (with Allow), 408 for a body that did
// not arrive within the server's read timeout, 409 for a conflict, 413
// for a body beyond MaxBodySize, and 503 while there is no database. A
// request, however malformed or incomplete, never causes a 5xx.
//
// # Logs
//
// With Options.AccessLog, each request is written as a line
//
//	time|remote|method|path|key|uri|status|blocks|microseconds
//
// to access_<pid>.log in that directory, one file per process as
// Kamailio's db_flatstore keeps them. Every commit is journaled in
// <database file>.journal, a line per change:
//
//	time|generation|op|id|key|uri|block|order|action
//
// with op insert, delete or clear; an update is a delete followed by an
// insert, a delete line has no action, notes are not journaled, and the
// lines do not name the base key. Time is UTC with microseconds, in the
// layout 2006-01-02T15:04:05.000000Z. In every field a backslash, "|",
// newline and carriage return are escaped as \\, \|, \n and \r. With
// Options.Flush each line is written to its file at once, otherwise
// when a buffer is full, on Rotate and on Close. Rotate closes the
// files; the next line opens a file under the original name again, so
// logrotate renames a file away and then has the server rotate.
//
// After every commit, Options.OnChange runs in the background as
// "sh -c" with TRANSDB_GENERATION and TRANSDB_FILE in its environment.
// Its runs never overlap; commits made while it runs are followed by one
// run for the newest of them.
package httpprovider
