package main

import (
	"bytes"
	"context"
	"flag"
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
	goldenAt(t, name, got)
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

func TestRootExitCodes(t *testing.T) {
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"version"}, exitOK, "iamwatch "},
		{[]string{"frobnicate"}, exitUsage, "unknown command"},
		{[]string{"version", "extra"}, exitUsage, "unknown command"},
		{[]string{"--no-such-flag"}, exitUsage, "unknown flag"},
		{[]string{"show"}, exitUsage, "accepts 1 arg"},
	}
	for _, c := range cases {
		r := runCLI(t, "", nil, c.args...)
		if r.code != c.code || !strings.Contains(r.stdout+r.stderr, c.want) {
			t.Errorf("%v: exit %d, output %q; want exit %d and %q", c.args, r.code, r.stdout+r.stderr, c.code, c.want)
		}
	}
}
