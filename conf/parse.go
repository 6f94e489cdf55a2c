package conf

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/sys/unix"

	"transdb/translation"
)

// Parse reads a configuration from r. name is the file name that errors
// carry. lookupEnv resolves ${VAR} in values; an unset variable expands
// to the empty string. A nil lookupEnv means os.LookupEnv; tests pass
// their own so as not to depend on the real environment.
//
// Parse reads all of r into memory first. Errors in the text are
// *ParseError values; an error reading r is returned wrapped. Parse
// looks at the file system only to check that AccessLog is a directory,
// AdminMenu a readable file and BackupDir a writable directory, and to
// compare the database files of the providers as they will be opened,
// relative ones from the working directory. A relative AdminMenu is
// taken from the directory of name.
func Parse(r io.Reader, name string, lookupEnv func(string) (string, bool)) (*Config, error) {
	src, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("conf: read %s: %w", name, err)
	}
	if lookupEnv == nil {
		lookupEnv = os.LookupEnv
	}
	p := &parser{
		file:   name,
		lookup: lookupEnv,
		cfg: &Config{
			Listen:          DefaultListen,
			ShutdownTimeout: DefaultShutdownTimeout,
			Flush:           true,
		},
		seen:       make(map[string]int),
		writable:   make(map[int]int),
		importLine: make(map[int]int),
	}
	for _, ln := range logicalLines(string(src)) {
		if err := p.line(ln); err != nil {
			return nil, err
		}
	}
	if p.open != nil {
		return nil, p.errorf(p.open.p.Line, "<TranslationProvider MMapDB> is not closed: missing </TranslationProvider>")
	}
	if len(p.cfg.Providers) == 0 {
		return nil, &ParseError{
			File: name,
			Msg:  "no TranslationProvider configured: at least one <TranslationProvider MMapDB> container is required",
			Err:  ErrNoProvider,
		}
	}
	return p.cfg, nil
}

// parser holds the state of one Parse call.
type parser struct {
	file   string
	lookup func(string) (string, bool)
	cfg    *Config
	seen   map[string]int // top-level directive, lower case -> line it was set on
	open   *container     // the container being read, nil outside containers

	// writable holds, by provider index, the line of a ReadOnly that
	// made the provider writable, and importLine the line of its
	// ImportFrom: a file that follows a Perl file has read-only
	// providers only.
	writable, importLine map[int]int
}

// container collects the parameters of one provider.
type container struct {
	p    Provider
	seen map[string]int // parameter, lower case -> line it was set on
}

func newContainer(line int) *container {
	return &container{p: Provider{Line: line}, seen: make(map[string]int)}
}

func (p *parser) errorf(line int, format string, args ...any) error {
	return &ParseError{File: p.file, Line: line, Msg: fmt.Sprintf(format, args...)}
}

// line handles one logical line.
func (p *parser) line(ln logicalLine) error {
	if ln.text[0] == '<' {
		return p.tag(ln.num, ln.text)
	}
	name, rest := splitWord(ln.text)
	if p.open == nil {
		return p.directive(ln.num, name, rest)
	}
	if strings.EqualFold(name, "TranslationProvider") {
		return p.nested(ln.num)
	}
	def, err := p.lookupParam(ln.num, p.open, name)
	if err != nil {
		return err
	}
	v, err := unquote(rest)
	if err != nil {
		return p.errorf(ln.num, "%s: %v", def.name, err)
	}
	return p.setParam(ln.num, p.open, def, v)
}

// tag handles <TranslationProvider CLASS> and </TranslationProvider>.
func (p *parser) tag(num int, text string) error {
	if len(text) < 2 || text[len(text)-1] != '>' {
		return p.errorf(num, "malformed tag %q: missing >", text)
	}
	inner := strings.TrimSpace(text[1 : len(text)-1])
	closing := strings.HasPrefix(inner, "/")
	if closing {
		inner = inner[1:]
	}
	name, args := splitWord(inner)
	if !strings.EqualFold(name, "TranslationProvider") {
		if closing {
			return p.errorf(num, "unknown closing tag </%s>", name)
		}
		return p.errorf(num, "unknown container <%s>", name)
	}
	if closing {
		if args != "" {
			return p.errorf(num, "unexpected %q in </TranslationProvider>", args)
		}
		if p.open == nil {
			return p.errorf(num, "</TranslationProvider> without an open <TranslationProvider MMapDB>")
		}
		c := p.open
		p.open = nil
		return p.addProvider(c)
	}
	if p.open != nil {
		return p.nested(num)
	}
	class, extra := splitWord(args)
	if err := p.checkClass(num, class); err != nil {
		return err
	}
	if extra != "" {
		return p.errorf(num, "unexpected %q in <TranslationProvider %s>: parameters go on their own lines inside the container", extra, class)
	}
	p.open = newContainer(num)
	return nil
}

