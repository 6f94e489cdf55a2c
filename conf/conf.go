package conf

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"time"
)

// Defaults and limits of the top-level directives.
const (
	// DefaultListen is the address served when Listen is not set.
	DefaultListen = "127.0.0.1:8080"
	// MaxCheckInterval is the largest CheckInterval accepted; a longer
	// one would leave readers on a superseded version for too long.
	MaxCheckInterval = 10 * time.Second
	// DefaultShutdownTimeout bounds the drain on SIGTERM when
	// ShutdownTimeout is not set: well under the 90 s that systemd
	// waits before it kills a service.
	DefaultShutdownTimeout = 30 * time.Second
)

// Config is a parsed configuration. Fields that the file does not set
// hold their defaults.
type Config struct {
	// Listen is the TCP address transdbd serves, host:port. A bare port
	// in the file, as Apache allows, is stored as ":port" (all
	// interfaces). Default DefaultListen.
	Listen string

	// TranslationKey is the key used when a request names none. Empty
	// (unset, or set to an empty value such as an unset ${VAR}: no key is
	// empty) means none: a lookup without a key is then a client error,
	// and a translation starts with the key "default", as upstream.
	TranslationKey string

	// DocumentRoot is the directory a translation's $DOCROOT and
	// $r->document_root name; empty means none.
	DocumentRoot string

	// TrustedProxies are the peers whose forwarding headers (X-Real-IP,
	// X-Forwarded-For) GET /v1/auth believes for the client's address:
	// the proxies in front of transdbd. A single address is stored as a
	// prefix of its full length. Empty (the default) means none: the
	// client's address is the peer's own.
	TrustedProxies []netip.Prefix

	// MaxCallDepth, MaxSteps and MaxRows bound one translation: nested
	// Calls, state transitions, block-list fetches (MaxSteps each) and the
	// rows of the lists walked. Past them the decision is a 500. Zero (not set)
	// means the engine's defaults, engine.DefaultMaxCallDepth,
	// engine.DefaultMaxSteps and engine.DefaultMaxRows.
	MaxCallDepth, MaxSteps, MaxRows int

	// DecisionCacheSize bounds the memory of the decisions a provider's
	// engine keeps for requests seen again (see
	// engine.Options.DecisionCacheBytes), in bytes. Zero (not set) means
	// engine.DefaultDecisionCacheBytes; the directive's value 0, stored
	// as -1, turns the cache off.
	DecisionCacheSize int64

	// AdminToken is the bearer token required for writes. Empty (unset,
	// or set to an empty value such as an unset ${VAR}) disables writes.
	AdminToken string

	// Admin serves the admin page, a browser editor of the tables, at
	// /admin/. Default false. The page writes with AdminToken; without
	// one it only browses.
	Admin bool

	// AdminMenu is the file of the admin page's pop-up menu, an HTML
	// fragment; empty means no menu. A relative AdminMenu in the file is
	// joined to the configuration file's directory; the file could be
	// read when the configuration was. transdbd reads it once, when it
	// starts. It has no effect without Admin.
	AdminMenu string

	// MaxBodySize limits every request body, in bytes. Zero (not set)
	// means the server's default, httpprovider.DefaultMaxBodySize.
	MaxBodySize int64

	// CheckInterval is how often a reader compares the database file's
	// identity to notice a new version; at most MaxCheckInterval. Zero
	// (not set) means the database's default, mmapdb.DefaultCheckInterval.
	CheckInterval time.Duration

	// AccessLog is the directory for per-process access logs; empty
	// means no access log.
	AccessLog string

	// Flush makes the access log and journal flush after every line.
	// Default true; turn it off only when losing the last lines on a
	// crash is acceptable.
	Flush bool

	// ShutdownTimeout bounds how long transdbd lets the requests in
	// flight finish after SIGTERM before it closes their connections;
	// always positive. Default DefaultShutdownTimeout. Keep it below the
	// time the service manager waits before it kills the process.
	ShutdownTimeout time.Duration

	// OnChange is a shell command run after each commit; empty means
	// none. It is stored as written (after unquoting and ${VAR}
	// expansion), for "sh -c".
	OnChange string

	// Providers are the translation providers in the order they were
	// declared. After a successful parse there is at least one, and each
	// has a non-empty FileName.
	Providers []Provider
}

