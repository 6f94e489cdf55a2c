package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The deployment files in conf/: the systemd unit and the logrotate
// configuration.

func TestSystemdUnitVerifies(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze is not installed: conf/transdbd.service is not verified")
	}
	unit, err := os.ReadFile(filepath.Join("..", "..", "conf", "transdbd.service"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(unit)
	for _, want := range []string{"DynamicUser=yes", "ProtectSystem=strict",
		"ReadWritePaths=/var/lib/transdb /var/log/transdb", "ExecReload=/bin/kill -HUP $MAINPID", "Restart=on-failure"} {
		if !strings.Contains(text, "\n"+want+"\n") {
			t.Errorf("the unit lacks %q", want)
		}
	}
	// systemd-analyze wants the binary of ExecStart to exist: the copy
	// verified names the one built for the tests instead of
	// /usr/local/bin/transdbd, and is otherwise the shipped unit.
	const exec0 = "ExecStart=/usr/local/bin/transdbd "
	if !strings.Contains(text, "\n"+exec0) {
		t.Fatalf("the unit has no %q line", exec0)
	}
	text = strings.Replace(text, exec0, "ExecStart="+binary+" ", 1)
	path := writeFile(t, t.TempDir(), "transdbd.service", text)
	out, err := exec.Command(analyze, "verify", "--man=no", path).CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}

func TestLogrotateKeepsEveryLine(t *testing.T) {
	logrotate, err := exec.LookPath("logrotate")
	if err != nil {
		for _, p := range []string{"/usr/sbin/logrotate", "/sbin/logrotate"} {
			if _, err2 := os.Stat(p); err2 == nil {
				logrotate, err = p, nil
			}
		}
	}
	if err != nil {
		msg := "!!! LOGROTATE IS NOT INSTALLED: conf/transdbd.logrotate is NOT TESTED (.ci/run installs the Debian package logrotate) !!!"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	dir := t.TempDir()
	logDir := filepath.Join(dir, "log")
	dataDir := filepath.Join(dir, "data")
	for _, d := range []string{logDir, dataDir} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	db := filepath.Join(dataDir, "trans.mmdb")
	d := startDaemon(t, []string{"TRANSDB_ADMIN_TOKEN=s3cret"}, "serve", "-config",
		config(t, db, false, "AdminToken ${TRANSDB_ADMIN_TOKEN}", "AccessLog "+logDir))
	accessLog := filepath.Join(logDir, fmt.Sprintf("access_%d.log", d.cmd.Process.Pid))
	journal := db + ".journal"

	// traffic makes n requests and n commits, each marked with its own
	// uri, and waits until their lines are written.
	traffic := func(from, n int) {
		t.Helper()
		for i := from; i < from+n; i++ {
			if code, body := d.get(t, fmt.Sprintf("/v1/fetch?key=front&uri=/mark%d", i)); code != 200 {
				t.Fatalf("fetch: %d %s", code, body)
			}
			body := fmt.Sprintf(`{"ops":[{"op":"insert","key":"front","uri":"/mark%d","block":0,"order":0,"action":"Done"}]}`, i)
			if code, out := request(t, "POST", d.base+"/v1/txn", "s3cret", body); code != 200 {
				t.Fatalf("txn: %d %s", code, out)
			}
		}
	}
	traffic(0, 5)

	// The shipped file, with the test's directories, and the signal sent
	// to the test's daemon instead of through systemd.
	conf, err := os.ReadFile(filepath.Join("..", "..", "conf", "transdbd.logrotate"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(conf)
	for _, r := range [][2]string{
		{"/var/log/transdb/", logDir + "/"},
		{"/var/lib/transdb/", dataDir + "/"},
		{"systemctl kill --signal=HUP --kill-whom=main transdbd.service", fmt.Sprintf("kill -HUP %d", d.cmd.Process.Pid)},
	} {
		if !strings.Contains(text, r[0]) {
			t.Fatalf("conf/transdbd.logrotate has no %q", r[0])
		}
		text = strings.ReplaceAll(text, r[0], r[1])
	}
	confPath := filepath.Join(dir, "transdbd.logrotate")
	if err := os.WriteFile(confPath, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	before := d.stderr.String()
	out, err := exec.Command(logrotate, "--force", "--state", filepath.Join(dir, "state"), confPath).CombinedOutput()
	if err != nil {
		t.Fatalf("logrotate: %v\n%s", err, out)
	}
	// Wait for the daemon to have taken the signal.
	deadline := time.Now().Add(30 * time.Second)
	for strings.Count(d.stderr.String(), "SIGHUP") == strings.Count(before, "SIGHUP") {
		if time.Now().After(deadline) {
			t.Fatalf("transdbd did not log the SIGHUP:\n%s", d.stderr)
		}
		time.Sleep(10 * time.Millisecond)
	}
	traffic(5, 5)
	d.signal(t, syscall.SIGTERM)
	if code := d.wait(t); code != 0 {
		t.Fatalf("exit status %d", code)
	}

	// Per mark, the access log has the lines of the fetch (naming the
	// mark) and of the txn, the journal the line of the insert.
	for _, f := range []struct {
		name         string
		linesPerMark int
	}{{accessLog, 2}, {journal, 1}} {
		old := readLines(t, f.name+".1")
		cur := readLines(t, f.name)
		checkMarks(t, f.name+".1", old, 0, 5)
		checkMarks(t, f.name, cur, 5, 10)
		if len(old) != 5*f.linesPerMark || len(cur) != 5*f.linesPerMark {
			t.Errorf("%s: %d lines before the rotation and %d after, want %d each", f.name, len(old), len(cur), 5*f.linesPerMark)
		}
	}
}

// readLines returns the lines of a file.
func readLines(t *testing.T, name string) []string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
}

// checkMarks checks that the lines name exactly the marks from..to-1, in
// order.
func checkMarks(t *testing.T, name string, lines []string, from, to int) {
	t.Helper()
	var got []string
	for _, l := range lines {
		for i := 0; i < 10; i++ {
			if strings.Contains(l, fmt.Sprintf("|/mark%d|", i)) {
				got = append(got, fmt.Sprint(i))
			}
		}
	}
	var want []string
	for i := from; i < to; i++ {
		want = append(want, fmt.Sprint(i))
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("%s holds the lines of marks %v, want %v:\n%s", name, got, want, strings.Join(lines, "\n"))
	}
}
