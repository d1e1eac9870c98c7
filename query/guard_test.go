package query_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/iamwatch/iamwatch/query"
	"github.com/iamwatch/iamwatch/store/sqlite"
)

var hostile = []struct {
	sql  string
	want string // in the message
}{
	{"SELECT 1; DROP TABLE events", "second statement"},
	{"SELECT 1;DROP TABLE events;", "second statement"},
	{"select 1 ; -- fine\n delete from events", "second statement"},
	{"DROP TABLE events", "DROP"},
	{"DELETE FROM events", "DELETE"},
	{"delete from events where 1", "DELETE"},
	{"UPDATE events SET user_name = 'x'", "UPDATE"},
	{"INSERT INTO events (event_id) VALUES ('x')", "INSERT"},
	{"REPLACE INTO alerts (dedup_key) VALUES ('x')", "REPLACE"},
	{"ATTACH 'x' AS y", "ATTACH"},
	{"ATTACH DATABASE '/tmp/evil.db' AS evil", "ATTACH"},
	{"SELECT 1 /* hide */; ATTACH 'x' AS y", "second statement"},
	{"DETACH y", "DETACH"},
	{"PRAGMA writable_schema=1", "PRAGMA"},
	{"PRAGMA journal_mode=DELETE", "PRAGMA"},
	{"pragma user_version", "PRAGMA"},
	{"WITH x AS (DELETE FROM events RETURNING *) SELECT * FROM x", "DELETE"},
	{"WITH x AS (SELECT 1) INSERT INTO alerts SELECT * FROM x", "INSERT"},
	{"SELECT load_extension('/tmp/evil.so')", "LOAD_EXTENSION"},
	{"SELECT LOAD_EXTENSION ('x')", "LOAD_EXTENSION"},
	{"SELECT writefile('/tmp/x', 'y')", "WRITEFILE"},
	{"SELECT fts3_tokenizer('simple', x'00')", "FTS3_TOKENIZER"},
	{"/* SELECT */ DELETE FROM events", "DELETE"},
	{"-- SELECT\nDELETE FROM events", "DELETE"},
	{"SELECT 1 -- \n; DELETE FROM events", "second statement"},
	{"SELECT 'a'';DROP TABLE events;--' ; DROP TABLE x", "second statement"},
	{"EXPLAIN DELETE FROM events", "DELETE"},
	{"VACUUM", "VACUUM"},
	{"VACUUM INTO '/tmp/copy.db'", "VACUUM"},
	{"CREATE TABLE x (a)", "CREATE"},
	{"CREATE TEMP TRIGGER t AFTER INSERT ON events BEGIN SELECT 1; END", "CREATE"},
	{"BEGIN; SELECT 1", "BEGIN"},
	{"ANALYZE", "ANALYZE"},
	{"REINDEX events", "REINDEX"},
	{"SELECT 'unterminated", "unterminated"},
	{"", "empty"},
	{"   -- just a comment", "empty"},
	{"SAVEPOINT a", "SAVEPOINT"},
	{"ALTER TABLE events ADD COLUMN x", "ALTER"},
	{"SELECT 1 FROM events WHERE event_id = \"x\"; DROP TABLE events", "second statement"},
	{"VALUES (1); UPDATE events SET raw = NULL", "second statement"},
	{"SHOW TABLES", "starts with SHOW"},
}

func TestCheckReadOnlyRefuses(t *testing.T) {
	for _, tc := range hostile {
		err := query.CheckReadOnly(tc.sql)
		if err == nil || !errors.Is(err, query.ErrRefused) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("CheckReadOnly(%q) = %v, want ErrRefused mentioning %q", tc.sql, err, tc.want)
		}
	}
}

