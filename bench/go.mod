module transdb/bench

go 1.25.0

require (
	github.com/expr-lang/expr v1.17.8
	go.etcd.io/bbolt v1.5.0
	golang.org/x/sys v0.47.0
	transdb v0.0.0
)

require (
	github.com/edsrzf/mmap-go v1.2.0 // indirect
	github.com/gofrs/flock v0.13.1 // indirect
)

replace transdb => ../
