package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"
	_ "time/tzdata" // --tz works where the system has no zone database (containers, Lambda).

	"github.com/spf13/pflag"

	"github.com/iamwatch/iamwatch/query"
	"github.com/iamwatch/iamwatch/store/sqlite"
)

// outputFlags are the flags of every command that prints rows (query,
// events, alerts).
type outputFlags struct {
	output string
	tz     string
	wide   bool
}

func (o *outputFlags) add(fl *pflag.FlagSet) {
	fl.StringVarP(&o.output, "output", "o", "table", "output: table, json (one JSON object a line) or csv (RFC 4180)")
	fl.StringVar(&o.tz, "tz", "", "time zone for times shown and for hours of the day (IANA name, e.g. Europe/Paris; default UTC)")
	fl.BoolVar(&o.wide, "wide", false, "table: do not cut long cells")
}

// location is the --tz zone; nil for UTC.
func (o outputFlags) location() (*time.Location, error) {
	if o.tz == "" || o.tz == "UTC" {
		return nil, nil
	}
	loc, err := time.LoadLocation(o.tz)
	if err != nil {
		return nil, usageErrorf("--tz %q: %v", o.tz, err)
	}
	return loc, nil
}

// options turns the flags into query.Options: colour only for a terminal,
// and never with NO_COLOR set (https://no-color.org) or TERM=dumb.
func (e *env) options(o outputFlags) (query.Options, error) {
	f, err := query.ParseFormat(o.output)
	if err != nil {
		return query.Options{}, usageErrorf("--output: %v", err)
	}
	loc, err := o.location()
	if err != nil {
		return query.Options{}, err
	}
	opt := query.Options{Format: f, Location: loc, Colour: f == query.Table && e.colour()}
	if o.wide {
		opt.MaxCell = -1
	}
	return opt, nil
}

// colour reports whether stdout is a terminal that wants colour.
func (e *env) colour() bool {
	if e.getenv("NO_COLOR") != "" || e.getenv("TERM") == "dumb" {
		return false
	}
	f, ok := e.stdout.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// rangeFlags are --since and --until.
type rangeFlags struct{ since, until string }

func (r *rangeFlags) add(fl *pflag.FlagSet, defSince string) {
	fl.StringVar(&r.since, "since", defSince, `from this time on: an age before now (7d, 24h, 2w), a date (2026-01-31, midnight in --tz) or RFC 3339; "all" for no bound`)
	fl.StringVar(&r.until, "until", "", "before this time (same forms as --since); default: no bound")
}

// times parses the range against the injected clock; dates are midnight in
// loc (UTC when nil).
func (e *env) times(r rangeFlags, loc *time.Location) (since, until time.Time, err error) {
	now := e.now()
	if r.since != "" && r.since != "all" {
		if since, err = query.ParseTime(r.since, now, loc); err != nil {
			return since, until, usageErrorf("--since: %v", err)
		}
	}
	if r.until != "" {
		if until, err = query.ParseTime(r.until, now, loc); err != nil {
			return since, until, usageErrorf("--until: %v", err)
		}
	}
	if !since.IsZero() && !until.IsZero() && !since.Before(until) {
		return since, until, usageErrorf("--since %s is not before --until %s", r.since, r.until)
	}
	return since, until, nil
}

// openHistory opens an existing database for the read commands: unlike
// openStore it does not create one, so a mistyped --db says so.
func (e *env) openHistory(ctx context.Context, flag string) (*sqlite.Store, error) {
	path, err := e.dbPath(flag)
	if err != nil {
		return nil, err
	}
	if path != ":memory:" {
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("no database at %s (scan something first, or give --db)", path)
		}
	}
	return e.openStore(ctx, path)
}
