package proxies

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// startNginx starts nginx in front of the stack, serving the shipped
// nginx/transdb.conf unchanged inside a site like nginx/site.conf with
// the test's addresses, and returns the address it listens on. nginx is
// required: without it the test fails when CI=true, and is skipped
// otherwise.
func startNginx(t *testing.T, s *stack) string {
	t.Helper()
	bin := proxyBinary(t, "nginx", true)
	dir := t.TempDir()
	addr := freeAddr(t)
	user := ""
	if os.Geteuid() == 0 {
		// The workers read the document root in the test's private
		// temporary directory.
		user = "user root;"
	}
	site := fmt.Sprintf(`%s
daemon off;
worker_processes 1;
pid %[2]s/nginx.pid;
error_log %[2]s/error.log info;
events { worker_connections 256; }
http {
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log off;
    client_body_temp_path %[2]s/body;
    proxy_temp_path %[2]s/proxy;
    fastcgi_temp_path %[2]s/fastcgi;
    uwsgi_temp_path %[2]s/uwsgi;
    scgi_temp_path %[2]s/scgi;

    # As in site.conf, with the test's addresses.
    upstream transdb { server %[3]s; keepalive 32; }
    upstream backend { server %[4]s; keepalive 32; }
    server {
        listen %[5]s default_server;
        server_name www.xyz.com www.xyz.de xyz.com xyz.de;
        set $transdb_key front;
        include %[6]s;
    }
    server {
        listen %[5]s;
        server_name back.xyz.com;
        set $transdb_key back;
        include %[6]s;
    }
}
`, user, dir, s.transdbAddr, s.backendAddr, addr, shipped(t, "nginx/transdb.conf"))
	conf := writeFile(t, filepath.Join(dir, "nginx.conf"), []byte(site))
	run(t, bin, "-t", "-q", "-p", dir, "-e", filepath.Join(dir, "error.log"), "-c", conf)
	p := start(t, "nginx", bin, "-p", dir, "-e", filepath.Join(dir, "error.log"), "-c", conf)
	p.waitListening(t, addr)
	t.Cleanup(func() {
		if t.Failed() {
			b, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			t.Logf("nginx error.log:\n%s", b)
		}
	})
	return addr
}

func TestNginxServesTheExampleTable(t *testing.T) {
	s := newStack(t)
	checkExampleTable(t, s, startNginx(t, s), limits{keepsClientHeaders: true})
}
