package main

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// result is one run of the CLI.
type result struct {
	code           int
	stdout, stderr string
}

// runCLI runs the command line with an environment of the test's own: no
// variable of the real process leaks in.
func runCLI(t *testing.T, stdin string, env map[string]string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	getenv := func(k string) string { return env[k] }
	code := run(context.Background(), args, getenv, strings.NewReader(stdin), &out, &errb)
	return result{code, out.String(), errb.String()}
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (run go test -update after checking):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

var (
	tookLine   = regexp.MustCompile(`Took [^\n]*`)
	jsonTiming = regexp.MustCompile(`"seconds":[0-9.e+-]+,"records_per_second":[0-9.e+-]+`)
)

// stable removes what changes from run to run: timings.
func stable(s string) string {
	s = tookLine.ReplaceAllString(s, "Took (elapsed)")
	return jsonTiming.ReplaceAllString(s, `"seconds":0,"records_per_second":0`)
}

func tempDB(t *testing.T) string { return filepath.Join(t.TempDir(), "test.db") }
