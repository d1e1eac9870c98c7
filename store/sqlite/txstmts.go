package sqlite

import (
	"context"
	"database/sql"
)

// txStmts runs queries in a transaction, each prepared on its first use and
// reused after: CommitAlerts runs the same few queries hundreds of times
// (a group's hits, an alert by key, a baseline upsert), and parsing one
// cost SQLite about as much as running it. The statements close with the
// transaction. A query's rows must be closed before the same query runs
// again (one statement reads one result at a time). Not safe for
// concurrent use.
type txStmts struct {
	tx *sql.Tx
	m  map[string]*sql.Stmt // by query text.
}

var _ queryer = (*txStmts)(nil)

func newTxStmts(tx *sql.Tx) *txStmts {
	return &txStmts{tx: tx, m: map[string]*sql.Stmt{}}
}

func (t *txStmts) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	st := t.m[query]
	if st == nil {
		var err error
		if st, err = t.tx.PrepareContext(ctx, query); err != nil { //nolint:sqlclosecheck // a statement of tx closes with it
			return nil, err
		}
		t.m[query] = st
	}
	return st, nil
}

func (t *txStmts) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := t.stmt(ctx, query) //nolint:sqlclosecheck // closes with the transaction
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

func (t *txStmts) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	st, err := t.stmt(ctx, query) //nolint:sqlclosecheck // closes with the transaction
	if err != nil {
		return nil, err
	}
	return st.ExecContext(ctx, args...)
}

// QueryRowContext is sql.Tx.QueryRowContext through the prepared statement.
func (t *txStmts) QueryRowContext(ctx context.Context, query string, args ...any) scanner {
	st, err := t.stmt(ctx, query) //nolint:sqlclosecheck // closes with the transaction
	if err != nil {
		return errRow{err}
	}
	return st.QueryRowContext(ctx, args...)
}

// scanner is a *sql.Row, or a row that failed before it was read.
type scanner interface{ Scan(dest ...any) error }

type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }
