//go:build !amd64

package mmapdb

// prefetch is a no-op where no prefetch instruction is wired up.
func prefetch(p *byte, n uintptr) {}
