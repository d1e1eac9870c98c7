// Package testserver starts real servers on 127.0.0.1 for tests: one file
// per server (mailpit.go, goaws.go, …), each a function taking a
// [testing.TB] that starts the server, waits until it accepts connections and
// stops it in t.Cleanup.
//
// Servers that are Go programs are tool dependencies of the module (see the
// tool block in go.mod) and are found with `go tool -n NAME` run from the
// module root, so `go test ./...` works on a fresh machine with nothing
// installed by hand. When a server cannot be built or started the test fails
// with the reason, except under `go test -short`, where it is skipped.
//
// Nothing here is safe to call from production code; it exists for tests.
package testserver
