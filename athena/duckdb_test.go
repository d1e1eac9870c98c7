package athena

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/iamwatch/iamwatch/detect"
	"github.com/iamwatch/iamwatch/export"
	"github.com/iamwatch/iamwatch/internal/testserver"
	"github.com/iamwatch/iamwatch/pipeline"
	"github.com/iamwatch/iamwatch/query"
	"github.com/iamwatch/iamwatch/rules"
	"github.com/iamwatch/iamwatch/sampledata"
	"github.com/iamwatch/iamwatch/store/sqlite"
)

// duckSetup makes DuckDB read the export as Athena would: the events table
// over every Parquet file with Hive partitions typed as the DDL declares,
// Trino's integer division, the two Trino functions DuckDB names otherwise
// (json_extract_scalar, array_join), and the alerts table over the exported
// alert files (alerts/…). Nothing else of the query texts is adapted.
const duckSetup = `SET TimeZone = 'UTC';
SET integer_division = true;
CREATE MACRO json_extract_scalar(j, p) AS json_extract_string(j, p);
CREATE MACRO array_join(a, sep) AS array_to_string(a, sep);
CREATE VIEW events AS SELECT * FROM read_parquet('%[1]s/year=*/**/*.parquet', hive_partitioning = true,
	hive_types = {'year': INTEGER, 'month': INTEGER, 'day': INTEGER, 'region': VARCHAR});
CREATE VIEW alerts AS SELECT * FROM read_parquet('%[1]s/alerts/**/*.parquet', hive_partitioning = true,
	hive_types = {'year': INTEGER, 'month': INTEGER, 'day': INTEGER});`

// athenaType maps a DuckDB result type to the type name Athena reports.
func athenaType(duck string) string {
	switch t := strings.ToUpper(duck); {
	case t == "BIGINT" || t == "HUGEINT" || t == "UBIGINT":
		return "bigint"
	case t == "INTEGER" || t == "SMALLINT" || t == "TINYINT":
		return "integer"
	case t == "DOUBLE" || t == "FLOAT" || strings.HasPrefix(t, "DECIMAL"):
		return "double"
	case t == "BOOLEAN":
		return "boolean"
	}
	return "varchar"
}

