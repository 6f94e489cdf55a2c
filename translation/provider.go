package translation

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"transdb/mmapdb"
)

// Options configure a Provider. They are the parameters of a
// <TranslationProvider MMapDB> container.
type Options struct {
	// FileName is the database file. A relative name is joined to Root
	// when Root is set, else to the working directory. <FileName>.lock
	// beside it serialises the writers of all processes. Required.
	FileName string

	// Root is the directory a relative FileName is taken from.
	Root string

	// ReadOnly makes Begin, and so every write, fail with ErrReadOnly. A
	// read-only provider never creates the database file: until the file
	// appears, reads fail with an error wrapping fs.ErrNotExist.
	ReadOnly bool

	// BaseKey is the list of keys under which the table lives in the
	// file: its actions are stored under BASEKEY..., "actn", KEY, URI and
	// its notes under BASEKEY..., "note", KEY, URI. Several providers can
	// share one file under different base keys. Empty means the table is
	// at the top of the file. ParseBaseKey turns the configuration forms
	// ([qw/trans db/], ["trans","db"], a single word) into this list.
	// Lookups allocate nothing for base keys of up to 13 levels.
	BaseKey []string

	// NoLock skips the lock file. Only safe when a single writer process
	// is guaranteed by other means; see mmapdb.Options.NoLock. Providers
	// that differ in NoLock do not share a mapping of the file, nor a
	// writer: commits through the two would not exclude each other, so
	// only one of them may write.
	NoLock bool

	// CheckInterval is how often the identity of the file is compared
	// with the mapped version, so that a file replaced by other tools
	// (mv, rsync) is noticed; commits of other processes are noticed at
	// once without it. Zero means mmapdb.DefaultCheckInterval, negative
	// disables the check. It takes effect when the file is first opened
	// in the process: providers sharing the file share the setting of the
	// one that opened it.
	CheckInterval time.Duration
}

// Provider gives access to one translation table: the block lists of
// Apache2::Translation stored under a base key in an mmapdb file. It
// mirrors the Perl provider interface: New, Start, Stop, Fetch, the
// listing functions and, for writable providers, transactions.
//
// All providers of a process that use the same file share one open
// database and so one mapping of the file (unless they differ in
// NoLock), whatever their base keys and whether they are read-only.
//
// Reads always see the newest committed version: a commit of this or of
// another provider or process is visible to the next read, without
// Start. Each read method works on one snapshot of its own; take a
// Snapshot to make several reads agree.
//
// A Provider is safe for concurrent use. Writes go through a Txn that
// the caller owns (Begin) or through Update, which runs a function in
// one; the database file allows one transaction at a time per process,
// so Begin fails with ErrTxnActive while another is open on the same
// file, and Update waits for it.
type Provider struct {
	path          string
	baseKey       []string
	actions       *mmapdb.Prefix // BASEKEY..., "actn": resolved once per version
	notes         *mmapdb.Prefix // BASEKEY..., "note"
	readOnly      bool
	noLock        bool
	checkInterval time.Duration

	shared atomic.Pointer[sharedDB] // nil after Stop
	reads  atomic.Uint64
	count  atomic.Pointer[recordCount] // cache of Records

	// The counters of this provider's committed transactions.
	commits, creates, deletes atomic.Uint64

	mu sync.Mutex // serialises Start and Stop
}

