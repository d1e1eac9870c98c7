package sqlite

import (
	"database/sql"
	"flag"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "generate schema_latest.sql again from the migrations")

// TestLatestSchema: a new database, created in one step at schemaLatest,
// is the database every migration step leaves: the same tables, indexes
// and triggers with the same SQL, in the same order;
// the same pragmas and page count; no rows. (Not on the same root pages: a
// migration that rebuilds a table frees pages that auto_vacuum fills by
// moving the last tables' roots.) And schemaLatest is what the migrations
// generate now (-update writes it), so the two cannot drift apart.
func TestLatestSchema(t *testing.T) {
	dir := t.TempDir()
	stepped := filepath.Join(dir, "stepped.db")
	if err := initFile(t.Context(), stepped, "5000"); err != nil {
		t.Fatal(err)
	}
	w, err := sql.Open("sqlite", fileURI(stepped, url.Values{"_txlock": {"immediate"}, "_foreign_keys": {"1"}}))
	if err != nil {
		t.Fatal(err)
	}
	if err := (&Store{w: w}).migrateSteps(t.Context(), false); err != nil {
		t.Fatal(err)
	}
	generated := latestSchemaOf(t, w)
	w.Close()

	if *update {
		if err := os.WriteFile("schema_latest.sql", []byte(generated), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Skip("schema_latest.sql written: run the test again to compare the databases")
	}
	if schemaLatest != generated {
		t.Fatalf("schema_latest.sql is not what the migrations build: go test ./store/sqlite -run TestLatestSchema -update\nwant:\n%s", generated)
	}
	if latestVersion() != len(migrations) {
		t.Fatalf("schema_latest.sql is at version %d, want %d", latestVersion(), len(migrations))
	}

	created := openTest(t, filepath.Join(dir, "created.db"))
	defer created.Close()
	old := openTest(t, stepped) // as Open leaves it
	defer old.Close()
	if got, want := describe(t, created.w), describe(t, old.w); got != want {
		t.Errorf("a new database:\n%s\nafter every step:\n%s", got, want)
	}
}

// latestSchemaOf is schema_latest.sql for a database at the latest
// version: the SQL of its tables, indexes, views and triggers in their
// order (those SQLite makes on its own left out), under a first line
// naming the version.
func latestSchemaOf(t *testing.T, db *sql.DB) string {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, latestVersionLine+`: the schema a new database is created at, in one
-- transaction. Generated from schema.sql and every migration after it by
-- go test ./store/sqlite -run TestLatestSchema -update; do not edit.
`, len(migrations))
	for _, q := range queryStrings(t, db, "SELECT sql FROM sqlite_schema WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' ORDER BY rowid") {
		b.WriteString(q + ";\n")
	}
	return b.String()
}

// describe is what two databases of the same schema and content share:
// sqlite_schema but its root pages, the pragmas the file keeps, the pages
// in use, and the rows of every table.
func describe(t *testing.T, db *sql.DB) string {
	t.Helper()
	var b strings.Builder
	rows, err := db.Query("SELECT type, name, tbl_name, coalesce(sql, '') FROM sqlite_schema ORDER BY rowid")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var tables []string
	for rows.Next() {
		var typ, name, table, q string
		if err := rows.Scan(&typ, &name, &table, &q); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s %s on %s: %s\n", typ, name, table, q)
		if typ == "table" {
			tables = append(tables, name)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	// Not schema_version: it counts the changes made, not what they made.
	for _, p := range []string{"user_version", "application_id", "encoding", "page_size", "page_count", "freelist_count", "auto_vacuum", "journal_mode"} {
		fmt.Fprintf(&b, "%s = %s\n", p, queryStrings(t, db, "PRAGMA "+p))
	}
	for _, table := range tables {
		fmt.Fprintf(&b, "%s: %s rows\n", table, queryStrings(t, db, fmt.Sprintf("SELECT count(*) FROM %q", table)))
	}
	return b.String()
}