func (p *parser) nested(num int) error {
	return p.errorf(num, "nested TranslationProvider: the <TranslationProvider MMapDB> opened on line %d is not closed", p.open.p.Line)
}

// checkClass accepts the provider class MMapDB, also spelt
// Apache2::Translation::MMapDB as in Perl, in any case.
func (p *parser) checkClass(num int, class string) error {
	switch {
	case class == "":
		return p.errorf(num, "missing provider class: want TranslationProvider MMapDB")
	case strings.EqualFold(class, "MMapDB"), strings.EqualFold(class, "Apache2::Translation::MMapDB"):
		return nil
	}
	return p.errorf(num, "unknown provider class %q: only MMapDB is supported", class)
}

// oneLine handles "TranslationProvider MMapDB name=value ...".
func (p *parser) oneLine(num int, rest string) error {
	class, args := splitWord(rest)
	if err := p.checkClass(num, class); err != nil {
		return err
	}
	params, err := splitParams(args)
	if err != nil {
		return p.errorf(num, "TranslationProvider: %v", err)
	}
	c := newContainer(num)
	for _, prm := range params {
		def, err := p.lookupParam(num, c, prm.name)
		if err != nil {
			return err
		}
		if err := p.setParam(num, c, def, prm.val); err != nil {
			return err
		}
	}
	return p.addProvider(c)
}

// addProvider completes a provider, inheriting FileName and Root, and
// NoLock unless it sets it, from the previous provider when it has no
// FileName, and appends it.
func (p *parser) addProvider(c *container) error {
	pr := c.p
	if pr.FileName == "" {
		n := len(p.cfg.Providers)
		if n == 0 {
			return p.errorf(pr.Line, "TranslationProvider without FileName, and no earlier provider whose file it could share")
		}
		if line, ok := c.seen["root"]; ok {
			return p.errorf(line, "Root without FileName: a provider without FileName shares the FileName and Root of the provider before it")
		}
		pr.FileName = p.cfg.Providers[n-1].FileName
		pr.Root = p.cfg.Providers[n-1].Root
		if _, ok := c.seen["nolock"]; !ok {
			pr.NoLock = p.cfg.Providers[n-1].NoLock
		}
	}
	if err := p.checkUnique(pr); err != nil {
		return err
	}
	if err := p.checkBackups(&pr, c); err != nil {
		return err
	}
	if err := p.shareBackups(&pr); err != nil {
		return err
	}
	if err := p.shareImport(&pr, c); err != nil {
		return err
	}
	if err := p.completeReplication(c, &pr); err != nil {
		return err
	}
	if err := p.checkReplication(pr); err != nil {
		return err
	}
	p.cfg.Providers = append(p.cfg.Providers, pr)
	return nil
}

// checkBackups completes the backup parameters of a provider: BackupDir
// is required by the others, is joined to Root when relative, and must
// be a writable directory.
func (p *parser) checkBackups(pr *Provider, c *container) error {
	b := pr.Backups
	if b == nil {
		return nil
	}
	if b.Dir == "" {
		name, line := "BackupEvery", c.seen["backupevery"]
		if l, ok := c.seen["backupkeep"]; ok && (line == 0 || l < line) {
			name, line = "BackupKeep", l
		}
		return p.errorf(line, "%s without BackupDir: BackupDir turns the automatic backups on", name)
	}
	b.Line = c.seen["backupdir"]
	if pr.Root != "" && !filepath.IsAbs(b.Dir) {
		b.Dir = filepath.Join(pr.Root, b.Dir)
	}
	b.Dir = filepath.Clean(b.Dir)
	fi, err := os.Stat(b.Dir)
	var pe *fs.PathError
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return p.errorf(b.Line, "BackupDir %s: no such directory", b.Dir)
	case errors.As(err, &pe):
		return p.errorf(b.Line, "BackupDir %s: %v", b.Dir, pe.Err)
	case err != nil:
		return p.errorf(b.Line, "BackupDir %s: %v", b.Dir, err)
	case !fi.IsDir():
		return p.errorf(b.Line, "BackupDir %s is not a directory", b.Dir)
	}
	if err := unix.Access(b.Dir, unix.W_OK|unix.X_OK); err != nil {
		return p.errorf(b.Line, "BackupDir %s is not writable: %v", b.Dir, err)
	}
	return nil
}