// New returns a provider for the table described by opts and opens its
// database file, sharing it with the providers of the process that use
// the same file. A missing file is not an error: a writable provider
// creates it on Start or Begin, a read-only one waits for it.
func New(opts Options) (*Provider, error) {
	if opts.FileName == "" {
		return nil, errors.New("translation: Options.FileName is empty")
	}
	name := opts.FileName
	if opts.Root != "" && !filepath.IsAbs(name) {
		name = filepath.Join(opts.Root, name)
	}
	path, err := filepath.Abs(name)
	if err != nil {
		return nil, fmt.Errorf("translation: %s: %w", name, err)
	}
	if err := checkBaseKey(opts.BaseKey); err != nil {
		return nil, err
	}
	p := &Provider{
		path:          path,
		baseKey:       slices.Clone(opts.BaseKey),
		readOnly:      opts.ReadOnly,
		noLock:        opts.NoLock,
		checkInterval: opts.CheckInterval,
	}
	p.actions = mmapdb.NewPrefix(keyPath(nil, p.baseKey, branchActions)...)
	p.notes = mmapdb.NewPrefix(keyPath(nil, p.baseKey, branchNotes)...)
	s, err := acquireDB(p.dbKey(), p.checkInterval)
	if err != nil {
		return nil, err
	}
	p.shared.Store(s)
	return p, nil
}

func (p *Provider) dbKey() dbKey { return dbKey{path: p.path, noLock: p.noLock} }

// Path returns the absolute path of the database file.
func (p *Provider) Path() string { return p.path }

// BaseKey returns a copy of the provider's base key.
func (p *Provider) BaseKey() []string { return slices.Clone(p.baseKey) }

// ReadOnly reports whether the provider refuses writes.
func (p *Provider) ReadOnly() bool { return p.readOnly }

// Start maps the newest version of the file now. Reads move to new
// versions on their own, so a long-lived provider needs Start only to
// pick up at once a file replaced by other tools, which is otherwise
// noticed within CheckInterval. A provider that was stopped is opened
// again. A writable provider creates a missing database file (empty,
// generation 0); on a read-only one Start fails with an error wrapping
// fs.ErrNotExist until the file exists. While a transaction is open on
// the file in this process, Start does nothing: no other writer can
// commit meanwhile.
func (p *Provider) Start() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.shared.Load()
	if s == nil {
		var err error
		if s, err = acquireDB(p.dbKey(), p.checkInterval); err != nil {
			return err
		}
		p.shared.Store(s)
	}
	err := s.db.Reload()
	switch {
	case errors.Is(err, mmapdb.ErrTxnActive):
		// A transaction of this process holds the lock: no other
		// writer can have committed since.
		return nil
	case errors.Is(err, fs.ErrNotExist) && !p.readOnly:
		// Create the database as Begin does; the rollback keeps it.
		txn, err := s.db.Begin()
		if err != nil {
			return fmt.Errorf("translation: start: %w", err) // err names the file
		}
		return txn.Rollback()
	case err != nil:
		return fmt.Errorf("translation: start: %w", err) // err names the file
	}
	return nil
}

// Stop lets go of the database file; the last provider of the process
// using the file closes it, after waiting for a transaction still open
// on it to end. Snapshots still held stay valid until released. Reads
// and Begin on a stopped provider fail with ErrStopped until Start opens
// the file again. Stopping a stopped provider does nothing.
func (p *Provider) Stop() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if s := p.shared.Swap(nil); s != nil {
		return s.release()
	}
	return nil
}

// db returns the provider's database, or ErrStopped.
func (p *Provider) db() (*mmapdb.DB, error) {
	s := p.shared.Load()
	if s == nil {
		return nil, fmt.Errorf("translation: %s: %w", p.path, ErrStopped)
	}
	return s.db, nil
}

// Snapshot pins the newest version of the table and returns a handle to
// it; release it with Snapshot.Release. It costs one small allocation and
// no system call unless a new version has to be mapped. On a read-only
// provider whose file does not exist yet it fails with an error wrapping
// fs.ErrNotExist.
func (p *Provider) Snapshot() (*Snapshot, error) {
	s := new(Snapshot)
	if err := p.Pin(s); err != nil {
		return nil, err
	}
	return s, nil
}

// View calls fn with a snapshot of the newest version and releases it
// when fn returns; it returns fn's error. The snapshot is valid only
// inside fn; the records it returns are copies and stay valid.
func (p *Provider) View(fn func(*Snapshot) error) error {
	var s Snapshot
	if err := p.Pin(&s); err != nil {
		return err
	}
	defer s.Release()
	return fn(&s)
}

