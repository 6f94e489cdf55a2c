package httpprovider_test

import (
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"transdb/httpprovider"
	"transdb/internal/syncbuf"
	"transdb/mmapdb"
	"transdb/translation"
)

// waitReadiness polls /readyz until ok says that its answer is the one
// awaited, and returns that answer, or fails the test after a generous
// bound.
func (s *testServer) waitReadiness(what string, ok func(status int, r readiness) bool) readiness {
	s.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp := s.get("/readyz")
		var r readiness
		s.decode(resp, resp.status, &r)
		if ok(resp.status, r) {
			return r
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("%s: /readyz still %d %s", what, resp.status, resp.body)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// replaceFile puts data in place of the file at path, as mv does: the
// server sees a new file by its identity.
func replaceFile(t *testing.T, path string, data []byte) {
	t.Helper()
	tmp := filepath.Join(filepath.Dir(path), "replacement")
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// TestADamagedVersionIsFoundInTheBackground serves a database, replaces
// its file with a copy that has one byte flipped in its body, and then
// with the sound copy again: the server verifies each version it maps
// and says what it found in its log, /readyz and /metrics.
func TestADamagedVersionIsFoundInTheBackground(t *testing.T) {
	var logs syncbuf.Buffer
	path := dbPath(t)
	s := serve(t, httpprovider.Options{
		Providers:      []*translation.Provider{newProvider(t, path, false, "trans", "db")},
		AdminToken:     token,
		VerifyInterval: 10 * time.Millisecond,
		Logger:         slog.New(slog.NewTextHandler(&logs, nil)),
	})
	s.loadExample()
	file := strconv.Quote(path)
	metric := func(name string) string {
		m := regexp.MustCompile(`(?m)^` + name + `\{file=` + regexp.QuoteMeta(file) + `\} (\S+)$`).FindStringSubmatch(string(s.get("/metrics").body))
		if m == nil {
			return "absent"
		}
		return m[1]
	}

	// The sound version of the load is verified.
	s.waitReadiness("verification of generation 1", func(status int, r readiness) bool {
		return status == http.StatusOK && r.Files[0].Verification == "verified" && r.Files[0].Generation == 1
	})
	if !regexp.MustCompile(`level=INFO msg="httpprovider: database version verified" file=\S+ generation=1 `).MatchString(logs.String()) {
		t.Errorf("the log does not report generation 1 verified:\n%s", logs.String())
	}
	for name, want := range map[string]string{"transdb_verified_generation": "1", "transdb_verify_failures_total": "0", "transdb_verify_failed": "0"} {
		if got := metric(name); got != want {
			t.Errorf("%s %s, want %s", name, got, want)
		}
	}

	// A copy with a byte flipped in the middle of its body.
	sound, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	damaged := append([]byte(nil), sound...)
	damaged[len(damaged)*2/3] ^= 0x01
	replaceFile(t, path, damaged)
	r := s.waitReadiness("the damaged copy found", func(status int, r readiness) bool {
		return status == http.StatusServiceUnavailable
	})
	f := r.Files[0]
	if !strings.Contains(r.Error, "fails verification") || f.Verification != "failed" || f.Generation != 1 ||
		!strings.Contains(f.VerifyError, "corrupt") || f.Verified == nil || *f.Verified != 1 {
		t.Errorf("/readyz of the damaged copy: %+v", r)
	}
	if !regexp.MustCompile(`level=ERROR msg="httpprovider: the database version served fails verification[^"]*" file=\S+ generation=1 err=.*checksum`).MatchString(logs.String()) {
		t.Errorf("the log does not report the damage:\n%s", logs.String())
	}
	for name, want := range map[string]string{"transdb_verified_generation": "1", "transdb_verify_failures_total": "1", "transdb_verify_failed": "1"} {
		if got := metric(name); got != want {
			t.Errorf("damaged: %s %s, want %s", name, got, want)
		}
	}

	// The sound copy put back: the same generation, verified again.
	replaceFile(t, path, sound)
	s.waitReadiness("the sound copy verified", func(status int, r readiness) bool {
		return status == http.StatusOK && r.Files[0].Verification == "verified"
	})
	for name, want := range map[string]string{"transdb_verified_generation": "1", "transdb_verify_failures_total": "1", "transdb_verify_failed": "0"} {
		if got := metric(name); got != want {
			t.Errorf("sound again: %s %s, want %s", name, got, want)
		}
	}
}

// TestAnInstalledVersionIsNotReadAgain: a version whose file Install
// verified before putting it in place, as a follower installs each
// version it receives, is verified without reading it again; the log
// says so, and /readyz and /metrics report it verified.
func TestAnInstalledVersionIsNotReadAgain(t *testing.T) {
	var logs syncbuf.Buffer
	path := dbPath(t)
	dir := filepath.Dir(path)
	src := newProvider(t, filepath.Join(dir, "writer.mmdb"), false, "trans", "db")
	if _, err := src.Update(func(tx *translation.Txn) error {
		_, err := tx.Insert(translation.Record{Key: "k", URI: "/u", Action: "Done"})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, "writer.mmdb"))
	if err != nil {
		t.Fatal(err)
	}
	received := filepath.Join(dir, "received")
	if err := os.WriteFile(received, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := mmapdb.Install(path, received, nil); err != nil {
		t.Fatal(err)
	}
	s := serve(t, httpprovider.Options{
		Providers:      []*translation.Provider{newProvider(t, path, true, "trans", "db")},
		VerifyInterval: 10 * time.Millisecond,
		Logger:         slog.New(slog.NewTextHandler(&logs, nil)),
	})
	s.waitReadiness("the installed version verified", func(status int, r readiness) bool {
		return status == http.StatusOK && r.Files[0].Verification == "verified" && r.Files[0].Generation == 1
	})
	if !regexp.MustCompile(`level=INFO msg="httpprovider: database version verified when it was installed" file=\S+ generation=1 `).MatchString(logs.String()) ||
		strings.Contains(logs.String(), `msg="httpprovider: database version verified" `) {
		t.Errorf("the log does not say the installed version was verified without reading it again:\n%s", logs.String())
	}
	if !strings.Contains(string(s.get("/metrics").body), "transdb_verified_generation{file="+strconv.Quote(path)+"} 1\n") {
		t.Errorf("/metrics does not report generation 1 verified")
	}
}

func TestVerificationCanBeTurnedOff(t *testing.T) {
	s := serve(t, httpprovider.Options{
		Providers:      []*translation.Provider{newProvider(t, dbPath(t), false, "trans", "db")},
		VerifyInterval: -1,
	})
	var r readiness
	s.decode(s.get("/readyz"), http.StatusOK, &r)
	if r.Files[0].Verification != "off" {
		t.Errorf("/readyz without verification: %+v", r)
	}
	if body := string(s.get("/metrics").body); strings.Contains(body, "transdb_verif") {
		t.Errorf("verification metrics without verification")
	}
}