// shareBackups gives the providers of one database file the same
// backups: a provider that configures none gets those of the file, and
// one that does configures them for the providers before it on the file
// too. Two that configure them differently are an error, and so are two
// files of one name with one backup directory: backups are known by
// their names, which name the file.
func (p *parser) shareBackups(pr *Provider) error {
	path := pr.absPath()
	if b := pr.Backups; b != nil {
		for _, q := range p.cfg.Providers {
			if q.Backups != nil && q.absPath() != path && filepath.Base(q.absPath()) == filepath.Base(path) &&
				absPath(q.Backups.Dir) == absPath(b.Dir) {
				return p.errorf(b.Line, "BackupDir %s holds the backups of %s (line %d) already: files of one name need backup directories of their own",
					b.Dir, q.absPath(), q.Backups.Line)
			}
		}
	}
	for i := range p.cfg.Providers {
		q := &p.cfg.Providers[i]
		if q.absPath() != path || q.Backups == nil {
			continue
		}
		if pr.Backups == nil {
			b := *q.Backups
			pr.Backups = &b
			return nil
		}
		if !pr.Backups.same(q.Backups) {
			return p.errorf(pr.Backups.Line, "the backups of %s are configured differently on line %d: the providers of a file share its backups, configure them once",
				path, q.Backups.Line)
		}
		return nil
	}
	if pr.Backups != nil {
		for i := range p.cfg.Providers {
			if q := &p.cfg.Providers[i]; q.absPath() == path {
				b := *pr.Backups
				q.Backups = &b
			}
		}
	}
	return nil
}

// shareImport gives the providers of one database file the same
// ImportFrom, as shareBackups does with backups, and makes them all
// read-only: every import replaces the file's content, so a write
// through any of them would be undone by the next one. A provider that
// sets ReadOnly 0 on such a file is an error, and so are two ImportFrom
// of one file that name different Perl files. A relative ImportFrom is
// joined to Root.
func (p *parser) shareImport(pr *Provider, c *container) error {
	idx := len(p.cfg.Providers)
	if line, ok := c.seen["readonly"]; ok && !pr.ReadOnly {
		p.writable[idx] = line
	}
	path := pr.absPath()
	if pr.ImportFrom != "" {
		line := c.seen["importfrom"]
		if pr.Root != "" && !filepath.IsAbs(pr.ImportFrom) {
			pr.ImportFrom = filepath.Join(pr.Root, pr.ImportFrom)
		}
		pr.ImportFrom = filepath.Clean(pr.ImportFrom)
		if absPath(pr.ImportFrom) == path {
			return p.errorf(line, "ImportFrom %s is the database file itself: name the Perl MMapDB file to follow", pr.ImportFrom)
		}
		p.importLine[idx] = line
	}
	for i, q := range p.cfg.Providers {
		if q.absPath() != path || q.ImportFrom == "" {
			continue
		}
		if pr.ImportFrom == "" {
			pr.ImportFrom = q.ImportFrom
			p.importLine[idx] = p.importLine[i]
		} else if absPath(q.ImportFrom) != absPath(pr.ImportFrom) {
			return p.errorf(p.importLine[idx], "%s follows ImportFrom %s (line %d) already: the providers of a file share its ImportFrom, set it once",
				path, q.ImportFrom, p.importLine[i])
		}
		break
	}
	if pr.ImportFrom == "" {
		return nil
	}
	readOnly := func(i int) error {
		if line, ok := p.writable[i]; ok {
			return p.errorf(line, "ReadOnly 0, but %s follows ImportFrom %s (line %d), whose next import would undo every write: its providers are read-only",
				path, pr.ImportFrom, p.importLine[idx])
		}
		return nil
	}
	for i := range p.cfg.Providers {
		if q := &p.cfg.Providers[i]; q.absPath() == path {
			if err := readOnly(i); err != nil {
				return err
			}
			q.ImportFrom, q.ReadOnly = pr.ImportFrom, true
			p.importLine[i] = p.importLine[idx]
		}
	}
	if err := readOnly(idx); err != nil {
		return err
	}
	pr.ReadOnly = true
	return nil
}