func TestCheckReadOnlyAccepts(t *testing.T) {
	for _, sql := range []string{
		"SELECT 1",
		"SELECT 1;",
		"select count(*) from events;  -- trailing comment",
		"SELECT replace(user_name, 'a', 'b') FROM events",
		"SELECT * FROM events WHERE event_name = 'DeleteUser' OR event_name = 'DROP TABLE x; ATTACH'",
		`SELECT "delete" FROM (SELECT 1 AS "delete")`,
		"WITH x AS (SELECT event_name FROM events) SELECT * FROM x",
		"WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 5) SELECT n FROM c",
		"EXPLAIN QUERY PLAN SELECT * FROM events WHERE user_name = 'alice'",
		"VALUES (1), (2)",
		"(SELECT 1) UNION (SELECT 2)",
		"SELECT CASE WHEN 1 THEN 'a' END",
		"SELECT 1 /* unterminated comment hides nothing",
		"SELECT severity_name FROM alerts ORDER BY time DESC",
	} {
		if err := query.CheckReadOnly(sql); err != nil {
			t.Errorf("CheckReadOnly(%q) = %v, want nil", sql, err)
		}
	}
}

// TestRunSQL runs ad-hoc SQL on a read-only connection: the guard refuses
// hostile input with its message, and the authorizer refuses whatever the
// guard lets through; the database is unchanged afterwards.
func TestRunSQL(t *testing.T) {
	_, path := fixtureDB(t)
	ctx := context.Background()
	db, err := sqlite.OpenReadOnly(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	res, err := query.RunSQL(ctx, db, "SELECT user_name, count(*) AS n FROM events GROUP BY user_name ORDER BY n DESC, user_name LIMIT 2", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rows) != 2 || res.Rows[0][0] != "alice" || res.Rows[0][1] != int64(12) {
		t.Errorf("rows = %v", res.Rows)
	}
	res, err = query.RunSQL(ctx, db, "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c) SELECT n FROM c", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rows) != 10 || !res.Truncated {
		t.Errorf("endless query: %d rows, truncated %v; want 10, true", len(res.Rows), res.Truncated)
	}
	for _, tc := range hostile {
		if _, err := query.RunSQL(ctx, db, tc.sql, 0); err == nil {
			t.Errorf("RunSQL(%q) succeeded", tc.sql)
		}
	}
	var n int
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM events").Scan(&n); err != nil || n != 35 {
		t.Errorf("events after hostile SQL: %d, %v; want 35", n, err)
	}
	for _, sql := range []string{"DELETE FROM events", "ATTACH 'x.db' AS y", "PRAGMA writable_schema=1", "CREATE TABLE x(a)"} {
		if _, err := db.ExecContext(ctx, sql); err == nil {
			t.Errorf("read-only connection ran %q", sql)
		}
	}
}

// FuzzCheckReadOnly: the guard never panics, and nothing it accepts changes
// the database when run on the read-only connection (the schema and the
// events stay as they were).
func FuzzCheckReadOnly(f *testing.F) {
	for _, tc := range hostile {
		f.Add(tc.sql)
	}
	f.Add("SELECT 1")
	f.Add("SELECT 'x' -- y\n")
	f.Add("SELECT * FROM events LIMIT 3")
	_, path := fixtureDB(f)
	ctx := context.Background()
	db, err := sqlite.OpenReadOnly(ctx, path)
	if err != nil {
		f.Fatal(err)
	}
	defer db.Close()
	state := func() string {
		var schema string
		var n int
		if err := db.QueryRowContext(ctx, "SELECT group_concat(sql, ';') FROM sqlite_master").Scan(&schema); err != nil {
			f.Fatal(err)
		}
		if err := db.QueryRowContext(ctx, "SELECT count(*) FROM events").Scan(&n); err != nil {
			f.Fatal(err)
		}
		return fmt.Sprint(n, schema)
	}
	before := state()
	f.Fuzz(func(t *testing.T, sql string) {
		if query.CheckReadOnly(sql) != nil {
			return
		}
		ctx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		_, _ = query.RunSQL(ctx, db, sql, 10) // refused or not, it must not change the database
		if after := state(); after != before {
			t.Fatalf("%q changed the database", sql)
		}
	})
}
