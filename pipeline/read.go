package pipeline

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/iamwatch/iamwatch"
	"github.com/iamwatch/iamwatch/cloudtrail"
	"github.com/iamwatch/iamwatch/detect"
)

// ReadOptions configure Pipeline.Read.
type ReadOptions struct {
	Decode    cloudtrail.Options
	Workers   int // inputs decoded at once; 0 means GOMAXPROCS.
	BatchSize int // events per Process call, at most; 0 means defaultBatchSize.
	// KeepRejections bounds how many rejections the report lists (all are
	// counted); 0 means 100.
	KeepRejections int
	// Progress, when set, is called after each stored batch, from the one
	// goroutine that stores.
	Progress func(Report)
	// Begin, when set, is called from the goroutine that stores when the
	// first batch is ready and before it is stored, and then before each
	// later batch until it reports done: it may prepare the store for the
	// inputs, and returns the events per Process call from then on (0:
	// BatchSize). A WalkList may still be growing: rather than wait for
	// it (List.Wait), which would leave the readers waiting on a full
	// queue, and the walk, which keeps at most maxHeld files ahead of
	// them, waiting for the readers, Begin can say it cannot tell yet
	// (done false); the batch is then stored as it is. An error ends the
	// read.
	Begin func(ctx context.Context) (batchSize int, done bool, err error)
}

// Rejection is a record or a whole input that could not be read.
type Rejection struct {
	Input   string `json:"input"`
	Index   int    `json:"index"` // record index in the input (0-based), or -1 for the whole input.
	EventID string `json:"event_id,omitempty"`
	Reason  string `json:"reason"`
}

func (r Rejection) String() string {
	s := r.Input
	if r.Index >= 0 {
		s += fmt.Sprintf(": record %d", r.Index)
	}
	if r.EventID != "" {
		s += fmt.Sprintf(" (event %s)", r.EventID)
	}
	return s + ": " + r.Reason
}

// SkipCount is how many inputs were skipped for one reason ("digest file",
// "a VPC flow log file, not CloudTrail", …): a trail bucket's digests or a
// log archive's thousands of other files are summed up, not listed.
type SkipCount struct {
	Reason string `json:"reason"`
	Files  int    `json:"files"`
	First  string `json:"first"` // the first of the files by name, the same in any reading order
}

// countSkipped adds input, skipped for reason, to counts.
func countSkipped(counts []SkipCount, reason, input string) []SkipCount {
	for i := range counts {
		if c := &counts[i]; c.Reason == reason {
			c.Files++
			c.First = min(c.First, input)
			return counts
		}
	}
	return append(counts, SkipCount{Reason: reason, Files: 1, First: input})
}

// Report is what a read did. Its JSON form is the scan summary.
type Report struct {
	Inputs          int           `json:"files_read"`
	InputsSkipped   int           `json:"files_skipped"` // digest, Insights and other services' files; entries not read.
	InputsRejected  int           `json:"files_rejected"`
	Records         int           `json:"records_seen"`
	RecordsSkipped  int           `json:"records_skipped"` // Insights records.
	RecordsRejected int           `json:"records_rejected"`
	Result                        // what the pipeline did with the decoded events.
	Rejections      []Rejection   `json:"rejections,omitempty"` // the first KeepRejections.
	Skipped         []Rejection   `json:"skipped,omitempty"`    // skipped inputs with the reason (bounded likewise).
	SkippedBy       []SkipCount   `json:"skipped_by,omitempty"` // every skipped input counted by reason, most first.
	Elapsed         time.Duration `json:"-"`
	Interrupted     bool          `json:"interrupted,omitempty"`

	weak *weakEvents // the read's weakly kept events (see Unstored)
}

// Unstored takes out of the report's counts events of the read that the
// store deleted after it (sqlite.LoadConflicts.Unnamed: a bulk load's
// finish deletes them): not stored, and neither they nor their repeats
// kept.
func (r *Report) Unstored(ids []string) {
	if r.weak == nil {
		r.weak = newWeakEvents()
	}
	r.weak.unstored(&r.Result, ids)
}

