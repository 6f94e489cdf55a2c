// Package conf reads the Apache-style configuration of transdbd.
//
// The format is the one Apache2::Translation reads from httpd.conf: one
// directive per line, a name followed by its value, and a
// <TranslationProvider MMapDB> container per translation provider:
//
//	Listen          127.0.0.1:8080
//	TranslationKey  front
//	AdminToken      ${TRANSDB_ADMIN_TOKEN}
//	MaxBodySize     67108864
//	CheckInterval   1s
//	<TranslationProvider MMapDB>
//	    FileName    trans.mmdb
//	    Root        /var/lib/transdb
//	    ReadOnly    0
//	    BaseKey     [qw/trans db/]
//	</TranslationProvider>
//
// # Lines and values
//
// A line whose first non-blank character is # is a comment; blank lines
// are ignored. A backslash at the end of a line continues it on the next
// line: the pieces are trimmed and joined with a single space, as Apache
// does, so a comment ending in a backslash swallows the next line too.
//
// Directive, parameter and container names, and the provider class
// MMapDB (or Apache2::Translation::MMapDB), are case-insensitive. A value
// is the rest of the line, trimmed. A value wrapped in matching single or
// double quotes is unwrapped; a quoted value cannot contain its own quote
// character, use the other kind instead. In unquoted and double-quoted
// values ${NAME} is replaced by the environment variable NAME (empty when
// unset); NAME is a letter or underscore followed by letters, digits or
// underscores, and anything else (such as $NAME or ${NAME:-x}) stays as
// written. Single-quoted values are taken literally.
//
// # Directives
//
// Listen (default 127.0.0.1:8080), TranslationKey, DocumentRoot,
// TrustedProxies (addresses and CIDR prefixes), MaxCallDepth, MaxSteps and MaxRows (limits of a translation),
// DecisionCacheSize (bytes of decisions kept per provider, 0 for none), AdminToken,
// Admin (boolean, default off: the admin page at /admin/), AdminMenu FILE
// (the admin page's pop-up menu, an HTML fragment),
// MaxBodySize (bytes, default 64 MiB), CheckInterval (a Go duration, at
// most 10s, default 1s), ShutdownTimeout (a Go duration, default 30s),
// AccessLog DIR, Flush (boolean, default on) and OnChange CMD may each
// appear at most once. AccessLog must name an existing directory,
// AdminMenu a file that can be read; a relative AdminMenu is taken from
// the directory of the configuration file.
// Booleans are 0/1, on/off, true/false or yes/no. OnChange takes the rest
// of the line as a shell command; quotes inside it are left for the
// shell, only quotes wrapping the whole command are removed.
//
// # Providers
//
// A <TranslationProvider MMapDB> container takes the parameters FileName,
// Root, ReadOnly, BaseKey, NoLock, BackupDir, BackupEvery, BackupKeep,
// ImportFrom and those of replication (below), each at most once. The
// one-line form
//
//	TranslationProvider MMapDB filename=trans.mmdb basekey="[qw/trans db/]" readonly=1
//
// is equivalent; its values may be quoted and must be quoted when they
// contain white space. Several providers are kept in the order they are
// declared, and at least one is required. As in Apache2::Translation, a
// provider without FileName shares the file of the provider declared just
// before it: it inherits both FileName and Root, so it may not set Root
// itself, and NoLock unless it sets it. The providers of one file must
// agree on NoLock: their commits would not exclude each other. BaseKey is kept as written and parsed by
// translation.ParseBaseKey into Keys; a BaseKey that starts with a bracket
// but is not a valid list is an error. Without BaseKey the table is at
// the top of the file. Two providers serving the same table, the same
// file (compared as opened: FileName joined to Root, made absolute) under
// the same base key, are an error: requests select providers by base
// key, so the second could never be reached.
//
// BackupDir DIR turns on automatic backups of the provider's file: DIR,
// joined to Root when relative, must be an existing, writable directory.
// BackupEvery DURATION (a Go duration or a number of days, 7d) is the
// shortest time between two backups, and BackupKeep KEEPALL KEEPMIN
// DELETEAFTER (such as 24h 3 21d) their layered retention; both need
// BackupDir. Backups belong to a file: a provider that sets none shares
// those of another provider of its file, and two providers of one file
// that set different ones are an error.
//
// ImportFrom PERLFILE makes the provider's file follow a file of the Perl
// module MMapDB (PERLFILE, joined to Root when relative), as
// Apache2::Translation::MMapDB writes them: transdbd imports it and
// imports it again whenever the Perl module commits, each import
// replacing the file's content. Like backups it belongs to the file: the
// providers of the file share it, and all of them are read-only, since
// the next import would undo a write; ReadOnly 0 on one of them is an
// error, and so is a second ImportFrom of the file naming another file.
//
// # Replication
//
// Publish URL BUCKET on a writable provider (or one that follows
// ImportFrom) puts every version of its file into a NATS JetStream
// object store bucket; Follow URL BUCKET on a read-only provider makes
// it a replica that downloads them. URL is nats://HOST:PORT or
// tls://HOST:PORT, optionally with user:password@ or token@, or several
// such URLs separated by commas (the servers of one cluster); BUCKET is
// letters, digits, - and _. NATSCredentials FILE (a credentials file)
// and NATSRootCAs FILE (PEM authorities for tls://) go with them. A file
// has one replication, shared by the providers on it, and a followed
// file may have no writable provider and no ImportFrom.
//
// Errors are reported as *ParseError values naming the file and line.
package conf
