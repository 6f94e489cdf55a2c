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
	github.com/klauspost/compress v1.18.5 // indirect
	github.com/nats-io/nats.go v1.53.0 // indirect
	github.com/nats-io/nkeys v0.4.15 // indirect
	github.com/nats-io/nuid v1.0.1 // indirect
	golang.org/x/crypto v0.49.0 // indirect
)

replace transdb => ../