// Provider holds the parameters of one <TranslationProvider MMapDB>
// container or one-line TranslationProvider directive.
type Provider struct {
	// FileName is the database file as written, relative or absolute;
	// use Path for the file to open. A provider declared without
	// FileName has the FileName (and Root) of the provider before it:
	// both share one file under different base keys.
	FileName string
	// Root, when set, is the directory a relative FileName is in.
	Root string
	// BaseKey is the base key exactly as written (unquoted and trimmed);
	// empty means no base key, the top of the file.
	BaseKey string
	// Keys is BaseKey as translation.ParseBaseKey reads it: the keys
	// the table lives under, nil for the top of the file. A BaseKey that
	// does not parse is an error of the configuration.
	Keys []string
	// ReadOnly refuses writes through this provider.
	ReadOnly bool
	// NoLock disables the <file>.lock lock file. Use it only when no
	// two writers can ever run at the same time.
	NoLock bool
	// Backups configures the automatic backups of the database file; nil
	// means none. Backups belong to the file, not to the table: the
	// providers of one file all have the same, set in one of them (a
	// provider that sets none shares those of another on its file).
	Backups *Backups
	// ImportFrom is a file of the Perl module MMapDB, as
	// Apache2::Translation::MMapDB writes them, that the database file
	// follows: the daemon imports it, and imports it again whenever the
	// Perl module commits a new version, replacing the database file's
	// content. A relative ImportFrom is joined to Root; empty means none.
	// Like Backups it belongs to the file: its providers all have it,
	// set in one of them, and are all read-only, since the next import
	// would undo a write.
	ImportFrom string
	// Publish, on a writable provider, is the NATS JetStream object
	// store that the file's versions are put into, for replicas that
	// Follow it; nil means none. Providers sharing a file share its
	// replication.
	Publish *Replication
	// Follow, on a read-only provider, is the NATS JetStream object
	// store whose versions of the file are downloaded and put in place:
	// the provider is a replica. nil means none. No provider may write a
	// followed file, nor may it follow ImportFrom.
	Follow *Replication
	// natsCredentials and natsRootCAs hold NATSCredentials and
	// NATSRootCAs until the provider is complete: they go to its
	// Publish or Follow.
	natsCredentials, natsRootCAs string
	// Line is the line the provider was declared on: its container's
	// opening tag or its one-line directive.
	Line int
}

// Backups are the automatic backups of a database file: the parameters
// BackupDir, BackupEvery and BackupKeep of its provider.
type Backups struct {
	// Dir is the directory the backups are written to: BackupDir, joined
	// to the provider's Root when relative, and cleaned. It was an
	// existing, writable directory when the configuration was read.
	Dir string
	// Every is the shortest time between two backups (BackupEvery); zero
	// (not set) means a backup after every commit.
	Every time.Duration
	// KeepAll, KeepMin and DeleteAfter are BackupKeep, the layered
	// retention: every backup younger than KeepAll is kept, of the older
	// ones the KeepMin newest, and of the rest those not older than
	// DeleteAfter. Each is positive when set; zero (not set) means the
	// defaults of mmapdb.BackupPolicy: 24 hours, 3 and 21 days.
	KeepAll     time.Duration
	KeepMin     int
	DeleteAfter time.Duration
	// Line is the line of the BackupDir parameter.
	Line int
}

// Replication names the NATS JetStream object store bucket that a
// database file is published to or followed from.
type Replication struct {
	// URL is the NATS server, or several separated by commas:
	// nats://HOST:PORT, tls://HOST:PORT for TLS, either with user:pass@
	// or token@ for authentication. It may hold a secret: log it with
	// redact.URL.
	URL string
	// Bucket is the object store: letters, digits, - and _.
	Bucket string
	// Credentials is a NATS credentials file (NATSCredentials), for
	// servers that authenticate with JWT and NKey; empty means none.
	Credentials string
	// RootCAs is a PEM file of the authorities that sign the servers'
	// TLS certificates (NATSRootCAs); empty means the system's.
	RootCAs string
	// Line is the line of the Publish or Follow parameter.
	Line int
}

// same reports whether b and o configure the same backups, of
// directories compared as opened.
func (b *Backups) same(o *Backups) bool {
	return absPath(b.Dir) == absPath(o.Dir) && b.Every == o.Every &&
		b.KeepAll == o.KeepAll && b.KeepMin == o.KeepMin && b.DeleteAfter == o.DeleteAfter
}

// Path returns the database file to open: FileName joined to Root when
// Root is set and FileName is relative, FileName otherwise.
func (p Provider) Path() string {
	if p.Root == "" || filepath.IsAbs(p.FileName) {
		return p.FileName
	}
	return filepath.Join(p.Root, p.FileName)
}

// absPath returns Path made absolute, as the provider opens it: a
// relative one is taken from the working directory.
func (p Provider) absPath() string { return absPath(p.Path()) }

// absPath returns path made absolute from the working directory, and
// cleaned.
func absPath(path string) string {
	abs, err := filepath.Abs(path)
	if err != nil {
		return filepath.Clean(path)
	}
	return abs
}

// Load reads and parses the configuration file at path, expanding ${VAR}
// from the process environment. Parse errors name path and the line.
func Load(path string) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("conf: %w", err)
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.IsDir() {
		return nil, fmt.Errorf("conf: %s is a directory, not a configuration file", path)
	}
	return Parse(f, path, os.LookupEnv)
}