// checkUnique refuses a provider that serves the same table, the same
// file (as opened: absolute and cleaned) under the same base key, as an
// earlier one: requests select providers by base key, so the later one
// could never be reached. It also refuses writable providers of one
// file that disagree on NoLock: they would open the file twice, one
// taking its lock and the other not, and commits of the two would
// overwrite each other.
func (p *parser) checkUnique(pr Provider) error {
	path := pr.absPath()
	for _, q := range p.cfg.Providers {
		if q.absPath() != path {
			continue
		}
		if q.NoLock != pr.NoLock && !q.ReadOnly && !pr.ReadOnly {
			return p.errorf(pr.Line, "TranslationProvider writes file %s with NoLock %v, the one on line %d with NoLock %v: the writers of one file share its lock, give them the same NoLock",
				path, pr.NoLock, q.Line, q.NoLock)
		}
		if !slices.Equal(q.Keys, pr.Keys) {
			continue
		}
		access := ""
		if q.ReadOnly != pr.ReadOnly {
			access = " (read-only in one, writable in the other)"
		}
		return p.errorf(pr.Line, "TranslationProvider serves the same table as the one on line %d%s: file %s, BaseKey %s; requests could never reach this one",
			q.Line, access, path, translation.FormatBaseKey(pr.Keys))
	}
	return nil
}

// directive handles a top-level directive.
func (p *parser) directive(num int, name, rest string) error {
	key := strings.ToLower(name)
	if key == "translationprovider" {
		return p.oneLine(num, rest)
	}
	d, ok := directives[key]
	if !ok {
		if prm, isParam := parameters[key]; isParam {
			return p.errorf(num, "unknown directive %q: %s belongs inside <TranslationProvider MMapDB>", name, prm.name)
		}
		return p.errorf(num, "unknown directive %q", name)
	}
	if first, dup := p.seen[key]; dup {
		return p.errorf(num, "duplicate directive %s (first set on line %d)", d.name, first)
	}
	p.seen[key] = num
	v, err := unquote(rest)
	if err != nil {
		if !d.rawLine {
			return p.errorf(num, "%s: %v", d.name, err)
		}
		v = value{text: rest}
	}
	if v.missing() {
		return p.errorf(num, "missing value for %s", d.name)
	}
	lookup := p.lookup
	if d.commandVars != nil {
		lookup = func(name string) (string, bool) {
			if slices.Contains(d.commandVars, name) {
				return "${" + name + "}", true
			}
			return p.lookup(name)
		}
	}
	text := v.expanded(lookup)
	if d.relative && text != "" && !filepath.IsAbs(text) {
		text = filepath.Join(filepath.Dir(p.file), text)
	}
	if err := d.set(p.cfg, text); err != nil {
		return p.errorf(num, "%v", err)
	}
	return nil
}

// lookupParam finds a provider parameter by name and records it in c,
// refusing unknown and repeated parameters.
func (p *parser) lookupParam(num int, c *container, name string) (parameter, error) {
	key := strings.ToLower(name)
	def, ok := parameters[key]
	if !ok {
		if d, isDirective := directives[key]; isDirective {
			return def, p.errorf(num, "unknown parameter %q in TranslationProvider MMapDB: %s is a top-level directive", name, d.name)
		}
		return def, p.errorf(num, "unknown parameter %q in TranslationProvider MMapDB", name)
	}
	if first, dup := c.seen[key]; dup {
		return def, p.errorf(num, "duplicate parameter %s (first set on line %d)", def.name, first)
	}
	c.seen[key] = num
	return def, nil
}

// setParam applies a provider parameter found by lookupParam.
func (p *parser) setParam(num int, c *container, def parameter, v value) error {
	if v.missing() {
		return p.errorf(num, "missing value for %s", def.name)
	}
	if err := def.set(&c.p, v.expanded(p.lookup)); err != nil {
		return p.errorf(num, "%v", err)
	}
	return nil
}

