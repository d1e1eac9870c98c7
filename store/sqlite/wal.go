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
// walCheckpointer runs (256 MiB of WAL: up to 192 MiB more disk during the
// load): the writer's checkpoints then copy only what the checkpointer has
// not and restart the WAL; the fewer of them, the fewer of the writer's
// fsyncs.
const bulkAutoCheckpoint = 16000

// walCheckpointer copies the write-ahead log into the database file on a
// connection of its own while a bulk load runs, so that the writer does
// not: SQLite's automatic checkpoint runs inside the commit that takes the
// WAL past wal_autocheckpoint, on the writer's goroutine, and with its two
// fsyncs it was the writer's longest wait (1.4 s of a 250k-record
// scan --keep all on a loaded machine, the readers waiting meanwhile).
//
// PutEvents pokes it every walPokeBytes committed, and the index builds
// after each index. Its checkpoints are PASSIVE: they copy what is
// committed and not read from the WAL by a reader, and never wait for the
// writer, which goes on appending meanwhile. The writer's automatic
// checkpoint stays on, at bulkAutoCheckpoint: it then finds little left to
// copy (what was committed since the last poke), and it is what restarts
// the WAL from its beginning, which bounds the file. A checkpoint that
// fails or finds another one running loses nothing (the frames stay in the
// WAL for the next one), so its errors are not reported.
//
// poke and stop are safe for concurrent use; stop must be called once.
type walCheckpointer struct {
	db   *sql.DB
	kick chan struct{}
	quit chan struct{}
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
	c := &walCheckpointer{db: db, kick: make(chan struct{}, 1), quit: make(chan struct{}), done: make(chan struct{})}
	go c.run()
	return c, nil
}

func (c *walCheckpointer) run() {
	defer close(c.done)
	for {
		select {
		case <-c.quit:
			return
		case <-c.kick:
		}
		// Not interrupted by stop (no context to cancel): an interrupted
		// checkpoint records nothing as copied, so the next one would copy
		// it all again. A PRAGMA returning a row: Exec steps it to the end.
		_, _ = c.db.ExecContext(context.Background(), "PRAGMA wal_checkpoint(PASSIVE)")
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

// stop waits for the checkpoint in progress, if any, ends the goroutine
// and closes the connection.
func (c *walCheckpointer) stop() error {
	close(c.quit)
	<-c.done
	return c.db.Close()
}