// TestAthenaDialectOnDuckDB is the end-to-end check of the Athena path: the
// shipped sample is scanned into SQLite with the built-in rules (so there
// are alerts), exported as Parquet (events and alerts), and every
// named query's Athena text is run through this package's client against
// the Athena test server, whose engine is DuckDB reading the Parquet. The
// answers must equal the SQLite dialect's over the same store.
func TestAthenaDialectOnDuckDB(t *testing.T) {
	if testing.Short() {
		t.Skip("starts DuckDB (node)")
	}
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "sample.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rs, err := detect.LoadFS(rules.Builtin(), ".")
	if err != nil {
		t.Fatal(err)
	}
	engine, err := detect.New(rs, detect.Config{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := pipeline.New(st, pipeline.Options{Detector: engine})
	if err != nil {
		t.Fatal(err)
	}
	inputs, err := pipeline.FromFS(sampledata.FS(), ".")
	if err != nil {
		t.Fatal(err)
	}
	if rep, err := p.Read(ctx, inputs, pipeline.ReadOptions{}); err != nil || rep.Events == 0 || rep.NewAlerts == 0 {
		t.Fatalf("scan sample: %+v, %v", rep, err)
	}
	dir := t.TempDir()
	dst, err := export.NewDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := export.Run(ctx, st, dst, export.Options{
		Now: func() time.Time { return time.Date(2025, 3, 13, 0, 0, 0, 0, time.UTC) }, ByRegion: true, TempDir: t.TempDir(),
	})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Alerts.Alerts == 0 {
		t.Fatalf("no alerts exported: %+v", rep.Alerts)
	}

	duck := testserver.StartDuckDB(t)
	duck.Exec(t, fmt.Sprintf(duckSetup, filepath.ToSlash(dir)))
	srv := testserver.StartAthena(t, func(_ context.Context, q testserver.AthenaQuery) testserver.AthenaAnswer {
		r, err := duck.Query(q.SQL)
		if err != nil {
			return testserver.AthenaAnswer{Fail: err.Error()}
		}
		ans := testserver.AthenaAnswer{Rows: r.Rows, DataScanned: rep.Bytes}
		for i, c := range r.Columns {
			ans.Columns = append(ans.Columns, testserver.AthenaColumn{Name: c, Type: athenaType(r.Types[i])})
		}
		return ans
	})
	srv.Polls = 0
	c := fastClient(t, srv.URL, 50)

	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	top, err := query.Run(ctx, st.DB(), "active_users", query.Params{Limit: 1})
	if err != nil || len(top.Rows) == 0 {
		t.Fatalf("active_users: %v", err)
	}
	user := top.Rows[0][0].(string)
	params := []struct {
		name string
		p    query.Params
	}{
		{"all", query.Params{Limit: -1}},
		{"range", query.Params{Limit: -1, Since: time.Date(2025, 3, 11, 6, 30, 0, 0, time.UTC), Until: time.Date(2025, 3, 12, 12, 0, 0, 0, time.UTC)}},
		{"user", query.Params{Limit: -1, User: user}},
		{"account", query.Params{Limit: -1, Account: "444455556666"}},
		{"paris", query.Params{Limit: -1, Location: paris, Weekends: true, BusinessStart: 8 * time.Hour, BusinessEnd: 19 * time.Hour}},
		{"limit", query.Params{Limit: 3}},
	}
	nonEmpty := map[string]bool{}
	summaryAlerts := 0.0 // daily_summary's alerts column, summed over all runs.
	for _, q := range query.All() {
		for _, ps := range params {
			if q.NeedsUser && ps.p.User == "" {
				ps.p.User = user
			}
			t.Run(q.Name+"/"+ps.name, func(t *testing.T) {
				want, err := query.Run(ctx, st.DB(), q.Name, ps.p)
				if err != nil {
					t.Fatal(err)
				}
				stmt, err := q.Statement(query.Athena, ps.p)
				if err != nil {
					t.Fatal(err)
				}
				got, stats, err := c.Query(ctx, stmt.Inline(), stmt.Limit)
				if err != nil {
					t.Fatalf("%v\n%s", err, stmt.Inline())
				}
				if stats.DataScanned != rep.Bytes {
					t.Errorf("data scanned %d, want %d", stats.DataScanned, rep.Bytes)
				}
				if !reflect.DeepEqual(got.Columns, want.Columns) {
					t.Fatalf("columns %v, want %v", got.Columns, want.Columns)
				}
				if got.Truncated != want.Truncated || len(got.Rows) != len(want.Rows) {
					t.Fatalf("%d rows (truncated %v), SQLite %d (truncated %v)", len(got.Rows), got.Truncated, len(want.Rows), want.Truncated)
				}
				for i := range want.Rows {
					for j := range want.Columns {
						if g, w := canonical(got.Rows[i][j]), canonical(want.Rows[i][j]); g != w {
							t.Errorf("row %d column %s: Athena/DuckDB %q, SQLite %q", i, want.Columns[j], g, w)
						}
					}
				}
				if len(want.Rows) > 0 {
					nonEmpty[q.Name] = true
				}
				if q.Name == "daily_summary" {
					col := slices.Index(got.Columns, "alerts")
					if col < 0 {
						t.Fatalf("daily_summary has no alerts column: %v", got.Columns)
					}
					for _, r := range got.Rows {
						var n float64
						if _, err := fmt.Sscan(canonical(r[col]), &n); err != nil {
							t.Fatalf("alerts %v: %v", r[col], err)
						}
						summaryAlerts += n
					}
				}
			})
		}
	}
	// The comparison means something only where there was something to compare.
	if summaryAlerts == 0 {
		t.Error("daily_summary counted no alerts for any parameters: the alerts table was not compared")
	}
	for _, q := range query.All() {
		if !nonEmpty[q.Name] {
			t.Errorf("query %s returned no rows for any parameters on the sample", q.Name)
		}
	}
	if os.Getenv("IAMWATCH_SHOW_SQL") != "" {
		t.Log(srv.Requests())
	}
}

// canonical writes a value so that an integer and a float of the same
// number compare equal (SQLite and Athena differ in which they return for
// a whole-number double), and NULL differs from "".
func canonical(v any) string {
	switch v := v.(type) {
	case nil:
		return "NULL"
	case int64:
		return fmt.Sprintf("%g", float64(v))
	case float64:
		return fmt.Sprintf("%g", v)
	}
	return fmt.Sprintf("%q", v)
}
