package main

import (
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
)

func TestDemoCommandHintsWorkOnTheServedTable(t *testing.T) {
	data := t.TempDir()
	d := startDaemon(t, []string{"TRANSDB_DATA=" + data}, "-listen", "127.0.0.1:0")
	d.stdout.waitFor(t, regexp.MustCompile(`-format jsonl\n`))
	hints := regexp.MustCompile(`(?m)^  transdbd (.+)$`).FindAllStringSubmatch(d.stdout.String(), -1)
	if len(hints) < 2 {
		t.Fatalf("fewer than 2 command lines:\n%s", d.stdout)
	}
	db := filepath.Join(data, "transdb-demo.mmdb")
	for _, h := range hints {
		args := strings.Fields(h[1])
		if len(args) < 3 || args[1] != "-db" || args[2] != db {
			t.Errorf("hint %q does not name the demo database %s", h[1], db)
		}
		out := ok(t, "", args...)
		if !strings.Contains(out, `"key":"front"`) {
			t.Errorf("transdbd %s: %s", h[1], out)
		}
	}
	// The command line without -basekey sees what the daemon serves.
	if _, body := d.get(t, "/v1/dump"); body != ok(t, "", "dump", "-db", db) {
		t.Errorf("GET /v1/dump differs from transdbd dump -db %s", db)
	}
	d.signal(t, syscall.SIGTERM)
	if code := d.wait(t); code != 0 {
		t.Errorf("exit status: %d", code)
	}
}

func TestDemoLoadsTheExampleWhenItsTableIsEmpty(t *testing.T) {
	data := t.TempDir()
	db := filepath.Join(data, "transdb-demo.mmdb")
	// A demo database of the days when the demo kept its table under
	// trans, db.
	table := writeFile(t, t.TempDir(), "example.txt", string(exampleTable))
	ok(t, "", "load", "-db", db, "-basekey", "[qw/trans db/]", table)

	d := startDaemon(t, []string{"TRANSDB_DATA=" + data}, "-listen", "127.0.0.1:0")
	d.stdout.waitFor(t, regexp.MustCompile(`-format jsonl\n`))
	want := "transdbd: loaded the example table into the empty table of the demo database " + db + " (generation 2, 13 records)\n"
	if !strings.Contains(d.stdout.String(), want) {
		t.Errorf("output lacks %q:\n%s", want, d.stdout)
	}
	if _, body := d.get(t, "/v1/stats"); !strings.Contains(body, `"records":13,`) {
		t.Errorf("stats: %s", body)
	}
	d.signal(t, syscall.SIGTERM)
	if code := d.wait(t); code != 0 {
		t.Errorf("exit status: %d", code)
	}
	if out := ok(t, "", "stats", "-db", db, "-basekey", "trans", "-basekey", "db"); !strings.Contains(out, `"records":13,`) {
		t.Errorf("the old table is gone: %s", out)
	}
}

func TestDemoServesTheAdminPageWithAPrintedToken(t *testing.T) {
	for _, tt := range []struct {
		name string
		env  []string
	}{
		{"made-up token", nil},
		{"token from the environment", []string{"TRANSDB_ADMIN_TOKEN=chosen-token"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d := startDaemon(t, append([]string{"TRANSDB_DATA=" + t.TempDir()}, tt.env...), "-listen", "127.0.0.1:0")
			line := d.stdout.waitFor(t, regexp.MustCompile(`The admin page: (\S+) \(AdminToken (\S+), ([^)]*)\)\n`))
			if line[1] != d.base+"/admin/" {
				t.Errorf("admin page at %s, want %s/admin/", line[1], d.base)
			}
			token := line[2]
			if tt.env != nil && (token != "chosen-token" || line[3] != "from $TRANSDB_ADMIN_TOKEN") ||
				tt.env == nil && (len(token) != 32 || !strings.Contains(line[3], "set TRANSDB_ADMIN_TOKEN")) {
				t.Errorf("token line %q", line[0])
			}
			if status, body := d.get(t, "/admin/"); status != 200 || !strings.Contains(body, "admin.js") {
				t.Errorf("GET /admin/: %d", status)
			}
			body := `{"ops":[{"op":"insert","key":"front","uri":"/new","block":0,"order":0,"action":"Done"}]}`
			if status, _ := request(t, "POST", d.base+"/v1/txn", "wrong", body); status != 401 {
				t.Errorf("txn with a wrong token: %d", status)
			}
			if status, resp := request(t, "POST", d.base+"/v1/txn", token, body); status != 200 {
				t.Errorf("txn with the printed token: %d %s", status, resp)
			}
			d.signal(t, syscall.SIGTERM)
			if code := d.wait(t); code != 0 {
				t.Errorf("exit status: %d", code)
			}
		})
	}
}