// directive describes a top-level directive.
type directive struct {
	name string // canonical spelling, for messages
	// rawLine keeps the rest of the line as written when it is not one
	// quoted string, instead of rejecting it (OnChange: a shell command
	// has quotes of its own).
	rawLine bool
	// relative joins a relative value, a file name, to the directory of
	// the configuration file.
	relative bool
	// commandVars are variables of the command's own environment, which
	// ${NAME} in the value leaves to the shell instead of expanding them
	// when the configuration is read (OnChange: TRANSDB_GENERATION and
	// TRANSDB_FILE exist only when it runs).
	commandVars []string
	set         func(c *Config, v string) error
}

var directives = map[string]directive{
	"listen": {name: "Listen", set: setListen},
	"translationkey": {name: "TranslationKey", set: func(c *Config, v string) error {
		// A key no record can have would find nothing, silently; an
		// empty one means none. (Keys need not be UTF-8: imported Perl
		// tables keep Latin-1 ones.)
		if strings.ContainsFunc(v, unicode.IsSpace) || strings.IndexByte(v, 0) >= 0 {
			return fmt.Errorf("invalid TranslationKey %q: white space or NUL, which no key of a record holds", v)
		}
		c.TranslationKey = v
		return nil
	}},
	"documentroot": {name: "DocumentRoot", set: func(c *Config, v string) error {
		c.DocumentRoot = v
		return nil
	}},
	"trustedproxies": {name: "TrustedProxies", set: setTrustedProxies},
	"admintoken": {name: "AdminToken", set: func(c *Config, v string) error {
		// A browser, and any client, sends it in a header: printable
		// ASCII only. The message does not show it.
		for i := 0; i < len(v); i++ {
			if v[i] < ' ' || v[i] >= 0x7f {
				return fmt.Errorf("invalid AdminToken: character %d is not printable ASCII (a token is sent in an HTTP header, where a browser sends ASCII only)", utf8.RuneCountInString(v[:i])+1)
			}
		}
		if strings.TrimSpace(v) != v {
			return errors.New("invalid AdminToken: white space at its start or end, which no HTTP header keeps")
		}
		c.AdminToken = v
		return nil
	}},
	"maxbodysize": {name: "MaxBodySize", set: func(c *Config, v string) error {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return fmt.Errorf("invalid MaxBodySize %q: want a positive number of bytes", v)
		}
		c.MaxBodySize = n
		return nil
	}},
	"checkinterval": {name: "CheckInterval", set: func(c *Config, v string) error {
		d, err := time.ParseDuration(v)
		switch {
		case err != nil:
			return fmt.Errorf("invalid CheckInterval %q: want a duration such as 1s or 500ms", v)
		case d <= 0:
			return fmt.Errorf("invalid CheckInterval %q: must be positive", v)
		case d > MaxCheckInterval:
			return fmt.Errorf("invalid CheckInterval %q: at most %v", v, MaxCheckInterval)
		}
		c.CheckInterval = d
		return nil
	}},
	"maxcalldepth": {name: "MaxCallDepth", set: func(c *Config, v string) error {
		return setLimit(&c.MaxCallDepth, "MaxCallDepth", v)
	}},
	"maxsteps": {name: "MaxSteps", set: func(c *Config, v string) error {
		return setLimit(&c.MaxSteps, "MaxSteps", v)
	}},
	"maxrows": {name: "MaxRows", set: func(c *Config, v string) error {
		return setLimit(&c.MaxRows, "MaxRows", v)
	}},
	"decisioncachesize": {name: "DecisionCacheSize", set: func(c *Config, v string) error {
		n, err := strconv.ParseInt(v, 10, 64)
		switch {
		case err != nil || n < 0:
			return fmt.Errorf("invalid DecisionCacheSize %q: want a number of bytes, 0 for no cache", v)
		case n == 0:
			n = -1
		}
		c.DecisionCacheSize = n
		return nil
	}},
	"shutdowntimeout": {name: "ShutdownTimeout", set: func(c *Config, v string) error {
		d, err := time.ParseDuration(v)
		switch {
		case err != nil:
			return fmt.Errorf("invalid ShutdownTimeout %q: want a duration such as 30s", v)
		case d <= 0:
			return fmt.Errorf("invalid ShutdownTimeout %q: must be positive", v)
		}
		c.ShutdownTimeout = d
		return nil
	}},
	"admin": {name: "Admin", set: func(c *Config, v string) (err error) {
		c.Admin, err = parseBool("Admin", v)
		return err
	}},
	"adminmenu": {name: "AdminMenu", relative: true, set: setAdminMenu},
	"accesslog": {name: "AccessLog", set: setAccessLog},
	"flush": {name: "Flush", set: func(c *Config, v string) (err error) {
		c.Flush, err = parseBool("Flush", v)
		return err
	}},
	"onchange": {name: "OnChange", rawLine: true, commandVars: []string{"TRANSDB_GENERATION", "TRANSDB_FILE"}, set: func(c *Config, v string) error {
		c.OnChange = v
		return nil
	}},
}

// setListen accepts host:port, and a bare port as Apache does.
func setListen(c *Config, v string) error {
	addr := v
	if isDigits(v) {
		addr = ":" + v
	}
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("invalid Listen address %q: want host:port", v)
	}
	if !isDigits(port) {
		return fmt.Errorf("invalid Listen address %q: the port must be a number from 0 to 65535", v)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return fmt.Errorf("invalid Listen address %q: port %s is out of range, it must be from 0 to 65535", v, port)
	}
	c.Listen = addr
	return nil
}

// setTrustedProxies accepts a list of CIDR prefixes and single addresses,
// separated by white space or commas; an empty value means none.
func setTrustedProxies(c *Config, v string) error {
	fields := strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' })
	prefixes := make([]netip.Prefix, 0, len(fields))
	for _, f := range fields {
		var p netip.Prefix
		var err error
		if strings.Contains(f, "/") {
			p, err = netip.ParsePrefix(f)
		} else {
			var a netip.Addr
			if a, err = netip.ParseAddr(f); err == nil {
				p = netip.PrefixFrom(a, a.BitLen())
			}
		}
		if err != nil || p.Addr().Zone() != "" {
			return fmt.Errorf("invalid TrustedProxies entry %q: want an address or a CIDR prefix such as 127.0.0.1 or 10.0.0.0/8", f)
		}
		prefixes = append(prefixes, p.Masked())
	}
	if len(prefixes) == 0 {
		prefixes = nil
	}
	c.TrustedProxies = prefixes
	return nil
}

// isDigits reports whether s is a non-empty string of decimal digits.
func isDigits(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}

// setAccessLog accepts an existing directory, or an empty value for no
// access log: a missing directory would otherwise only show when the
// first request is logged.
func setAccessLog(c *Config, v string) error {
	if v != "" {
		fi, err := os.Stat(v)
		var pe *fs.PathError
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return fmt.Errorf("AccessLog %s: no such directory", v)
		case errors.As(err, &pe):
			return fmt.Errorf("AccessLog %s: %v", v, pe.Err)
		case err != nil:
			return fmt.Errorf("AccessLog %s: %v", v, err)
		case !fi.IsDir():
			return fmt.Errorf("AccessLog %s is not a directory", v)
		}
	}
	c.AccessLog = v
	return nil
}

// setAdminMenu accepts a file that can be read, or an empty value for
// no menu: transdbd reads it when it starts.
func setAdminMenu(c *Config, v string) error {
	if v != "" {
		if err := checkFile("AdminMenu", v); err != nil {
			return err
		}
		f, err := os.Open(v)
		if err != nil {
			var pe *fs.PathError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			return fmt.Errorf("AdminMenu %s: %v", v, err)
		}
		f.Close()
	}
	c.AdminMenu = v
	return nil
}

// parameter describes a provider parameter.
type parameter struct {
	name string // canonical spelling, for messages
	set  func(p *Provider, v string) error
}

