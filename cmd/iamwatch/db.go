package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/pflag"

	"github.com/iamwatch/iamwatch/store/sqlite"
)

// dbFlag declares --db, the flag of every command that opens the
// database. A configuration file's db setting, where a command reads one,
// comes between the flag and the environment.
func dbFlag(fl *pflag.FlagSet, p *string) {
	fl.StringVar(p, "db", "", "SQLite database file (default: the configuration file's db, $IAMWATCH_DB or ~/.local/share/iamwatch/iamwatch.db)")
}

// dbPath returns the database file: the flag, else $IAMWATCH_DB, else
// $XDG_DATA_HOME/iamwatch/iamwatch.db, else ~/.local/share/iamwatch/iamwatch.db.
func (e *env) dbPath(flag string) (string, error) {
	if flag != "" {
		return flag, nil
	}
	if p := e.getenv("IAMWATCH_DB"); p != "" {
		return p, nil
	}
	dir := e.getenv("XDG_DATA_HOME")
	if dir == "" {
		home := e.getenv("HOME")
		if home == "" {
			return "", fmt.Errorf("no --db given and neither IAMWATCH_DB, XDG_DATA_HOME nor HOME is set")
		}
		dir = filepath.Join(home, ".local", "share")
	}
	return filepath.Join(dir, "iamwatch", "iamwatch.db"), nil
}

// openStore opens (creating if need be) the SQLite store, and says so on
// stderr the first time a database file is created.
func (e *env) openStore(ctx context.Context, flag string) (*sqlite.Store, error) {
	path, err := e.dbPath(flag)
	if err != nil {
		return nil, err
	}
	created := false
	if path != ":memory:" {
		if _, err := os.Stat(path); os.IsNotExist(err) {
			created = true
			if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
				return nil, fmt.Errorf("create database directory: %w", err)
			}
		}
	}
	st, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		return nil, err
	}
	if created {
		fmt.Fprintf(e.stderr, "iamwatch: created database %s\n", path)
	}
	return st, nil
}
