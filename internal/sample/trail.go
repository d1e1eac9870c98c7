package sample

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"time"

	"github.com/klauspost/compress/gzip"
)

// Put stores one output file at path (slash-separated, relative to the
// output root). It may keep data: callers hand over a slice they no longer use.
type Put func(path string, data []byte) error

// TrailPrefix returns the S3 key prefix of account's trail log files:
// AWSLogs/<account>/CloudTrail/ for a single-account trail, or
// AWSLogs/<org-id>/<account>/CloudTrail/ when the account's logs come
// through the organisation trail (the dev account, here).
func TrailPrefix(account string) string {
	if account == AccountDev {
		return "AWSLogs/" + OrgID + "/" + account + "/CloudTrail/"
	}
	return "AWSLogs/" + account + "/CloudTrail/"
}

// TrailFile describes one log file a TrailWriter wrote.
type TrailFile struct {
	Path            string
	Account, Region string
	Delivered       time.Time // the time in the file name.
	Records         int
	Duplicates      int // records repeated from the previous file, as CloudTrail sometimes does.
	Oldest, Newest  time.Time
	SHA256          string // hex SHA-256 of the uncompressed content (what digests list).
	Size            int    // compressed bytes.
}

// TrailWriter writes records into gzipped trail log files
// {"Records":[…]} in the S3 key layout, one file per account, region and
// delivery window (or more when a window holds more than the file size
// limit), the way CloudTrail delivers them. Memory holds only the open
// files' encoded records. A TrailWriter is not safe for concurrent use.
type TrailWriter struct {
	// Window is the delivery window; CloudTrail delivers about every 5 minutes.
	Window time.Duration
	// FileSize returns the record limit of the next file; nil means 250.
	FileSize func() int
	// DuplicateRate is the probability that a file repeats one or two
	// records of the previous file of its account and region.
	DuplicateRate float64

	put   Put
	ids   ids
	open  map[string]*openFile
	files []TrailFile
	zw    *gzip.Writer
	zbuf  bytes.Buffer
	body  []byte
}

type openFile struct {
	account, region string
	window          time.Time
	limit           int
	recs            [][]byte // encoded records.
	dups            int
	oldest, newest  time.Time
	carry           [][]byte // records to repeat at the start of the next file.
}

// NewTrailWriter returns a writer that stores files with put and draws file
// names from seed.
func NewTrailWriter(put Put, seed uint64) *TrailWriter {
	zw, _ := gzip.NewWriterLevel(nil, gzip.DefaultCompression)
	return &TrailWriter{Window: 5 * time.Minute, put: put, ids: newIDs(seed, 5), open: map[string]*openFile{}, zw: zw}
}

// Add appends r to the open file of its account and region. Records of one
// account and region must come in non-decreasing event time.
func (w *TrailWriter) Add(r *Record) error {
	key := r.RecipientAccountID + "/" + r.AWSRegion
	win := r.EventTime.Truncate(w.Window)
	f := w.open[key]
	if f != nil && (!f.window.Equal(win) || len(f.recs) >= f.limit) {
		if err := w.flush(f); err != nil {
			return err
		}
		carry := f.carry
		*f = openFile{account: f.account, region: f.region}
		f.recs, f.dups = carry, len(carry)
		f.window, f.limit = win, w.limit()
	}
	if f == nil {
		f = &openFile{account: r.RecipientAccountID, region: r.AWSRegion, window: win, limit: w.limit()}
		w.open[key] = f
	}
	enc := r.AppendJSON(nil)
	if len(f.recs) == f.dups {
		f.oldest = r.EventTime
	}
	f.newest = r.EventTime
	f.recs = append(f.recs, enc)
	return nil
}

func (w *TrailWriter) limit() int {
	if w.FileSize == nil {
		return 250
	}
	return max(1, w.FileSize())
}

// Close writes every open file, in a fixed order.
func (w *TrailWriter) Close() error {
	keys := make([]string, 0, len(w.open))
	for k := range w.open {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		f := w.open[k]
		f.carry = nil
		if len(f.recs) > f.dups {
			if err := w.flush(f); err != nil {
				return err
			}
		}
		delete(w.open, k)
	}
	return nil
}

// Files lists the files written so far, in the order they were written.
func (w *TrailWriter) Files() []TrailFile { return w.files }

func (w *TrailWriter) flush(f *openFile) error {
	if len(f.recs) == 0 {
		return nil
	}
	// Delivered a few minutes after the window closes.
	delivered := f.window.Add(w.Window).Add(w.ids.jitter(time.Minute, 5*time.Minute)).Truncate(time.Minute)
	name := fmt.Sprintf("%s_CloudTrail_%s_%s_%s.json.gz", f.account, f.region, delivered.Format("20060102T1504Z"), w.ids.s3Suffix())
	path := TrailPrefix(f.account) + f.region + "/" + delivered.Format("2006/01/02") + "/" + name

	w.body = append(w.body[:0], `{"Records":[`...)
	for i, r := range f.recs {
		if i > 0 {
			w.body = append(w.body, ',')
		}
		w.body = append(w.body, r...)
	}
	w.body = append(w.body, "]}"...)
	sum := sha256.Sum256(w.body)
	data, err := w.gzip(w.body)
	if err != nil {
		return fmt.Errorf("trail: compress %s: %w", path, err)
	}
	if err := w.put(path, data); err != nil {
		return fmt.Errorf("trail: write %s: %w", path, err)
	}
	w.files = append(w.files, TrailFile{Path: path, Account: f.account, Region: f.region, Delivered: delivered,
		Records: len(f.recs), Duplicates: f.dups, Oldest: f.oldest, Newest: f.newest, SHA256: hex.EncodeToString(sum[:]), Size: len(data)})

	f.carry = nil
	if w.DuplicateRate > 0 && w.ids.chance(w.DuplicateRate) {
		n := min(1+w.ids.r.IntN(2), len(f.recs))
		for _, r := range f.recs[len(f.recs)-n:] {
			f.carry = append(f.carry, slices.Clone(r))
		}
	}
	return nil
}

// gzip compresses data with a fixed header (no name, no modification time),
// so the same input always gives the same bytes.
func (w *TrailWriter) gzip(data []byte) ([]byte, error) {
	w.zbuf.Reset()
	w.zw.Reset(&w.zbuf)
	w.zw.ModTime = unixZero // the zero time.Time would be written as a 2042 date.
	if _, err := w.zw.Write(data); err != nil {
		return nil, err
	}
	if err := w.zw.Close(); err != nil {
		return nil, err
	}
	return bytes.Clone(w.zbuf.Bytes()), nil
}

// unixZero is written as mtime 0, "no modification time" in RFC 1952.
var unixZero = time.Unix(0, 0)

// Gzip compresses data deterministically (empty header, mtime zero).
func Gzip(data []byte) ([]byte, error) {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.DefaultCompression)
	if err != nil {
		return nil, err
	}
	zw.ModTime = unixZero
	if _, err := zw.Write(data); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