var parameters = map[string]parameter{
	"filename": {name: "FileName", set: func(p *Provider, v string) error {
		if v == "" {
			return errors.New("empty FileName")
		}
		p.FileName = v
		return nil
	}},
	"root": {name: "Root", set: func(p *Provider, v string) error {
		p.Root = v
		return nil
	}},
	"readonly": {name: "ReadOnly", set: func(p *Provider, v string) (err error) {
		p.ReadOnly, err = parseBool("ReadOnly", v)
		return err
	}},
	"basekey": {name: "BaseKey", set: func(p *Provider, v string) error {
		keys, err := translation.ParseBaseKey(v)
		if err != nil {
			return fmt.Errorf("BaseKey: %w", err)
		}
		if len(keys) == 1 && keys[0] == "" {
			// A request's empty basekey= selects the table without base
			// key: this one could never be selected.
			return fmt.Errorf("BaseKey %s: one empty key is what requests use to name the table without base key; leave BaseKey out for that table", v)
		}
		p.BaseKey, p.Keys = v, keys
		return nil
	}},
	"nolock": {name: "NoLock", set: func(p *Provider, v string) (err error) {
		p.NoLock, err = parseBool("NoLock", v)
		return err
	}},
	"importfrom": {name: "ImportFrom", set: func(p *Provider, v string) error {
		if v == "" {
			return errors.New("empty ImportFrom")
		}
		p.ImportFrom = v
		return nil
	}},
	"backupdir": {name: "BackupDir", set: func(p *Provider, v string) error {
		if v == "" {
			return errors.New("empty BackupDir")
		}
		p.backups().Dir = v
		return nil
	}},
	"backupevery": {name: "BackupEvery", set: func(p *Provider, v string) error {
		d, err := parseSpan(v)
		if err != nil || d <= 0 {
			return fmt.Errorf("invalid BackupEvery %q: want a positive duration such as 10m, 1h or 1d", v)
		}
		p.backups().Every = d
		return nil
	}},
	"backupkeep": {name: "BackupKeep", set: setBackupKeep},
	"publish": {name: "Publish", set: func(p *Provider, v string) (err error) {
		p.Publish, err = parseReplication("Publish", v)
		return err
	}},
	"follow": {name: "Follow", set: func(p *Provider, v string) (err error) {
		p.Follow, err = parseReplication("Follow", v)
		return err
	}},
	"natscredentials": {name: "NATSCredentials", set: func(p *Provider, v string) error {
		p.natsCredentials = v
		return checkFile("NATSCredentials", v)
	}},
	"natsrootcas": {name: "NATSRootCAs", set: func(p *Provider, v string) error {
		p.natsRootCAs = v
		return checkFile("NATSRootCAs", v)
	}},
}

// backups returns the provider's backup parameters, creating them.
func (p *Provider) backups() *Backups {
	if p.Backups == nil {
		p.Backups = new(Backups)
	}
	return p.Backups
}

// setBackupKeep reads BackupKeep KEEPALL KEEPMIN DELETEAFTER: two
// positive durations and a positive count between them.
func setBackupKeep(p *Provider, v string) error {
	bad := fmt.Errorf("invalid BackupKeep %q: want three values, KEEPALL KEEPMIN DELETEAFTER, such as 24h 3 21d: "+
		"keep all backups younger than KEEPALL, of the older ones at least the KEEPMIN newest, delete only those older than DELETEAFTER", v)
	f := strings.Fields(v)
	if len(f) != 3 {
		return bad
	}
	all, err1 := parseSpan(f[0])
	n, err2 := strconv.Atoi(f[1])
	after, err3 := parseSpan(f[2])
	if err1 != nil || err2 != nil || err3 != nil || all <= 0 || n <= 0 || after <= 0 {
		return bad
	}
	b := p.backups()
	b.KeepAll, b.KeepMin, b.DeleteAfter = all, n, after
	return nil
}

// parseSpan reads a Go duration (90m, 24h) or a whole number of days
// (21d).
func parseSpan(v string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(v, "d"); ok && isDigits(days) {
		n, err := strconv.ParseInt(days, 10, 64)
		if err != nil || n > int64(math.MaxInt64/(24*time.Hour)) {
			return 0, fmt.Errorf("%s: too many days", v)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	return time.ParseDuration(v)
}

// parseBool accepts 0/1, on/off, true/false and yes/no in any case.
func parseBool(name, v string) (bool, error) {
	switch strings.ToLower(v) {
	case "1", "on", "true", "yes":
		return true, nil
	case "0", "off", "false", "no":
		return false, nil
	}
	return false, fmt.Errorf("invalid %s value %q: want 0 or 1 (or on/off, true/false, yes/no)", name, v)
}

// setLimit sets a translation limit: a positive number, at most a
// million (a request must end in good time).
func setLimit(to *int, name, v string) error {
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 || n > 1_000_000 {
		return fmt.Errorf("invalid %s %q: want a number from 1 to 1000000", name, v)
	}
	*to = n
	return nil
}
