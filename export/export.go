package export

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"log/slog"
	"os"
	"slices"
	"sort"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/iamwatch/iamwatch"
)

// EventSource is a store's event history, read one UTC day at a time.
// The SQLite store (*sqlite.Store) implements it, and so does the DynamoDB
// store's ExportSource (the events table is keyed by event_date, so a day
// is one Query); neither imports this package.
type EventSource interface {
	// Days returns the days holding events with since <= event_time < until
	// (a zero bound does not limit), oldest first.
	Days(ctx context.Context, since, until time.Time) ([]iamwatch.Day, error)
	// DayEvents yields the events of one day (date YYYY-MM-DD), in any
	// order, with their raw records when raw is set. An error is yielded
	// last. The loop body does not call the source.
	DayEvents(ctx context.Context, date string, raw bool) iter.Seq2[iamwatch.Event, error]
}

// AlertSource is the optional alert history of a source: Run exports the
// alerts too when its EventSource implements it (checked by type
// assertion). The SQLite store and store/dynamodb's ExportSourceWithAlerts
// implement it; its method is iamwatch.AlertStore's.
type AlertSource interface {
	// Alerts lists the stored alerts matching f (Run sets Since and Until
	// only), in any order.
	Alerts(ctx context.Context, f iamwatch.AlertFilter) ([]iamwatch.Alert, error)
}

// Options control Run.
type Options struct {
	// Now is the clock; the run's time names its files. Required.
	Now func() time.Time
	// Since and Until select the UTC days to consider: every day touching
	// [Since, Until). Zero bounds do not limit.
	Since, Until time.Time
	// ByRegion adds a region=… partition under each day.
	ByRegion bool
	// Raw keeps each event's raw CloudTrail record in the raw column.
	Raw bool
	// Force rewrites every day in range, changed or not.
	Force bool
	// RowGroupRows bounds the rows of one row group (and so the memory of
	// one open file); 0 means DefaultRowGroupRows.
	RowGroupRows int
	// TempDir holds the files being written; "" means os.TempDir().
	TempDir string
	// Log receives a line per day written; nil logs nothing.
	Log *slog.Logger
}

// DefaultRowGroupRows is the default row-group size: about 5–10 MB of
// compressed CloudTrail events, a good size for Athena's readers.
const DefaultRowGroupRows = 100_000

// Report says what a run did.
type Report struct {
	Days      int      // days the source holds in range.
	Written   int      // days written (new or changed).
	Unchanged int      // days skipped: exported and unchanged.
	Kept      []string // days skipped because the store holds fewer events than were exported (pruned).
	Events    int64    // events written.
	Bytes     int64    // bytes of the files written.
	Files     []File   // files written, in order.
	Deleted   []string // files removed (replaced by a rewrite).
	// Alerts says what was done with the alert history (zero when the
	// source has none).
	Alerts AlertReport
}

// AlertReport says what a run did with the alerts.
type AlertReport struct {
	Days      int      // days the source holds alerts for in range.
	Written   int      // days written (new or changed).
	Unchanged int      // days skipped: exported and unchanged.
	Kept      []string // days skipped because the store holds fewer alerts than were exported (pruned).
	Alerts    int64    // alerts written.
	Bytes     int64    // bytes of the files written.
	Files     []File   // files written, in order.
	Deleted   []string // files removed (replaced by a rewrite).
}

// File is one written data file.
type File struct {
	Key   string // relative to the destination root.
	Rows  int64
	Bytes int64
}

// Run exports the days of src that are new or changed since the last run
// into dst (see the package documentation), and records them in dst's
// manifest. On error the days already done are kept and recorded; the next
// run goes on from there.
func Run(ctx context.Context, src EventSource, dst Destination, opt Options) (Report, error) {
	var rep Report
	if opt.Now == nil {
		return rep, errors.New("export: Options.Now is required")
	}
	if opt.RowGroupRows <= 0 {
		opt.RowGroupRows = DefaultRowGroupRows
	}
	since, until := dayFloor(opt.Since), dayCeil(opt.Until)
	if !since.IsZero() && !until.IsZero() && !since.Before(until) {
		return rep, fmt.Errorf("export: empty range %s to %s", since.Format(time.DateOnly), until.Format(time.DateOnly))
	}
	m, err := ReadManifest(ctx, dst)
	if err != nil {
		return rep, fmt.Errorf("export: %w", err)
	}
	days, err := src.Days(ctx, since, until)
	if err != nil {
		return rep, fmt.Errorf("export: list days: %w", err)
	}
	rep.Days = len(days)
	now := opt.Now().UTC()
	name := FileName(now)
	for _, d := range days {
		old, done := m.Days[d.Date]
		switch {
		case opt.Force || !done:
		case d.Count < old.Count:
			rep.Kept = append(rep.Kept, d.Date)
			continue
		case d.Count == old.Count && d.Version == old.Version && old.ByRegion == opt.ByRegion && old.Raw == opt.Raw:
			rep.Unchanged++
			continue
		}
		ent, err := writeDay(ctx, src, dst, d, name, opt, &rep)
		if err != nil {
			return rep, fmt.Errorf("export: day %s: %w", d.Date, err)
		}
		ent.ExportedAt = now
		m.Days[d.Date] = ent
		if err := m.write(ctx, dst); err != nil {
			return rep, fmt.Errorf("export: day %s: %w", d.Date, err)
		}
		rep.Written++
		if opt.Log != nil {
			opt.Log.Info("exported day", "date", d.Date, "events", ent.Count, "files", len(ent.Files), "bytes", ent.Bytes)
		}
	}
	if as, ok := src.(AlertSource); ok {
		if err := runAlerts(ctx, as, dst, m, since, until, now, opt, &rep.Alerts); err != nil {
			return rep, fmt.Errorf("export: alerts: %w", err)
		}
	}
	return rep, nil
}