// Pin pins the newest version into s, a zero or released Snapshot that
// the caller owns, without allocating: Snapshot for a caller that keeps
// its handles in memory of its own. Release s when done.
func (p *Provider) Pin(s *Snapshot) error {
	db, err := p.db()
	if err != nil {
		return err
	}
	if err := db.Pin(&s.s); err != nil {
		if errors.Is(err, mmapdb.ErrClosed) {
			return fmt.Errorf("translation: %s: %w", p.path, ErrStopped)
		}
		return fmt.Errorf("translation: %w", err) // err names the file
	}
	s.p = p
	return nil
}

// Fetch returns the block list of key and uri from the newest version,
// ordered by block and order; see Snapshot.Fetch. On a read-only provider
// whose file does not exist yet it fails with an error wrapping
// fs.ErrNotExist (a server answers 503 then).
func (p *Provider) Fetch(key, uri string, withNotes bool) ([]Record, error) {
	var s Snapshot
	if err := p.Pin(&s); err != nil {
		return nil, err
	}
	defer s.Release()
	return s.Fetch(key, uri, withNotes)
}

// ListKeys returns the keys of the table, sorted; see Snapshot.ListKeys.
func (p *Provider) ListKeys() ([]string, error) {
	var s Snapshot
	if err := p.Pin(&s); err != nil {
		return nil, err
	}
	defer s.Release()
	return s.ListKeys()
}

// ListKeysAndURIs returns the sorted (key, uri) pairs of the table, only
// those of key unless key is empty; see Snapshot.ListKeysAndURIs.
func (p *Provider) ListKeysAndURIs(key string) ([][2]string, error) {
	var s Snapshot
	if err := p.Pin(&s); err != nil {
		return nil, err
	}
	defer s.Release()
	return s.ListKeysAndURIs(key)
}

// Generation returns the generation of the newest version: the number of
// commits since the file was created.
func (p *Provider) Generation() (uint64, error) {
	var s Snapshot
	if err := p.Pin(&s); err != nil {
		return 0, err
	}
	defer s.Release()
	return s.Generation(), nil
}

// Stats are numbers about a provider and its database file. Counts of
// records are counts of actions, the records of the translation table;
// StoredRecords, which counts what the file stores, says so.
type Stats struct {
	Generation    uint64 // generation of the newest version
	Records       int    // actions in the provider's table
	StoredRecords uint64 // records in the file: actions and notes of every base key
	FileSize      int64  // size of the newest version's file in bytes
	Reads         uint64 // lookups served by this provider: Fetch and Resolve calls

	// The transactions of this provider committed since it was created:
	// their number, and the actions they created and deleted (the notes
	// that go with them are not counted).
	Commits, Creates, Deletes uint64

	// Reloads counts the versions of the file switched to since it was
	// opened in this process, by whichever writer they were committed.
	Reloads uint64
}

// Stats returns the provider's numbers. Counting the records costs a walk
// over the table's (key, uri) pairs once per version; see
// Snapshot.Records.
func (p *Provider) Stats() (Stats, error) {
	var s Snapshot
	if err := p.Pin(&s); err != nil {
		return Stats{}, err
	}
	defer s.Release()
	n, err := s.Records()
	if err != nil {
		return Stats{}, err
	}
	d, err := p.db()
	if err != nil {
		return Stats{}, err
	}
	return Stats{
		Generation:    s.Generation(),
		Records:       n,
		StoredRecords: s.s.Len(),
		FileSize:      s.FileSize(),
		Reads:         p.reads.Load(),
		Commits:       p.commits.Load(),
		Creates:       p.creates.Load(),
		Deletes:       p.deletes.Load(),
		Reloads:       d.Stats().Reloads,
	}, nil
}
