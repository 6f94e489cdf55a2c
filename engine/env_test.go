package engine

import "testing"

// TestHostnameIsFoundOnce: a run scans the headers for the host name at
// its first read only, since a table may read $HOSTNAME thousands of
// times in a request of thousands of headers.
func TestHostnameIsFoundOnce(t *testing.T) {
	r := &run{req: Request{Header: []Header{{Name: "X", Value: "1"}, {Name: "host", Value: "a.example:81"}}}}
	if h := r.hostname(); h != "a.example" {
		t.Fatalf("hostname %q", h)
	}
	r.req.Header[1].Value = "b.example"
	if h := r.hostname(); h != "a.example" || r.read.mask&readHostname == 0 {
		t.Fatalf("hostname %q at the second read, mask %b: the headers were scanned again", h, r.read.mask)
	}
}
