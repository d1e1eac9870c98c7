package testserver

import (
	_ "embed"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
)

// The npm package that pins dynalite and its dependencies. They are
// embedded so the install does not depend on the test's working directory.
var (
	//go:embed dynalite/package.json
	dynalitePackageJSON []byte
	//go:embed dynalite/package-lock.json
	dynalitePackageLock []byte
)

// Dynalite is a running dynalite (npm dynalite 4.0.0), a DynamoDB emulator
// kept in memory. It speaks the DynamoDB JSON protocol; point the SDK at it
// with BaseEndpoint and any static credentials. It has no TTL API
// (UpdateTimeToLive) and no transactions.
type Dynalite struct {
	Endpoint string // e.g. http://127.0.0.1:1234.
	Region   string // us-east-1: dynalite accepts any region.
}

// StartDynalite installs dynalite (once per machine, with `npm ci` into the
// user cache directory, keyed by the lock file's hash) and starts it on
// 127.0.0.1 on a free port with tables ready at once (no CREATING delay),
// and stops it in t.Cleanup. It needs node and npm on PATH; without them the
// test fails (or is skipped under -short).
func StartDynalite(t testing.TB) *Dynalite {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		unavailable(t, "dynalite needs node on PATH: %v", err)
	}
	cli, err := installDynalite()
	if err != nil {
		unavailable(t, "install dynalite: %v", err)
	}
	var lastErr error
	for range 2 {
		port := strconv.Itoa(FreePort(t))
		p := startProcess(t, node, cli, "--host", "127.0.0.1", "--port", port,
			"--createTableMs", "0", "--deleteTableMs", "0", "--updateTableMs", "0")
		if lastErr = p.waitTCP("127.0.0.1:" + port); lastErr == nil {
			return &Dynalite{Endpoint: "http://127.0.0.1:" + port, Region: "us-east-1"}
		}
	}
	unavailable(t, "dynalite: %v", lastErr)
	return nil
}

// installDynalite returns the path of dynalite's cli.js, running `npm ci`
// first if this lock file was never installed (see npmInstall).
// --ignore-scripts: the only install script is classic-level's native
// build, which the in-memory emulator never loads.
func installDynalite() (string, error) {
	const cli = "node_modules/dynalite/cli.js"
	dir, err := npmInstall("dynalite", dynalitePackageJSON, dynalitePackageLock, cli, "--ignore-scripts")
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, cli), nil
}