// Read decodes inputs with a bounded pool of workers and feeds the events
// to Process in batches from a single goroutine, so memory stays bounded
// whatever the inputs' size. A bad record or input is reported in the
// Report and skipped; Read fails only when Process fails or ctx ends (then
// the Report says what was done, and reading again completes the work).
func (p *Pipeline) Read(ctx context.Context, inputs []Input, opt ReadOptions) (Report, error) {
	return p.ReadList(ctx, ListOf(inputs), opt)
}

// ReadList is Read over a List (ExpandList): a trail's inputs held
// compactly.
func (p *Pipeline) ReadList(ctx context.Context, inputs *List, opt ReadOptions) (Report, error) {
	start := time.Now()
	defer inputs.abandon()
	if opt.Workers <= 0 {
		opt.Workers = runtime.GOMAXPROCS(0)
	}
	if opt.BatchSize <= 0 {
		opt.BatchSize = defaultBatchSize
	}
	if opt.KeepRejections <= 0 {
		opt.KeepRejections = 100
	}
	var (
		mu  sync.Mutex
		rep Report
	)
	// rejected counts r and keeps it if there is room; mu is held.
	rejected := func(r Rejection) {
		if r.Index < 0 {
			rep.InputsRejected++
		} else {
			rep.RecordsRejected++
		}
		if len(rep.Rejections) < opt.KeepRejections {
			rep.Rejections = append(rep.Rejections, r)
		}
	}
	reject := func(r Rejection) {
		mu.Lock()
		defer mu.Unlock()
		rejected(r)
	}

	wanted, thinner := p.wanted(), p.thinner()
	if wanted != nil && opt.Decode.Want == nil {
		opt.Decode.Want = wanted // a trail's unwanted records are not even copied
	}
	dec, err := cloudtrail.NewDecoder(opt.Decode)
	if err != nil {
		return rep, fmt.Errorf("pipeline: read: %w", err)
	}

	// The events stored only as a light rule's hit or a first value
	// (detect.Batch.Weak), which a later batch may supersede: removed at
	// the end if nothing names them, so that the events stored do not
	// depend on how the inputs fell into batches. Only those stored by
	// this read (after mark): an event stored before stays.
	var (
		weak *weakEvents
		mark int64
	)
	if p.tidy != nil {
		if mark, err = p.tidy.EventsMark(ctx); err != nil {
			return rep, fmt.Errorf("pipeline: read: %w", err)
		}
		weak = newWeakEvents()
	}

	batches := make(chan *[]iamwatch.Event, queuedBatches(opt.Workers, wanted != nil))
	g, gctx := errgroup.WithContext(ctx)

	tail := &tailing{inputs: inputs}
	// The one writer: it owns the store side of the pipeline.
	g.Go(func() error {
		var buf []iamwatch.Event
		received := 0 // events received from the readers
		begin := func() error {
			n, done, err := opt.Begin(ctx)
			if err != nil || !done {
				return err
			}
			opt.Begin = nil
			if n > 0 {
				opt.BatchSize = n
			}
			return nil
		}
		for open := true; open || len(buf) > 0; {
			var full bool
			before := len(buf)
			switch {
			case opt.Begin != nil && buf == nil:
				b, ok := <-batches // wait for work before asking Begin
				if !ok {
					return nil
				}
				if err := begin(); err != nil {
					recycle(b)
					return err
				}
				buf = append(make([]iamwatch.Event, 0, opt.BatchSize+readerBatch), *b...)
				recycle(b)
			case opt.Begin != nil:
				if err := begin(); err != nil {
					return err
				}
				buf = slices.Grow(buf, max(opt.BatchSize+readerBatch-len(buf), 0))
			case buf == nil:
				buf = make([]iamwatch.Event, 0, opt.BatchSize+readerBatch)
			}
			size := tail.batchSize(received+len(buf)-before, opt.BatchSize)
			buf, open, full = fill(buf, batches, size, maxBatchWait)
			if open && full {
				// Take what else is queued: a small batch of the tail
				// should not leave events waiting behind it.
				buf, open = takeQueued(buf, batches, opt.BatchSize)
			}
			received += len(buf) - before
			for len(buf) > 0 && (len(buf) >= size || !full) {
				n := min(len(buf), opt.BatchSize)
				res, err := p.process(ctx, buf[:n], true, weak) // buf[:n] is done with after
				rest := copy(buf, buf[n:])
				clear(buf[rest:]) // drop the references until the buffer is reused
				buf = buf[:rest]
				mu.Lock()
				rep.Result.Add(res)
				snapshot := rep
				mu.Unlock()
				if err != nil {
					return err
				}
				if opt.Progress != nil {
					opt.Progress(snapshot)
				}
			}
		}
		return nil
	})

	// outcome counts what became of one input (or archive member) named
	// name; it returns an error only when the read is to stop.
	outcome := func(ctx context.Context, name string, st cloudtrail.Stats, err error) error {
		mu.Lock()
		defer mu.Unlock()
		rep.Records += st.Records
		rep.RecordsSkipped += st.Skipped
		rep.Events += st.Unwanted
		switch {
		case err == nil:
			rep.Inputs++
		case errors.Is(err, cloudtrail.ErrSkipped):
			rep.InputsSkipped++
			rep.SkippedBy = countSkipped(rep.SkippedBy, skipReason(reason(err)), name)
			if len(rep.Skipped) < opt.KeepRejections {
				rep.Skipped = append(rep.Skipped, Rejection{Input: name, Index: -1, Reason: reason(err)})
			}
		case ctx.Err() != nil:
			return ctx.Err()
		case errors.Is(err, cloudtrail.ErrUnknownShape) && st.Rejected > 0:
			// Its records were each reported already; count the input once more, not its records.
			rep.InputsRejected++
		default:
			rejected(Rejection{Input: name, Index: -1, Reason: reason(err)})
		}
		return nil
	}

	// The readers: each decodes one input after another and hands over
	// batches that span inputs, so a trail of tiny files still makes
	// large transactions.
	readers, rctx := errgroup.WithContext(gctx)
	var next atomic.Int64
	defer context.AfterFunc(rctx, inputs.wake)()
	workers := opt.Workers
	if !inputs.Walking() {
		workers = min(workers, max(inputs.Len(), 1))
	}
	for range workers {
		readers.Go(func() error {
			r := &reader{out: batches, batch: newBatch(), dec: dec, wanted: wanted}
			if thinner != nil {
				r.thin, r.stores = thinner(), p.filter.Stores
			}
			defer r.release()
			for rctx.Err() == nil {
				// Between inputs, a reader lets the writer run: woken by a
				// batch or back from a system call (SQLite's writes), it
				// would otherwise wait for a reader's time slice to end
				// (10 ms) while the readers hold every P and fill the
				// queue. On 2 cores the writer waited so 0.66–0.97 s of a
				// 250k-record scan, 0.50–0.59 s with this (go tool trace
				// -pprof=sched); the scan took 5% less wall time.
				runtime.Gosched()
				in, ok := inputs.next(rctx, int(next.Add(1)-1))
				if !ok {
					break
				}
				size := inputs.Size(in)
				tail.handed.Add(size)
				if err := r.read(rctx, in, reject, outcome); err != nil {
					return err
				}
				tail.done.Add(size)
				mu.Lock()
				rep.Events += r.dropped
				mu.Unlock()
				r.dropped = 0
			}
			err := r.send(rctx)
			mu.Lock()
			rep.Events += r.dropped // thinned from the last batch
			mu.Unlock()
			return err
		})
	}
	rerr := readers.Wait()
	close(batches)
	err = g.Wait()
	if err == nil {
		err = rerr
	}
	if err == nil && weak != nil && len(weak.superseded) > 0 {
		var gone []string
		if gone, err = p.tidy.DropUnnamed(ctx, mark, weak.superseded); err == nil {
			weak.unstored(&rep.Result, gone)
		}
	}
	rep.weak = weak
	rep.Elapsed = time.Since(start)
	slices.SortFunc(rep.SkippedBy, func(a, b SkipCount) int {
		return cmp.Or(cmp.Compare(b.Files, a.Files), strings.Compare(a.Reason, b.Reason))
	})
	if ctx.Err() != nil {
		rep.Interrupted = true
		err = ctx.Err()
	}
	return rep, err
}

// weakStore is a Store that can remove the events a read stored only as
// detect.Batch.Weak says once nothing names them (store/sqlite).
type weakStore interface {
	// EventsMark returns a mark of the events stored so far.
	EventsMark(ctx context.Context) (int64, error)
	// DropUnnamed deletes, of events (ID → event time), those stored after
	// mark that no threshold hit, alert or baseline names, and returns
	// their IDs (none yet when it deletes them later: Report.Unstored).
	DropUnnamed(ctx context.Context, mark int64, events map[string]time.Time) ([]string, error)
}

// tailing sizes the writer's batches as the read ends. While the readers
// read, the writer gathers full batches (large transactions) and waits
// between them; the events of the last ones it would then store alone,
// after the readers are done, with a core idle (a tenth of the default
// scan). Once the list is complete and a full batch was received, each
// batch is at most half the events the inputs not yet read should carry,
// at the rate of those read so far: the batches shrink as the end nears
// and the writer stores most of the events while the readers still read.
// An input being read counts as half read: a trail of a few large files
// is handed out at once, and counted as read then, its batches shrank to
// reader batches from the start (a 400k-record trail of two files took
// 104–119 s, its writer re-reading threshold hits for each of ~1,500
// batches; 70 s now). Counted only once read, the many small files of
// a usual trail kept full batches to their end, and the writer holding
// them raised the peak RSS by 11 MiB.
type tailing struct {
	inputs *List
	handed atomic.Int64 // bytes of the inputs handed to the readers (List.Size: estimates past the walk's sample)
	done   atomic.Int64 // bytes of the inputs the readers are done with (likewise)
	total  int64        // List.Bytes, once the walk is over; 0 before
}

// batchSize is the batch the writer gathers next, having received
// received events, for batches of at most limit events. Called from the
// writer only.
func (t *tailing) batchSize(received, limit int) int {
	if t.total == 0 {
		if t.inputs.Walking() {
			return limit
		}
		t.total = t.inputs.Bytes()
	}
	h := (t.handed.Load() + t.done.Load()) / 2
	switch {
	case received < limit:
		// Less than one batch so far: the batches grow from
		// firstBatch, each as large as all before it.
		return min(limit, max(firstBatch, received))
	case h <= 0:
		return limit
	case h >= t.total:
		return min(limit, readerBatch) // every input is read: what is queued
	}
	left := float64(received) * float64(t.total-h) / float64(h)
	return min(limit, int(left/2)+readerBatch)
}

// queuedBatches is how many reader batches wait for the writer at most.
// When the readers drop what no one wants (dropping), the writer gets a
// few of the records (one event in eight of the services trail by
// default) and is the faster side: the queue only has to hold what the
// readers decode while it stores a batch, commits and resolves its alerts
// (~50–100 ms), or they stop and a core idles. Three a reader were too
// few: the two readers of the 250k-record services trail's default scan
// waited for the queue 0.54 s in all (go tool trace -pprof=sync); with
// eight the read took 1.40 → 1.33 s and the scan 1.71 → 1.64 s (medians
// of eight interleaved runs, scan --timings), for the same CPU time and 5
// MiB more RSS; the objects and people trails and the 25k-record one the
// same within the noise. When every record goes to the writer (keep all),
// it is the slower side and the queue is full all along: a deeper one
// holds thousands of events for nothing, and near the scan's heap limit
// they cost collections (--keep all with sixteen a reader: +0.3–0.6 s and
// +1 CPU-s; eight: within the noise, 7 MiB more RSS).
func queuedBatches(workers int, dropping bool) int {
	if dropping {
		return 8 * workers
	}
	return 3 * workers
}

// defaultBatchSize is the most events a Process call (one transaction)
// takes. 2,000 made the default scan 2–7% faster, its writer starting
// sooner, but the twice as many commits rewrote the roll-ups' and the
// B-trees' upper pages twice as often: 2.6× → 2.8× the database written on
// the 250k-record services trail, 2.8× → 2.9× on the objects trail,
// near the 3× target. firstBatch takes the gain where it was largest.
const defaultBatchSize = 4000

// firstBatch is the size of a read's first batch. The writer starts on
// the events of the first inputs while the readers read on, rather than
// wait for a full batch, which on a trail of a few thousand events to
// store is all of them, stored alone once the readers are done (the
// 25k-record services trail, ~3,000 events to the writer: 0.576 → 0.551
// s, ten interleaved runs; 1,000 gave 0.543 s). Each later batch is as
// large as all before it, up to ReadOptions.BatchSize, so the long read's
// transactions are unchanged. An input of fewer events is still stored in
// one batch (the sample trail: its 1,160 stored events the same in every
// run): first-seen rules keep the first event of each value in a batch,
// and which events share a batch depends on the readers' timing, so more,
// smaller batches keep, and store, a few more, not always the same.
const firstBatch = 2000

// maxBatchWait bounds how long the writer gathers events for one batch
// once it holds some: a slow source still sees its events stored (and
// Progress called) about this often.
const maxBatchWait = time.Second

// fill appends the batches of more to buf until it holds at least size
// events, more is closed (open false), or wait has passed since the first
// batch arrived (full false: store what there is). It blocks until the
// first batch arrives or more is closed.
func fill(buf []iamwatch.Event, more <-chan *[]iamwatch.Event, size int, wait time.Duration) (_ []iamwatch.Event, open, full bool) {
	if len(buf) >= size {
		return buf, true, true
	}
	b, ok := <-more
	if !ok {
		return buf, false, false
	}
	buf = append(buf, *b...)
	recycle(b)
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for len(buf) < size {
		select {
		case b, ok := <-more:
			if !ok {
				return buf, false, false
			}
			buf = append(buf, *b...)
			recycle(b)
		case <-timer.C:
			return buf, true, false
		}
	}
	return buf, true, true
}

// takeQueued appends the batches already queued in queue to buf, without
// waiting, while buf holds fewer than size events; open is false when
// queue is closed.
func takeQueued(buf []iamwatch.Event, queue <-chan *[]iamwatch.Event, size int) (_ []iamwatch.Event, open bool) {
	for len(buf) < size {
		select {
		case b, ok := <-queue:
			if !ok {
				return buf, false
			}
			buf = append(buf, *b...)
			recycle(b)
		default:
			return buf, true
		}
	}
	return buf, true
}

// readerBatch is how many events a reader hands over at a time; the writer
// gathers them into batches of up to ReadOptions.BatchSize.
const readerBatch = 256

// batchPool recycles reader batches between the readers and the writer.
var batchPool = sync.Pool{New: func() any {
	b := make([]iamwatch.Event, 0, readerBatch)
	return &b
}}

func newBatch() *[]iamwatch.Event { return batchPool.Get().(*[]iamwatch.Event) }

func recycle(b *[]iamwatch.Event) {
	clear(*b)
	*b = (*b)[:0]
	batchPool.Put(b)
}

// skipReason is a skipped input's reason without the word "skipped" it
// starts with: a SkipCount's reason.
func skipReason(reason string) string {
	return strings.TrimPrefix(reason, cloudtrail.ErrSkipped.Error()+": ")
}

// reason is why an input was rejected or skipped, without the input's
// name, which the Rejection carries already.
func reason(err error) string {
	if ie, ok := errors.AsType[*cloudtrail.InputError](err); ok {
		return ie.Err.Error()
	}
	return err.Error()
}

// reader is one reading goroutine's state: the decoder (shared) and the
// batch it fills across inputs.
type reader struct {
	out    chan<- *[]iamwatch.Event
	batch  *[]iamwatch.Event
	dec    *cloudtrail.Decoder
	wanted func(*iamwatch.Event) bool // nil: every event
	// thin, when set, decides instead of wanted which events the batch
	// takes, and drops from it, before it is sent, those it does not need
	// (see Pipeline.thinner); stores is the filter's.
	thin   *detect.Thinner
	stores func(*iamwatch.Event) bool
	// dropped counts the events of the current input that wanted refused
	// or thin dropped: they count in Report.Events (not kept) without
	// reaching Process.
	dropped int
}

// thinner is a Detector that can drop, from a reader's batch, the events
// it would observe to no effect (detect.Thinner).
type thinner interface {
	Thinner() *detect.Thinner
}

// thinner returns what makes each reader's Thinner, which tells which
// events a batch takes (as wanted does) and drops, before it is sent, the
// events the batch does not need. Nil when every event is stored (keep
// all), or the Detector cannot thin. The events it drops are counted as
// the ones wanted refuses.
func (p *Pipeline) thinner() func() *detect.Thinner {
	if p.filter.Keep == KeepAll || p.detect == nil {
		return nil
	}
	d, ok := p.detect.(thinner)
	if !ok || d.Thinner() == nil {
		return nil
	}
	return d.Thinner
}

// interested is a Detector that tells cheaply, without parsing the
// record, whether any rule could match an event (detect.Engine): an event
// no rule could match contributes nothing to Match's Batch.
type interested interface {
	Interested(*iamwatch.Event) bool
}

// wanted returns what Read passes on to Process: the events the filter
// stores or a rule could match. The rest (most of a real trail: AWS
// services reading and writing, never kept, matched by no rule) are
// dropped by the readers, in parallel, rather than carried to the one
// writer and through Match. Nil means every event is wanted (keep all, or
// a Detector that cannot tell). An event dropped so is neither stored nor
// evaluated, as Process would have done, with one difference: it takes no
// part in the batch's duplicate-ID check, so it does not make a later,
// different record with its ID a conflict.
func (p *Pipeline) wanted() func(*iamwatch.Event) bool {
	if p.filter.Keep == KeepAll {
		return nil
	}
	if p.detect == nil {
		return p.filter.Stores
	}
	d, ok := p.detect.(interested)
	if !ok {
		return nil
	}
	return func(ev *iamwatch.Event) bool { return p.filter.Stores(ev) || d.Interested(ev) }
}

// send hands the batch, if any, to the writer, thinned first.
func (r *reader) send(ctx context.Context) error {
	if r.thin != nil {
		n := len(*r.batch)
		*r.batch = r.thin.Thin(*r.batch)
		r.dropped += n - len(*r.batch)
	}
	if len(*r.batch) == 0 {
		return nil
	}
	select {
	case r.out <- r.batch:
	case <-ctx.Done():
		return ctx.Err()
	}
	r.batch = newBatch()
	return nil
}

// release recycles the batch of a reader that is done.
func (r *reader) release() {
	recycle(r.batch)
	r.batch = nil
}

// read decodes one input into the batch, sending each full batch, and
// tells outcome what became of it, or of each of its members if it is an
// archive (archive.go). It returns an error only when the read is to stop.
func (r *reader) read(ctx context.Context, in Input, reject func(Rejection), outcome outcomeFunc) error {
	if err := cloudtrail.SkipByName(in.Name); err != nil { // a digest, another service's log: not even opened
		return outcome(ctx, in.Name, cloudtrail.Stats{}, &cloudtrail.InputError{Name: in.Name, Err: err})
	}
	rc, err := in.Open()
	if err != nil {
		return outcome(ctx, in.Name, cloudtrail.Stats{}, err)
	}
	regular := isRegular(rc)
	if !regular {
		rc = newCancelReader(ctx, rc)
	}
	st, err := r.decode(ctx, rc, in.Name, reject)
	rc.Close()
	if ie, ok := errors.AsType[*cloudtrail.InputError](err); ok && errors.Is(err, cloudtrail.ErrArchive) {
		if regular {
			return r.readArchive(ctx, in, reject, outcome)
		}
		// Standard input, a pipe: what the decoder read is gone.
		err = &cloudtrail.InputError{Name: ie.Name, Err: fmt.Errorf("%w, read from a stream that cannot be read again: give it as a file", ie.Err)}
	}
	return outcome(ctx, in.Name, st, err)
}

// outcomeFunc counts what became of the input or archive member name.
type outcomeFunc func(ctx context.Context, name string, st cloudtrail.Stats, err error) error

// decode decodes the input rc, named name, into the batch.
func (r *reader) decode(ctx context.Context, rc io.Reader, name string, reject func(Rejection)) (cloudtrail.Stats, error) {
	onError := func(re *cloudtrail.RecordError) {
		if errors.Is(re.Err, cloudtrail.ErrSkipped) {
			return // counted in Stats.Skipped
		}
		reject(Rejection{Input: name, Index: re.Index, EventID: re.EventID, Reason: re.Err.Error()})
	}
	return r.dec.DecodeWith(ctx, rc, name, onError, func(ev *iamwatch.Event) error {
		if r.thin != nil && !r.thin.Note(ev, r.stores(ev)) || r.thin == nil && r.wanted != nil && !r.wanted(ev) {
			r.dropped++
			return nil
		}
		*r.batch = append(*r.batch, *ev)
		if len(*r.batch) >= readerBatch {
			return r.send(ctx)
		}
		return nil
	})
}

// isRegular reports whether rc is a regular file (or in memory), whose
// reads always return: no need to make them cancellable.
func isRegular(rc io.ReadCloser) bool {
	if _, ok := rc.(regularFile); ok {
		return true
	}
	f, ok := rc.(interface{ Stat() (fs.FileInfo, error) })
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode().IsRegular()
}

// cancelReader makes a read that may block for ever (stdin, a pipe, a FIFO
// with a writer that never writes) end when ctx does. Each Read runs on a
// helper goroutine into the reader's own buffer; when ctx ends first, Read
// returns ctx.Err(), closes the underlying reader (which ends a read of a
// file the runtime polls, such as a FIFO opened non-blocking) and every
// later Read fails likewise. A helper blocked in a read that closing
// cannot end (stdin in blocking mode) exits when that read returns or the
// process does. Not safe for concurrent use.
type cancelReader struct {
	ctx  context.Context
	rc   io.ReadCloser
	buf  []byte
	done chan readResult
	err  error
	shut bool // rc closed
}

type readResult struct {
	n   int
	err error
}

func newCancelReader(ctx context.Context, rc io.ReadCloser) *cancelReader {
	return &cancelReader{ctx: ctx, rc: rc, done: make(chan readResult, 1)}
}

func (c *cancelReader) Read(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	if err := c.ctx.Err(); err != nil {
		c.err = err
		return 0, err
	}
	if cap(c.buf) < len(p) {
		c.buf = make([]byte, len(p))
	}
	buf := c.buf[:len(p)]
	go func() {
		n, err := c.rc.Read(buf)
		c.done <- readResult{n, err}
	}()
	select {
	case r := <-c.done:
		return copy(p, buf[:r.n]), r.err
	case <-c.ctx.Done():
		c.err = c.ctx.Err()
		c.buf = nil // the helper may still write into the old one
		c.shut = true
		c.rc.Close()
		return 0, c.err
	}
}

func (c *cancelReader) Close() error {
	if c.shut {
		return nil
	}
	c.shut = true
	return c.rc.Close()
}
