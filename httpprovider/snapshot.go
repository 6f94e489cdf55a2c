package httpprovider

import (
	"fmt"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"

	"transdb/translation"
)

// headCopy is how much of the file the snapshot endpoint copies before
// it checks the valid flag: the header, which holds the flag, with room
// to spare.
const headCopy = 4096

// etag returns the entity tag of a version: its generation and body
// checksum, which together tell versions of a file apart.
func etag(snap *translation.Snapshot) string {
	return fmt.Sprintf(`"%d-%08x"`, snap.Generation(), snap.Checksum())
}

// etagMatch reports whether an If-None-Match header value matches tag,
// with the weak comparison RFC 9110 prescribes for it.
func etagMatch(header, tag string) bool {
	for part := range strings.SplitSeq(header, ",") {
		part = strings.TrimSpace(part)
		if part == "*" || strings.TrimPrefix(part, "W/") == tag {
			return true
		}
	}
	return false
}

// handleSnapshot serves GET /v1/snapshot: the database file of the
// newest version, byte for byte as published, straight from the
// mapping. Its ETag is etag(version); If-None-Match with it gives 304.
func (s *Server) handleSnapshot(x *exchange) error {
	pr, err := x.selectProvider()
	if err != nil {
		return err
	}
	snap, head, err := pinPublished(pr.p)
	if err != nil {
		return err
	}
	defer snap.Release()
	h := x.Header()
	tag := etag(snap)
	x.setGeneration(snap.Generation())
	h.Set("Etag", tag)
	h.Set("Cache-Control", "no-cache")
	if inm := x.r.Header.Get("If-None-Match"); inm != "" && etagMatch(inm, tag) {
		x.WriteHeader(http.StatusNotModified)
		return nil
	}
	data := snap.Bytes()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Content-Disposition", `attachment; filename="`+strings.ReplaceAll(filepath.Base(pr.p.Path()), `"`, "_")+`"`)
	h.Set("Content-Length", strconv.Itoa(len(data)))
	if x.r.Method == http.MethodHead {
		x.WriteHeader(http.StatusOK)
		return nil
	}
	if _, err := x.Write(head); err != nil {
		return err
	}
	_, err = x.Write(data[len(head):])
	return err
}

// pinPublished pins the newest version of p and copies the start of its
// file, header included. A committer clears the valid flag in the
// header of the version it supersedes; a copy taken while the version
// was still current has the flag set, as the file had when it was
// published. So the copy is checked after it is taken, and a version
// superseded meanwhile is given up for the next one. After a few rounds,
// or when there is no newer version to move to, the copy is served as it
// is: its flag may then be clear.
func pinPublished(p *translation.Provider) (*translation.Snapshot, []byte, error) {
	for attempt := 0; ; attempt++ {
		snap, err := p.Snapshot()
		if err != nil {
			return nil, nil, err
		}
		data := snap.Bytes()
		head := append([]byte(nil), data[:min(len(data), headCopy)]...)
		if !snap.Superseded() || attempt == 2 {
			return snap, head, nil
		}
		snap.Release()
	}
}
