package testserver

import (
	"bytes"
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
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
// first if this lock file was never installed. An exclusive file lock keeps
// concurrent test binaries from installing twice; the install goes to a
// temporary directory renamed into place, so a killed install leaves nothing
// half-done behind.
func installDynalite() (string, error) {
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	sum := sha256.Sum256(dynalitePackageLock)
	base := filepath.Join(cache, "iamwatch-testserver")
	dir := filepath.Join(base, "dynalite-"+hex.EncodeToString(sum[:6]))
	cli := filepath.Join(dir, "node_modules", "dynalite", "cli.js")
	if _, err := os.Stat(cli); err == nil {
		return cli, nil
	}
	if err := os.MkdirAll(base, 0o755); err != nil {
		return "", err
	}
	lock, err := os.OpenFile(filepath.Join(base, "dynalite.lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return "", err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return "", fmt.Errorf("lock %s: %w", lock.Name(), err)
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN) //nolint:errcheck // closing releases it too.
	if _, err := os.Stat(cli); err == nil {
		return cli, nil // another process installed it while we waited.
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		return "", fmt.Errorf("npm is not on PATH: %w", err)
	}
	tmp, err := os.MkdirTemp(base, "install-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	for name, b := range map[string][]byte{"package.json": dynalitePackageJSON, "package-lock.json": dynalitePackageLock} {
		if err := os.WriteFile(filepath.Join(tmp, name), b, 0o644); err != nil {
			return "", err
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	// --ignore-scripts: the only install script is classic-level's native
	// build, which the in-memory emulator never loads.
	cmd := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error")
	cmd.Dir = tmp
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("npm ci in %s: %w: %s", tmp, err, strings.TrimSpace(out.String()))
	}
	if err := os.Rename(tmp, dir); err != nil && !errors.Is(err, os.ErrExist) {
		return "", fmt.Errorf("install dynalite: %w", err)
	}
	if _, err := os.Stat(cli); err != nil {
		return "", fmt.Errorf("after npm ci: %w", err)
	}
	return cli, nil
}
