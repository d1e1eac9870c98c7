package testserver

import (
	"bufio"
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
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
