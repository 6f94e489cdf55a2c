package conf

import (
	"bytes"
	_ "embed"
	"os"
)

// defaultName is the file name that errors in the embedded default
// configuration carry.
const defaultName = "default.conf"

//go:embed default.conf
var defaultSource []byte

// Default parses the embedded default configuration, expanding ${VAR}
// from the process environment. Its provider's Root is
// ${TRANSDB_DATA}: set that variable to the data directory before
// calling Default; when it is unset the database file is relative to the
// working directory.
func Default() (*Config, error) {
	return Parse(bytes.NewReader(defaultSource), defaultName, os.LookupEnv)
}
