package replica

import (
	"fmt"
	"path/filepath"
	"strconv"

	"github.com/nats-io/nats.go/jetstream"

	"transdb/mmapdb"
)

// The metadata of an object: the generation and the body checksum of
// the version it holds.
const (
	metaGeneration = "transdb-generation"
	metaChecksum   = "transdb-checksum"
)

// objectName returns the name of the object of a database file: its
// base name.
func objectName(file string) string { return filepath.Base(file) }

// objectMeta returns the metadata of the object holding a version.
func objectMeta(name string, generation uint64, checksum uint32) jetstream.ObjectMeta {
	return jetstream.ObjectMeta{
		Name:        name,
		Description: fmt.Sprintf("transdb database file, generation %d", generation),
		Metadata: map[string]string{
			metaGeneration: strconv.FormatUint(generation, 10),
			metaChecksum:   fmt.Sprintf("%08x", checksum),
		},
		Opts: &jetstream.ObjectMetaOptions{ChunkSize: chunkSize},
	}
}

// version is what an object's metadata says of the version it holds.
type version struct {
	generation uint64
	checksum   uint32
}

// versionOf reads the metadata of an object.
func versionOf(info *jetstream.ObjectInfo) (version, error) {
	g, err := strconv.ParseUint(info.Metadata[metaGeneration], 10, 64)
	if err != nil {
		return version{}, fmt.Errorf("object %s has no %s in its metadata", info.Name, metaGeneration)
	}
	c, err := strconv.ParseUint(info.Metadata[metaChecksum], 16, 32)
	if err != nil || len(info.Metadata[metaChecksum]) != 8 {
		return version{}, fmt.Errorf("object %s has no %s in its metadata", info.Name, metaChecksum)
	}
	return version{g, uint32(c)}, nil
}

// matches reports how a received file differs from the version its
// object's metadata names; nil when it does not.
func (v version) matches(fi mmapdb.FileInfo) error {
	if fi.Generation != v.generation || fi.Checksum != v.checksum {
		return fmt.Errorf("the file is generation %d with checksum %08x, the metadata says %d and %08x",
			fi.Generation, fi.Checksum, v.generation, v.checksum)
	}
	return nil
}