// writeDay writes one day's files, uploads them, removes the day's other
// data files, and returns the manifest entry.
func writeDay(ctx context.Context, src EventSource, dst Destination, d iamwatch.Day, name string, opt Options, rep *Report) (DayEntry, error) {
	dayPrefix, err := DayPrefix(d.Date)
	if err != nil {
		return DayEntry{}, err
	}
	ent := DayEntry{Version: d.Version, ByRegion: opt.ByRegion, Raw: opt.Raw}
	files := map[string]*tempFile[Row]{} // by key.
	defer func() {
		for _, f := range files {
			f.discard()
		}
	}()
	for ev, err := range src.DayEvents(ctx, d.Date, opt.Raw) {
		if err != nil {
			return ent, err
		}
		if got := ev.Date(); got != d.Date {
			return ent, fmt.Errorf("source gave event %s of %s", ev.ID, got)
		}
		key := dayPrefix + name
		if opt.ByRegion {
			key = RegionPrefix(dayPrefix, ev.Region) + name
		}
		f := files[key]
		if f == nil {
			if f, err = newTempFile[Row](opt); err != nil {
				return ent, err
			}
			files[key] = f
		}
		if err := f.add(RowOf(&ev, opt.Raw)); err != nil {
			return ent, err
		}
	}
	keys := make([]string, 0, len(files))
	for k := range files {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		f := files[k]
		size, err := f.finish()
		if err != nil {
			return ent, fmt.Errorf("write %s: %w", k, err)
		}
		if err := dst.Put(ctx, k, f.f, size); err != nil {
			return ent, err
		}
		ent.Files = append(ent.Files, k)
		ent.Count += f.rows
		ent.Bytes += size
		rep.Files = append(rep.Files, File{Key: k, Rows: f.rows, Bytes: size})
		rep.Events += f.rows
		rep.Bytes += size
	}
	// Remove the day's other data files: those of earlier runs, and of a
	// run that died before recording the day.
	old, err := dst.List(ctx, dayPrefix)
	if err != nil {
		return ent, err
	}
	for _, k := range old {
		if isDataFile(k) && !slices.Contains(keys, k) {
			if err := dst.Delete(ctx, k); err != nil {
				return ent, err
			}
			rep.Deleted = append(rep.Deleted, k)
		}
	}
	return ent, nil
}

// tempFile is one Parquet file being written to a temporary file.
type tempFile[R any] struct {
	f    *os.File
	w    *parquet.GenericWriter[R]
	buf  []R
	rows int64
}

// rowBatch rows are handed to the Parquet writer at once.
const rowBatch = 512

func newTempFile[R any](opt Options) (*tempFile[R], error) {
	f, err := os.CreateTemp(opt.TempDir, "iamwatch-export-*.parquet")
	if err != nil {
		return nil, err
	}
	w := parquet.NewGenericWriter[R](f,
		parquet.Compression(&parquet.Snappy),
		parquet.MaxRowsPerRowGroup(int64(opt.RowGroupRows)),
		parquet.CreatedBy("iamwatch", "", ""),
	)
	return &tempFile[R]{f: f, w: w, buf: make([]R, 0, rowBatch)}, nil
}

func (t *tempFile[R]) add(r R) error {
	t.buf = append(t.buf, r)
	t.rows++
	if len(t.buf) == cap(t.buf) {
		return t.flush()
	}
	return nil
}

func (t *tempFile[R]) flush() error {
	if len(t.buf) == 0 {
		return nil
	}
	if _, err := t.w.Write(t.buf); err != nil {
		return fmt.Errorf("parquet: %w", err)
	}
	clear(t.buf) // drop references to the strings written.
	t.buf = t.buf[:0]
	return nil
}

// finish closes the Parquet writer and rewinds the file for reading; it
// returns the file's size.
func (t *tempFile[R]) finish() (int64, error) {
	if err := t.flush(); err != nil {
		return 0, err
	}
	if err := t.w.Close(); err != nil {
		return 0, fmt.Errorf("parquet: %w", err)
	}
	size, err := t.f.Seek(0, io.SeekCurrent)
	if err != nil {
		return 0, err
	}
	if _, err := t.f.Seek(0, io.SeekStart); err != nil {
		return 0, err
	}
	return size, nil
}

func (t *tempFile[R]) discard() {
	t.f.Close()
	os.Remove(t.f.Name())
}

func dayFloor(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

func dayCeil(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	f := dayFloor(t)
	if f.Equal(t) {
		return f
	}
	return f.AddDate(0, 0, 1)
}

// Exporter runs Run on a schedule; it has the method the lambda package's
// Exporter interface asks for. Safe for sequential use only.
type Exporter struct {
	Source  EventSource
	Dest    Destination
	Options Options // Now is set to each call's time.
	// Lookback, when positive, limits each run to the days since
	// now - Lookback (a source without a cheap day listing, such as
	// DynamoDB, needs a bound). Options.Since, when later, wins.
	Lookback time.Duration
}

// Export runs one export at now.
func (x *Exporter) Export(ctx context.Context, now time.Time) error {
	opt := x.Options
	opt.Now = func() time.Time { return now }
	if x.Lookback > 0 {
		if s := now.Add(-x.Lookback); s.After(opt.Since) {
			opt.Since = s
		}
	}
	_, err := Run(ctx, x.Source, x.Dest, opt)
	return err
}
