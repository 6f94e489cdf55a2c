package mmapdb

// prefetch asks the CPU to load the cache lines of the n bytes at p. It
// only hints: it never faults and changes no memory.
//
//go:noescape
func prefetch(p *byte, n uintptr)
