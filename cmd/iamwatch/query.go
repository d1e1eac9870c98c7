package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/iamwatch/iamwatch/query"
	"github.com/iamwatch/iamwatch/store/sqlite"
)

type queryFlags struct {
	db       string
	rng      rangeFlags
	user     string
	account  string
	limit    int
	list     bool
	sql      string
	hours    string
	weekends bool
	printSQL string
	timeout  time.Duration
	out      outputFlags
	athena   athenaFlags // --engine athena and its settings (athena.go).
}

func newQueryCmd(e *env) *cobra.Command {
	var f queryFlags
	cmd := &cobra.Command{
		Use:   "query NAME | --list | --sql STATEMENT",
		Short: "Ask the stored history a pre-built question, or run read-only SQL",
		Long: `Query runs one of the pre-built queries over the stored history (--list names
them), or one ad-hoc read-only SQL statement over the documented tables (--sql;
writes, ATTACH and PRAGMA are refused).

Times are shown in UTC unless --tz is given; --tz also sets the zone of
off_hours and hourly_activity. --print-sql athena prints a query's Athena
text instead of running it.`,
		Example: `  iamwatch query --list
  iamwatch query failed_auth --since 24h
  iamwatch query user_lookup --user alice --since 2026-01-01 -o json
  iamwatch query off_hours --tz Europe/Paris --business-hours 08:00-19:00 --weekends
  iamwatch query --sql "SELECT event_name, count(*) FROM events GROUP BY 1 ORDER BY 2 DESC"`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return e.query(cmd.Context(), args, f) },
	}
	fl := cmd.Flags()
	dbFlag(fl, &f.db)
	f.rng.add(fl, "7d")
	fl.StringVar(&f.user, "user", "", "only this user (user_name, exact); required by user_lookup")
	fl.StringVar(&f.account, "account", "", "only this account ID")
	fl.IntVar(&f.limit, "limit", query.DefaultLimit, "at most this many rows (0: no limit)")
	fl.BoolVar(&f.list, "list", false, "list the pre-built queries")
	fl.StringVar(&f.sql, "sql", "", "run this read-only SQL statement instead of a named query")
	fl.StringVar(&f.hours, "business-hours", "06:00-22:00", "off_hours: business hours, HH:MM-HH:MM in --tz")
	fl.BoolVar(&f.weekends, "weekends", false, "off_hours: count all Saturday and Sunday activity as off hours")
	fl.StringVar(&f.printSQL, "print-sql", "", "print the query's SQL for this dialect (sqlite or athena) instead of running it")
	fl.DurationVar(&f.timeout, "timeout", time.Minute, "--sql: stop a statement running longer than this (0: no limit; Ctrl-C still stops it)")
	f.athena.add(fl)
	f.out.add(fl)
	return cmd
}

func (e *env) query(ctx context.Context, args []string, f queryFlags) error {
	opt, err := e.options(f.out)
	if err != nil {
		return err
	}
	switch {
	case f.list && (len(args) > 0 || f.sql != ""):
		return usageErrorf("--list takes no query name and no --sql")
	case f.sql != "" && len(args) > 0:
		return usageErrorf("give a query NAME or --sql, not both")
	case f.list:
		return e.listQueries(opt)
	case f.sql != "" && f.athena.engine == "athena":
		return usageErrorf("--sql runs on the local database only; --engine athena runs named queries")
	case f.sql != "":
		return e.adhocSQL(ctx, f, opt)
	case len(args) == 0:
		return usageErrorf("query needs a NAME (one of: %s), --list or --sql", strings.Join(query.Names(), ", "))
	}
	name := args[0]
	q, ok := query.Lookup(name)
	if !ok {
		return usageErrorf("no query %q (one of: %s)", name, strings.Join(query.Names(), ", "))
	}
	if f.limit < 0 {
		return usageErrorf("--limit must be 0 or more")
	}
	p := query.Params{User: f.user, Account: f.account, Limit: f.limit, Location: opt.Location, Weekends: f.weekends}
	if f.limit == 0 {
		p.Limit = -1
	}
	if p.Since, p.Until, err = e.times(f.rng, opt.Location); err != nil {
		return err
	}
	if p.BusinessStart, p.BusinessEnd, err = query.ParseBusinessHours(f.hours); err != nil {
		return usageErrorf("--business-hours: %v", err)
	}
	if q.NeedsUser && p.User == "" {
		return usageErrorf("%s needs --user", name)
	}
	if f.printSQL != "" {
		d := map[string]query.Dialect{"sqlite": query.SQLite, "athena": query.Athena}
		dialect, ok := d[strings.ToLower(f.printSQL)]
		if !ok {
			return usageErrorf("--print-sql: want sqlite or athena, not %q", f.printSQL)
		}
		if p.Location == nil && dialect == query.Athena {
			p.Location = time.UTC
		}
		st, err := q.Statement(dialect, p)
		if err != nil {
			return usageErrorf("%v", err)
		}
		_, err = fmt.Fprintln(e.stdout, st.Inline())
		return err
	}
	if f.athena.engine != "" && f.athena.engine != "sqlite" {
		return e.athenaQuery(ctx, q, p, f.athena, opt)
	}
	st, err := e.openHistory(ctx, f.db)
	if err != nil {
		return err
	}
	defer st.Close()
	res, err := query.Run(ctx, st.DB(), name, p)
	if err != nil {
		return err
	}
	return query.Write(e.stdout, res, opt)
}

func (e *env) listQueries(opt query.Options) error {
	res := &query.Result{Columns: []string{"name", "description", "columns"}}
	for _, q := range query.All() {
		desc := q.Description
		if q.NeedsUser {
			desc += " Needs --user."
		}
		res.Rows = append(res.Rows, []any{q.Name, desc, strings.Join(q.Columns, ", ")})
	}
	if opt.Format == query.Table {
		// The list is ours, not untrusted: show it whole, without columns.
		for _, r := range res.Rows {
			if _, err := fmt.Fprintf(e.stdout, "%-24s %s\n", r[0], r[1]); err != nil {
				return err
			}
		}
		return nil
	}
	return query.Write(e.stdout, res, opt)
}

// maxSQLValueBytes bounds a string or blob an ad-hoc statement may build
// (randomblob(1e9) took 3.9 GB); a stored raw record is at most 1 MiB.
const maxSQLValueBytes = 16 << 20

// adhocSQL runs --sql on a connection that refuses writes (the authorizer of
// sqlite.OpenReadOnly), after query.CheckReadOnly has given any refusal a
// clear message.
func (e *env) adhocSQL(ctx context.Context, f queryFlags, opt query.Options) error {
	if err := query.CheckReadOnly(f.sql); err != nil {
		return usageErrorf("--sql: %v", err)
	}
	if f.timeout < 0 {
		return usageErrorf("--timeout %s: must not be negative (0 means no limit)", f.timeout)
	}
	path, err := e.dbPath(f.db)
	if err != nil {
		return err
	}
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("no database at %s (scan something first, or give --db)", path)
	}
	db, err := sqlite.OpenReadOnly(ctx, path)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := sqlite.LimitValueBytes(ctx, db, maxSQLValueBytes); err != nil {
		return err
	}
	if f.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, f.timeout)
		defer cancel()
	}
	res, err := query.RunSQL(ctx, db, f.sql, max(f.limit, 0))
	if errors.Is(err, query.ErrRefused) {
		return usageErrorf("%v", err)
	}
	if err != nil {
		return err
	}
	return query.Write(e.stdout, res, opt)
}
