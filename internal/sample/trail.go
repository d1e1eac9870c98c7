package sample

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"slices"
	"sync"
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
// files' encoded records (and, with Workers, the files being compressed).
//
// A TrailWriter is not safe for concurrent use; with Workers > 1 it calls
// put from several goroutines.
type TrailWriter struct {
	// Window is the delivery window; CloudTrail delivers about every 5 minutes.
	Window time.Duration
	// FileSize returns the record limit of the next file; nil means 250.
	FileSize func() int
	// DuplicateRate is the probability that a file repeats one or two
	// records of the previous file of its account and region.
	DuplicateRate float64
	// RedeliverRate is the probability that a record is delivered once more,
	// at the start of the next file of its account and region (delivery is
	// at least once; a real trail repeated a fifth of its records).
	RedeliverRate float64
	// Workers > 1 compresses and stores that many files at once; put must
	// then be safe for concurrent use. Set it before the first Add.
	Workers int

	put   Put
	ids   ids
	open  map[string]*openFile
	files []*TrailFile

	zw      *gzip.Writer // compressor when Workers <= 1.
	jobs    chan trailJob
	wg      sync.WaitGroup
	mu      sync.Mutex
	err     error // first error of a worker.
	started bool
}

type openFile struct {
	account, region string
	window          time.Time
	limit           int
	body            []byte // {"Records":[ and the records so far.
	starts          []int  // offset of each record in body.
	dups            int
	oldest, newest  time.Time
	carry           [][]byte // records to repeat at the start of the next file.
}

type trailJob struct {
	file *TrailFile
	body []byte
}

const recordsPrefix = `{"Records":[`

// NewTrailWriter returns a writer that stores files with put and draws file
// names from seed.
func NewTrailWriter(put Put, seed uint64) *TrailWriter {
	return &TrailWriter{Window: 5 * time.Minute, put: put, ids: newIDs(seed, 5), open: map[string]*openFile{}}
}

func (w *TrailWriter) start() {
	w.started = true
	if w.Workers <= 1 {
		w.zw, _ = gzip.NewWriterLevel(nil, gzip.DefaultCompression)
		return
	}
	w.jobs = make(chan trailJob, w.Workers)
	for range w.Workers {
		w.wg.Add(1)
		go func() {
			defer w.wg.Done()
			zw, _ := gzip.NewWriterLevel(nil, gzip.DefaultCompression)
			for j := range w.jobs {
				if err := w.store(zw, j); err != nil {
					w.fail(err)
				}
			}
		}()
	}
}

func (w *TrailWriter) fail(err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err == nil {
		w.err = err
	}
}

func (w *TrailWriter) failed() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// Add appends r to the open file of its account and region. Records of one
// account and region must come in non-decreasing event time.
func (w *TrailWriter) Add(r *Record) error {
	if !w.started {
		w.start()
	}
	key := r.RecipientAccountID + "/" + r.AWSRegion
	win := r.EventTime.Truncate(w.Window)
	f := w.open[key]
	if f == nil {
		f = &openFile{account: r.RecipientAccountID, region: r.AWSRegion}
		w.open[key] = f
		w.reset(f, win)
	} else if !f.window.Equal(win) || len(f.starts) >= f.limit {
		if err := w.flush(f); err != nil {
			return err
		}
		w.reset(f, win)
	}
	if len(f.starts) == f.dups {
		f.oldest = r.EventTime
	}
	f.newest = r.EventTime
	if len(f.starts) > 0 {
		f.body = append(f.body, ',')
	}
	f.starts = append(f.starts, len(f.body))
	f.body = r.AppendJSON(f.body)
	return nil
}

// reset starts the next file of f in window win, beginning with the records
// carried over from the previous one.
func (w *TrailWriter) reset(f *openFile, win time.Time) {
	f.window, f.limit = win, w.limit()
	f.body = append(make([]byte, 0, 8<<10), recordsPrefix...)
	f.starts = f.starts[:0]
	f.dups = len(f.carry)
	for i, c := range f.carry {
		if i > 0 {
			f.body = append(f.body, ',')
		}
		f.starts = append(f.starts, len(f.body))
		f.body = append(f.body, c...)
	}
	f.carry = nil
}

func (w *TrailWriter) limit() int {
	if w.FileSize == nil {
		return 250
	}
	return max(1, w.FileSize())
}

// Close writes every open file, in a fixed order, and waits for the
// workers. It returns the first error of any file.
func (w *TrailWriter) Close() error {
	if !w.started {
		w.start()
	}
	keys := make([]string, 0, len(w.open))
	for k := range w.open {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var err error
	for _, k := range keys {
		f := w.open[k]
		if len(f.starts) > f.dups && err == nil {
			err = w.flush(f)
		}
		delete(w.open, k)
	}
	if w.jobs != nil {
		close(w.jobs)
		w.wg.Wait()
		w.jobs = nil
	}
	if err != nil {
		return err
	}
	return w.failed()
}

// Files lists the files written, in the order they were started; with
// Workers > 1 it is complete only after Close.
func (w *TrailWriter) Files() []TrailFile {
	out := make([]TrailFile, len(w.files))
	for i, f := range w.files {
		out[i] = *f
	}
	return out
}

func (w *TrailWriter) flush(f *openFile) error {
	if len(f.starts) == 0 {
		return nil
	}
	if err := w.failed(); err != nil {
		return err
	}
	// Delivered a few minutes after the window closes.
	delivered := f.window.Add(w.Window).Add(w.ids.jitter(time.Minute, 5*time.Minute)).Truncate(time.Minute)
	name := fmt.Sprintf("%s_CloudTrail_%s_%s_%s.json.gz", f.account, f.region, delivered.Format("20060102T1504Z"), w.ids.s3Suffix())
	tf := &TrailFile{Path: TrailPrefix(f.account) + f.region + "/" + delivered.Format("2006/01/02") + "/" + name,
		Account: f.account, Region: f.region, Delivered: delivered,
		Records: len(f.starts), Duplicates: f.dups, Oldest: f.oldest, Newest: f.newest}
	w.files = append(w.files, tf)

	if w.DuplicateRate > 0 && w.ids.chance(w.DuplicateRate) {
		n := min(1+w.ids.r.IntN(2), len(f.starts))
		for i := len(f.starts) - n; i < len(f.starts); i++ {
			end := len(f.body)
			if i+1 < len(f.starts) {
				end = f.starts[i+1] - 1 // drop the separating comma.
			}
			f.carry = append(f.carry, slices.Clone(f.body[f.starts[i]:end]))
		}
	}
	if w.RedeliverRate > 0 {
		for i := f.dups; i < len(f.starts); i++ {
			if !w.ids.chance(w.RedeliverRate) {
				continue
			}
			end := len(f.body)
			if i+1 < len(f.starts) {
				end = f.starts[i+1] - 1
			}
			f.carry = append(f.carry, slices.Clone(f.body[f.starts[i]:end]))
		}
	}
	job := trailJob{file: tf, body: append(f.body, "]}"...)}
	f.body = nil
	if w.jobs == nil {
		return w.store(w.zw, job)
	}
	w.jobs <- job
	return nil
}

// store hashes, compresses and puts one file.
func (w *TrailWriter) store(zw *gzip.Writer, j trailJob) error {
	sum := sha256.Sum256(j.body)
	var buf bytes.Buffer
	buf.Grow(len(j.body) / 6)
	zw.Reset(&buf)
	zw.ModTime = unixZero // the zero time.Time would be written as a 2042 date.
	if _, err := zw.Write(j.body); err != nil {
		return fmt.Errorf("trail: compress %s: %w", j.file.Path, err)
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("trail: compress %s: %w", j.file.Path, err)
	}
	j.file.SHA256, j.file.Size = hex.EncodeToString(sum[:]), buf.Len()
	if err := w.put(j.file.Path, buf.Bytes()); err != nil {
		return fmt.Errorf("trail: write %s: %w", j.file.Path, err)
	}
	return nil
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

// FileSizes draws trail file sizes the way CloudTrail's look: mostly 100–300
// records, now and then (1 in 100) a much larger file of 1,000–5,000; or,
// from NewHeavyTailFileSizes, the sizes of a quiet account's trail.
// It is not safe for concurrent use.
type FileSizes struct {
	ids   ids
	heavy bool
}

// NewFileSizes returns sizes drawn from seed.
func NewFileSizes(seed uint64) *FileSizes { return &FileSizes{ids: newIDs(seed, 7)} }

// NewHeavyTailFileSizes returns log-normal sizes (median 2, mean about 8,
// at most 10,000) drawn from seed: many files of 1–3 records, a few of
// thousands, like the S3-delivered trail of a quiet lab account. The
// writer's delivery window cuts files shorter still.
func NewHeavyTailFileSizes(seed uint64) *FileSizes {
	return &FileSizes{ids: newIDs(seed, 7), heavy: true}
}

// Next returns the record limit of the next file.
func (s *FileSizes) Next() int {
	if s.heavy {
		n := math.Exp(3.5 + 1.55*s.ids.r.NormFloat64())
		return int(min(max(n, 1), 10_000))
	}
	if s.ids.chance(0.01) {
		return 1000 + s.ids.r.IntN(4001)
	}
	return 100 + s.ids.r.IntN(201)
}
