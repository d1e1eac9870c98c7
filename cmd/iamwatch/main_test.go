package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/spf13/cobra"
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

// TestUsageArgs: an argument check's error is a usage error (exit 2)
// whatever its wording, in subcommands too; a usage error stays one.
func TestUsageArgs(t *testing.T) {
	root := &cobra.Command{Use: "x", SilenceErrors: true, SilenceUsage: true}
	sub := &cobra.Command{Use: "sub", Args: func(*cobra.Command, []string) error { return errors.New("no such thing") }, RunE: func(*cobra.Command, []string) error { return nil }}
	own := &cobra.Command{Use: "own", Args: func(*cobra.Command, []string) error { return usageErrorf("ours") }, RunE: func(*cobra.Command, []string) error { return nil }}
	root.AddCommand(sub, own)
	usageArgs(root)
	for _, args := range [][]string{{"sub"}, {"own"}} {
		root.SetArgs(args)
		err := root.Execute()
		var ce *exitCodeError
		if !errors.As(err, &ce) || ce.code != exitUsage {
			t.Errorf("%v: %v, want a usage error", args, err)
		}
	}
}

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
		// cobra's checks whatever their wording, and ours.
		{[]string{"events", "extra"}, exitUsage, "unknown command"},
		{[]string{"rules", "show", "a", "b"}, exitUsage, "one rule ID"},
		{[]string{"init", "a", "b"}, exitUsage, "accepts at most 1 arg"},
		{[]string{"deploy", "extra"}, exitUsage, "unexpected argument"},
	}
	for _, c := range cases {
		r := runCLI(t, "", nil, c.args...)
		if r.code != c.code || !strings.Contains(r.stdout+r.stderr, c.want) {
			t.Errorf("%v: exit %d, output %q; want exit %d and %q", c.args, r.code, r.stdout+r.stderr, c.code, c.want)
		}
	}
}
