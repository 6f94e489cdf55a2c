package conf

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestPathJoinsRootForRelativeFileName(t *testing.T) {
	tests := []struct {
		p    Provider
		want string
	}{
		{Provider{FileName: "trans.mmdb"}, "trans.mmdb"},
		{Provider{FileName: "trans.mmdb", Root: "/srv/transdb"}, "/srv/transdb/trans.mmdb"},
		{Provider{FileName: "sub/trans.mmdb", Root: "/srv/transdb/"}, "/srv/transdb/sub/trans.mmdb"},
		{Provider{FileName: "../trans.mmdb", Root: "/srv/transdb"}, "/srv/trans.mmdb"},
		{Provider{FileName: "/abs/trans.mmdb", Root: "/srv/transdb"}, "/abs/trans.mmdb"},
		{Provider{FileName: "trans.mmdb", Root: "data"}, filepath.Join("data", "trans.mmdb")},
	}
	for _, tt := range tests {
		if got := tt.p.Path(); got != tt.want {
			t.Errorf("Provider{FileName: %q, Root: %q}.Path() = %q, want %q", tt.p.FileName, tt.p.Root, got, tt.want)
		}
	}
}

func TestLoadReadsFileAndExpandsProcessEnvironment(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("TRANSDB_CONF_TEST_TOKEN", "tok")
	path := filepath.Join(dir, "transdb.conf")
	text := "AdminToken ${TRANSDB_CONF_TEST_TOKEN}\n" +
		"TranslationProvider MMapDB filename=trans.mmdb root=" + dir + "\n"
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.AdminToken != "tok" {
		t.Errorf("AdminToken = %q, want tok", cfg.AdminToken)
	}
	if got, want := cfg.Providers[0].Path(), filepath.Join(dir, "trans.mmdb"); got != want {
		t.Errorf("Path() = %q, want %q", got, want)
	}
}

func TestLoadErrorsNameThePath(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.conf")
	if err := os.WriteFile(path, []byte(minimalProvider+"Nonsense 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path)
	want := path + `:5: unknown directive "Nonsense"`
	if err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}
}

func TestLoadMissingFileIsNotExist(t *testing.T) {
	path := filepath.Join(t.TempDir(), "missing.conf")
	_, err := Load(path)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("got %v, want fs.ErrNotExist", err)
	}
	if !strings.Contains(err.Error(), path) {
		t.Errorf("%v does not name %s", err, path)
	}
}

func TestLoadOfADirectorySaysSo(t *testing.T) {
	dir := t.TempDir()
	_, err := Load(dir)
	want := "conf: " + dir + " is a directory, not a configuration file"
	if err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}
}

func TestDefaultServesDemoDatabase(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("TRANSDB_DATA", dir)
	t.Setenv("TRANSDB_ADMIN_TOKEN", "")
	cfg, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	want := &Config{
		Listen:          "127.0.0.1:8080",
		TranslationKey:  "front",
		DocumentRoot:    "/var/www",
		Admin:           true,
		MaxBodySize:     64 << 20, // the default configuration sets them
		CheckInterval:   time.Second,
		ShutdownTimeout: 30 * time.Second,
		Flush:           true,
		Providers:       cfg.Providers,
	}
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("got %+v\nwant %+v", cfg, want)
	}
	if len(cfg.Providers) != 1 {
		t.Fatalf("got %d providers, want 1", len(cfg.Providers))
	}
	p := cfg.Providers[0]
	if p.FileName != "transdb-demo.mmdb" || p.Root != dir || p.BaseKey != "" || p.Keys != nil || p.ReadOnly || p.NoLock {
		t.Errorf("provider %+v", p)
	}
	if got, want := p.Path(), filepath.Join(dir, "transdb-demo.mmdb"); got != want {
		t.Errorf("Path() = %q, want %q", got, want)
	}
}

func TestDefaultWithoutDataDirectoryUsesWorkingDirectory(t *testing.T) {
	t.Setenv("TRANSDB_DATA", "")
	cfg, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Providers[0].Path(); got != "transdb-demo.mmdb" {
		t.Errorf("Path() = %q, want transdb-demo.mmdb", got)
	}
}

// commentedExample matches the lines of default.conf that are commented
// out examples of directives and parameters. Prose in default.conf does
// not start with these names (the parameter list uses "#  - Name:").
var commentedExample = regexp.MustCompile(`(?m)^#(\s*(?:AdminToken|AdminMenu|AccessLog|TrustedProxies|OnChange|MaxCallDepth|MaxSteps|MaxRows|DecisionCacheSize|FileName|Root|ImportFrom|BaseKey|ReadOnly|BackupDir|BackupEvery|BackupKeep|(?:</?)?TranslationProvider)[\s>])`)

func TestDefaultExamplesParseWhenUncommented(t *testing.T) {
	src := bytes.Clone(defaultSource)
	uncommented := commentedExample.ReplaceAll(src, []byte("$1"))
	if bytes.Equal(uncommented, src) {
		t.Fatal("found no commented examples in default.conf")
	}
	// The AccessLog example names a directory that must exist, and so
	// does the BackupDir example, under the data directory.
	logs := t.TempDir()
	uncommented = bytes.Replace(uncommented, []byte("AccessLog       /var/log/transdb\n"), []byte("AccessLog       "+logs+"\n"), 1)
	// The AdminMenu example names a file that must exist too.
	menu := filepath.Join(t.TempDir(), "menu.html")
	if err := os.WriteFile(menu, []byte("<a href=\"/\">home</a>\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	uncommented = bytes.Replace(uncommented, []byte("AdminMenu       /etc/transdb/menu.html\n"), []byte("AdminMenu       "+menu+"\n"), 1)
	data := t.TempDir()
	if err := os.Mkdir(filepath.Join(data, "backups"), 0o755); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"TRANSDB_DATA":        data,
		"TRANSDB_ADMIN_TOKEN": "tok",
		"TRANSDB_GENERATION":  "must not be expanded",
	}
	cfg, err := Parse(bytes.NewReader(uncommented), defaultName, func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	})
	if err != nil {
		t.Fatalf("%v in\n%s", err, uncommented)
	}
	if cfg.AdminToken != "tok" || cfg.AccessLog != logs || cfg.AdminMenu != menu {
		t.Errorf("AdminToken=%q AccessLog=%q AdminMenu=%q", cfg.AdminToken, cfg.AccessLog, cfg.AdminMenu)
	}
	if !strings.Contains(cfg.OnChange, "${TRANSDB_GENERATION}") {
		t.Errorf("OnChange example was expanded: %q", cfg.OnChange)
	}
	backups := &Backups{Dir: filepath.Join(data, "backups"), Every: time.Hour,
		KeepAll: 24 * time.Hour, KeepMin: 3, DeleteAfter: 21 * 24 * time.Hour}
	want := []Provider{
		{FileName: "transdb-demo.mmdb", Root: data, Backups: backups},
		{FileName: "transdb-demo.mmdb", Root: data, BaseKey: "[qw/trans archive/]", Keys: []string{"trans", "archive"}, ReadOnly: true, Backups: backups},
		{FileName: "transdb-demo.mmdb", Root: data, BaseKey: "[qw/trans old/]", Keys: []string{"trans", "old"}, ReadOnly: true, Backups: backups},
		{FileName: "perl-mirror.mmdb", Root: data, BaseKey: "[qw/trans db/]", Keys: []string{"trans", "db"}, ReadOnly: true,
			ImportFrom: "/var/lib/apache2/translation.mmdb"},
	}
	for i, p := range cfg.Providers {
		cfg.Providers[i].Line = 0
		if p.Backups != nil {
			p.Backups.Line = 0
		}
	}
	if !reflect.DeepEqual(cfg.Providers, want) {
		t.Errorf("providers\n got %+v\nwant %+v", cfg.Providers, want)
	}
}
