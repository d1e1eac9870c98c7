package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestExportSample exports the sample history twice: the first run writes
// every day (golden output), the second nothing.
func TestExportSample(t *testing.T) {
	db := sampleDB(t)
	out := filepath.Join(t.TempDir(), "parquet")
	r := runAt(t, sampleNow, nil, "export", "--db", db, "--to", out, "--by-region")
	if r.code != exitOK {
		t.Fatalf("export: exit %d\n%s", r.code, r.stderr)
	}
	goldenAt(t, "export/first.txt", strings.ReplaceAll(r.stdout, out, "OUT"))

	r = runAt(t, sampleNow.Add(time.Hour), nil, "export", "--db", db, "--to", out, "--by-region")
	if r.code != exitOK {
		t.Fatalf("second export: exit %d\n%s", r.code, r.stderr)
	}
	goldenAt(t, "export/second.txt", strings.ReplaceAll(r.stdout, out, "OUT"))
}

func TestExportUsage(t *testing.T) {
	db := sampleDB(t)
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"export", "--db", db}, exitUsage, "needs --to"},
		{[]string{"export", "--db", db, "--to", "s3://"}, exitUsage, "bad S3 location"},
		{[]string{"export", "--db", db, "--to", t.TempDir(), "--since", "nonsense"}, exitUsage, "--since"},
		{[]string{"export", "--db", filepath.Join(t.TempDir(), "none.db"), "--to", t.TempDir()}, exitError, "no database"},
	} {
		r := runAt(t, sampleNow, nil, tc.args...)
		if r.code != tc.code || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tc.args, r.code, r.stderr, tc.code, tc.want)
		}
	}
}
