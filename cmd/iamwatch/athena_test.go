package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/iamwatch/iamwatch/internal/testserver"
)

func TestAthenaDDL(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"ddl.sql", []string{"athena", "ddl", "--location", "s3://my-analytics/iamwatch"}},
		{"ddl_workgroup.sql", []string{"athena", "ddl", "--location", "s3://my-analytics/iamwatch/", "--by-region",
			"--database", "audit", "--result-location", "s3://my-athena-results/iamwatch"}},
	} {
		r := runAt(t, sampleNow, nil, tc.args...)
		if r.code != exitOK {
			t.Fatalf("%v: exit %d\n%s", tc.args, r.code, r.stderr)
		}
		goldenAt(t, filepath.Join("athena", tc.name), r.stdout)
	}
	r := runAt(t, sampleNow, nil, "athena", "ddl", "--location", "s3://x'y/z")
	if r.code != exitUsage || !strings.Contains(r.stderr, "location") {
		t.Errorf("bad location: exit %d, %s", r.code, r.stderr)
	}
}

// athenaEnv points the SDK at the Athena test server.
func athenaEnv(t *testing.T, url string) {
	t.Setenv("AWS_ENDPOINT_URL_ATHENA", url)
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIAFAKE111122223333")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
}

func TestQueryEngineAthena(t *testing.T) {
	s := func(v string) *string { return &v }
	var seen []testserver.AthenaQuery
	srv := testserver.StartAthena(t, func(_ context.Context, q testserver.AthenaQuery) testserver.AthenaAnswer {
		seen = append(seen, q)
		if strings.Contains(q.SQL, "identity_type = 'Root'") {
			return testserver.AthenaAnswer{Fail: "HIVE_BAD_DATA: malformed \x1b[31mParquet\x1b[0m file"}
		}
		return testserver.AthenaAnswer{
			Columns: []testserver.AthenaColumn{{Name: "user_name", Type: "varchar"}, {Name: "events", Type: "bigint"},
				{Name: "distinct_actions", Type: "bigint"}, {Name: "errors", Type: "bigint"}, {Name: "error_rate", Type: "double"},
				{Name: "first_seen", Type: "varchar"}, {Name: "last_seen", Type: "varchar"}},
			Rows: [][]*string{
				{s("alice"), s("12"), s("3"), s("1"), s("8.3"), s("2025-03-10T08:00:00Z"), s("2025-03-12T17:00:00Z")},
				{s("bob\x1b[2J"), s("2"), s("1"), s("0"), s("0.0"), s("2025-03-11T08:00:00Z"), nil},
			},
			DataScanned: 3 << 20,
		}
	})
	athenaEnv(t, srv.URL)

	r := runAt(t, sampleNow, nil, "query", "active_users", "--engine", "athena", "--workgroup", "wg", "--database", "audit",
		"--output-location", "s3://res/q/", "-o", "json", "--since", "2025-03-10")
	if r.code != exitOK {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	goldenAt(t, "athena/active_users.json", r.stdout)
	if !strings.Contains(r.stderr, "scanned 3.0 MiB (billed 10.0 MiB), about $0.000048 at $5 per TB") {
		t.Errorf("stderr %q: want the data scanned and the cost", r.stderr)
	}
	sqlText := runAt(t, sampleNow, nil, "query", "active_users", "--print-sql", "athena", "--since", "2025-03-10").stdout
	if len(seen) != 1 || seen[0].SQL+"\n" != sqlText || seen[0].Workgroup != "wg" || seen[0].Database != "audit" || seen[0].OutputLocation != "s3://res/q/" {
		t.Errorf("Athena was asked %+v; want the --print-sql athena text:\n%s", seen, sqlText)
	}

	r = runAt(t, sampleNow, nil, "query", "active_users", "--engine", "athena")
	if r.code != exitOK || !strings.Contains(r.stdout, `bob\x1b[2J`) || strings.Contains(r.stdout, "\x1b[2J") {
		t.Errorf("table: exit %d, untrusted text not escaped:\n%s", r.code, r.stdout)
	}

	r = runAt(t, sampleNow, nil, "query", "root_usage", "--engine", "athena")
	if r.code != exitError || !strings.Contains(r.stderr, "failed: HIVE_BAD_DATA") || strings.Contains(r.stderr, "\x1b[31m") {
		t.Errorf("failed query: exit %d, stderr %q", r.code, r.stderr)
	}

	for _, args := range [][]string{
		{"query", "active_users", "--engine", "oracle"},
		{"query", "--sql", "SELECT 1", "--engine", "athena"},
		{"query", "active_users", "--engine", "athena", "--output-location", "/tmp"},
	} {
		if r := runAt(t, sampleNow, nil, args...); r.code != exitUsage {
			t.Errorf("%v: exit %d, want %d\n%s", args, r.code, exitUsage, r.stderr)
		}
	}
}
