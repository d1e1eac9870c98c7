package sqlite

import (
	"context"
	"database/sql"
	"net/url"
)

// autoCheckpoint is the writer's wal_autocheckpoint in pages (64 MiB of
// WAL): past it, a commit checkpoints.
const autoCheckpoint = 4000

// bulkAutoCheckpoint is the writer's wal_autocheckpoint while a bulk load's
// walCheckpointer runs (256 MiB of WAL, at most that much disk more for the
// load): the writer's checkpoints then copy only what the checkpointer
// has not (the last commit) and restart the WAL; fewer of them, fewer of
// the writer's fsyncs.
const bulkAutoCheckpoint = 16000

// walCheckpointer copies the write-ahead log into the database file on a
// connection of its own while a bulk load runs, so that the writer does
// not: SQLite's automatic checkpoint runs inside the commit that takes the
// WAL past wal_autocheckpoint, on the writer's goroutine, and with its two
// fsyncs it was the writer's longest wait (1.4 s of a 250k-record
// scan --keep all on a loaded machine, the readers waiting meanwhile).
//
// Its checkpoints are PASSIVE: they copy what is committed and not read
// from the WAL by a reader, and never wait for the writer, which goes on
// appending meanwhile. The writer's automatic checkpoint stays on: it then
// finds little left to copy (the frames of the last commit), and it is
// what restarts the WAL from its beginning, so the file stays as small as
// before. A checkpoint that fails or finds another one running loses
// nothing (the frames stay in the WAL for the next one), so its errors are
// not reported.
//
// poke and stop are safe for concurrent use; stop must be called once.
type walCheckpointer struct {
	db   *sql.DB
	kick chan struct{}
	quit context.CancelFunc
	done chan struct{}
}

// startWALCheckpointer opens its connection to the database at path and
// starts its goroutine, which runs until stop.
func startWALCheckpointer(path, busy string) (*walCheckpointer, error) {
	db, err := sql.Open("sqlite", fileURI(path, url.Values{"_busy_timeout": {busy}}))
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxIdleTime(0)
	db.SetConnMaxLifetime(0)
	ctx, quit := context.WithCancel(context.Background())
	c := &walCheckpointer{db: db, kick: make(chan struct{}, 1), quit: quit, done: make(chan struct{})}
	go c.run(ctx)
	return c, nil
}

func (c *walCheckpointer) run(ctx context.Context) {
	defer close(c.done)
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.kick:
		}
		// A PRAGMA returning a row: ExecContext steps it to the end.
		_, _ = c.db.ExecContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)")
	}
}

// poke asks for a checkpoint of what is committed now; it never blocks.
// Pokes while a checkpoint runs make one more, not one each.
func (c *walCheckpointer) poke() {
	if c == nil {
		return
	}
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

// stop ends the goroutine, interrupting a checkpoint in progress, and
// closes the connection.
func (c *walCheckpointer) stop() error {
	c.quit()
	<-c.done
	return c.db.Close()
}
