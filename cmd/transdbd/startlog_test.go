package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

func TestServeLogsEveryProvidersFileAndBaseKey(t *testing.T) {
	// A FileName without Root is taken from the working directory: the
	// log shows where that is.
	dir := t.TempDir()
	t.Chdir(dir)
	cfg := writeFile(t, t.TempDir(), "transdb.conf", `Listen 127.0.0.1:0
<TranslationProvider MMapDB>
    FileName rel.mmdb
</TranslationProvider>
TranslationProvider MMapDB basekey="[qw/trans db/]" readonly=1
TranslationProvider MMapDB filename=/nonexistent/abs.mmdb basekey=x readonly=1
`)
	d := startDaemon(t, nil, "serve", "-config", cfg)
	db := filepath.Join(dir, "rel.mmdb")
	for _, want := range []string{
		"level=INFO msg=provider file=" + db + " basekey=[] readonly=false\n",
		"level=INFO msg=provider file=" + db + " basekey=" + strconv.Quote(`["trans","db"]`) + " readonly=true\n",
		"level=INFO msg=provider file=/nonexistent/abs.mmdb basekey=" + strconv.Quote(`["x"]`) + " readonly=true\n",
	} {
		if !strings.Contains(d.stderr.String(), want) {
			t.Errorf("the log lacks %q:\n%s", want, d.stderr)
		}
	}
	if _, err := os.Stat(db); err != nil {
		t.Errorf("the logged file: %v", err)
	}
	d.signal(t, syscall.SIGTERM)
	if code := d.wait(t); code != 0 {
		t.Errorf("exit status: %d", code)
	}
}
