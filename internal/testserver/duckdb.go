package testserver

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// DuckDB (npm @duckdb/node-api, pinned by the lock file; the platform's
// native library comes inside an npm package) is embedded here so the
// install does not depend on the test's working directory.
var (
	//go:embed duckdb/package.json
	duckdbPackageJSON []byte
	//go:embed duckdb/package-lock.json
	duckdbPackageLock []byte
	//go:embed duckdb/server.js
	duckdbServerJS []byte
)

// DuckDB is a running DuckDB engine (in memory, parquet, json and icu
// built in) in a node process, queried over its standard input and output.
// It keeps the Go test binary free of cgo. Safe for concurrent use
// (queries run one at a time).
type DuckDB struct {
	mu  sync.Mutex
	in  io.WriteCloser
	out *bufio.Reader
	p   *process
}

// DuckResult is a query's answer: column names and DuckDB types, and rows
// with every value as text (nil for NULL), the way Athena's API returns
// values.
type DuckResult struct {
	Columns []string    `json:"columns"`
	Types   []string    `json:"types"`
	Rows    [][]*string `json:"rows"`
	Error   string      `json:"error"`
}

// StartDuckDB installs @duckdb/node-api (once per machine, `npm ci` into the
// user cache directory keyed by the lock file's hash) and starts an engine,
// stopped in t.Cleanup. It needs node and npm on PATH; without them the
// test fails (or is skipped under -short).
func StartDuckDB(t testing.TB) *DuckDB {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		unavailable(t, "duckdb needs node on PATH: %v", err)
	}
	dir, err := npmInstall("duckdb", duckdbPackageJSON, duckdbPackageLock, filepath.Join("node_modules", "@duckdb", "node-api", "package.json"))
	if err != nil {
		unavailable(t, "install duckdb: %v", err)
	}
	script := filepath.Join(dir, "server.js")
	if err := os.WriteFile(script, duckdbServerJS, 0o644); err != nil {
		unavailable(t, "duckdb: %v", err)
	}
	cmd := exec.Command(node, script)
	cmd.Dir = dir
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	outPipe, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		unavailable(t, "start duckdb: %v", err)
	}
	p := &process{cmd: cmd, done: make(chan struct{})}
	go func() { p.err = cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		in.Close()
		select {
		case <-p.done:
		case <-time.After(5 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-p.done
		}
	})
	d := &DuckDB{in: in, out: bufio.NewReaderSize(outPipe, 1<<20), p: p}
	if _, err := d.Query("SELECT 1"); err != nil {
		unavailable(t, "duckdb does not answer: %v; stderr:\n%s", err, stderr.String())
	}
	return d
}

// Query runs sql (one or more statements; the last one's rows are returned).
func (d *DuckDB) Query(sql string) (*DuckResult, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	req, err := json.Marshal(map[string]string{"sql": sql})
	if err != nil {
		return nil, err
	}
	if _, err := d.in.Write(append(req, '\n')); err != nil {
		return nil, fmt.Errorf("duckdb: send: %w", err)
	}
	line, err := d.out.ReadBytes('\n')
	if err != nil {
		return nil, fmt.Errorf("duckdb: read answer: %w", err)
	}
	var r DuckResult
	if err := json.Unmarshal(line, &r); err != nil {
		return nil, fmt.Errorf("duckdb: answer %.200q: %w", line, err)
	}
	if r.Error != "" {
		return nil, fmt.Errorf("duckdb: %s", r.Error)
	}
	return &r, nil
}

// Exec runs statements and checks they succeed.
func (d *DuckDB) Exec(t testing.TB, sql string) {
	t.Helper()
	if _, err := d.Query(sql); err != nil {
		t.Fatalf("%v\nin: %s", err, sql)
	}
}

// npmInstall runs `npm ci` for the given package.json and lock file into
// <user cache>/iamwatch-testserver/<name>-<lock hash> unless already done
// (check is a path inside that proves it), and returns the directory. An
// exclusive file lock keeps concurrent test binaries from installing twice;
// the install goes to a temporary directory renamed into place.
func npmInstall(name string, pkg, lock []byte, check string) (string, error) {
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	sum := sha256.Sum256(lock)
	base := filepath.Join(cache, "iamwatch-testserver")
	dir := filepath.Join(base, name+"-"+hex.EncodeToString(sum[:6]))
	if _, err := os.Stat(filepath.Join(dir, check)); err == nil {
		return dir, nil
	}
	if err := os.MkdirAll(base, 0o755); err != nil {
		return "", err
	}
	lf, err := os.OpenFile(filepath.Join(base, name+".lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return "", err
	}
	defer lf.Close()
	if err := syscall.Flock(int(lf.Fd()), syscall.LOCK_EX); err != nil {
		return "", fmt.Errorf("lock %s: %w", lf.Name(), err)
	}
	defer syscall.Flock(int(lf.Fd()), syscall.LOCK_UN) //nolint:errcheck // closing releases it too.
	if _, err := os.Stat(filepath.Join(dir, check)); err == nil {
		return dir, nil
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
	for n, b := range map[string][]byte{"package.json": pkg, "package-lock.json": lock} {
		if err := os.WriteFile(filepath.Join(tmp, n), b, 0o644); err != nil {
			return "", err
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund", "--loglevel=error")
	cmd.Dir = tmp
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("npm ci in %s: %w: %s", tmp, err, strings.TrimSpace(out.String()))
	}
	if err := os.Rename(tmp, dir); err != nil && !errors.Is(err, os.ErrExist) {
		return "", fmt.Errorf("install %s: %w", name, err)
	}
	if _, err := os.Stat(filepath.Join(dir, check)); err != nil {
		return "", fmt.Errorf("after npm ci: %w", err)
	}
	return dir, nil
}
