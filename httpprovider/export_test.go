package httpprovider

// Hooks of the external tests.

// A Clock is the time of the backups (see clock).
type Clock = clock

// WithClock returns opts with the clock of the backups set to c.
func WithClock(opts Options, c Clock) Options {
	opts.clock = c
	return opts
}

// SettleBackups waits until no backup of the server is under way.
func (s *Server) SettleBackups() {
	for _, f := range s.files {
		if f.backups != nil {
			f.backups.settle()
		}
	}
}
