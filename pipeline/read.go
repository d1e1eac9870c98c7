package pipeline

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/iamwatch/iamwatch"
	"github.com/iamwatch/iamwatch/cloudtrail"
)

// ReadOptions configure Pipeline.Read.
type ReadOptions struct {
	Decode    cloudtrail.Options
	Workers   int // inputs decoded at once; 0 means GOMAXPROCS.
	BatchSize int // events per Process call, at most; 0 means 4000.
	// KeepRejections bounds how many rejections the report lists (all are
	// counted); 0 means 100.
	KeepRejections int
	// Progress, when set, is called after each stored batch, from the one
	// goroutine that stores.
	Progress func(Report)
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

// Report is what a read did. Its JSON form is the scan summary.
type Report struct {
	Inputs          int           `json:"files_read"`
	InputsSkipped   int           `json:"files_skipped"` // digest and Insights files.
	InputsRejected  int           `json:"files_rejected"`
	Records         int           `json:"records_seen"`
	RecordsSkipped  int           `json:"records_skipped"` // Insights records.
	RecordsRejected int           `json:"records_rejected"`
	Result                        // what the pipeline did with the decoded events.
	Rejections      []Rejection   `json:"rejections,omitempty"` // the first KeepRejections.
	Skipped         []Rejection   `json:"skipped,omitempty"`    // skipped inputs with the reason (bounded likewise).
	Elapsed         time.Duration `json:"-"`
	Interrupted     bool          `json:"interrupted,omitempty"`
}

// Read decodes inputs with a bounded pool of workers and feeds the events
// to Process in batches from a single goroutine, so memory stays bounded
// whatever the inputs' size. A bad record or input is reported in the
// Report and skipped; Read fails only when Process fails or ctx ends (then
// the Report says what was done, and reading again completes the work).
func (p *Pipeline) Read(ctx context.Context, inputs []Input, opt ReadOptions) (Report, error) {
	start := time.Now()
	if opt.Workers <= 0 {
		opt.Workers = runtime.GOMAXPROCS(0)
	}
	if opt.BatchSize <= 0 {
		opt.BatchSize = 4000
	}
	if opt.KeepRejections <= 0 {
		opt.KeepRejections = 100
	}
	var (
		mu  sync.Mutex
		rep Report
	)
	reject := func(r Rejection) {
		mu.Lock()
		defer mu.Unlock()
		if r.Index < 0 {
			rep.InputsRejected++
		} else {
			rep.RecordsRejected++
		}
		if len(rep.Rejections) < opt.KeepRejections {
			rep.Rejections = append(rep.Rejections, r)
		}
	}

	batches := make(chan *[]iamwatch.Event, 8*opt.Workers)
	g, gctx := errgroup.WithContext(ctx)

	// The one writer: it owns the store side of the pipeline.
	g.Go(func() error {
		buf := make([]iamwatch.Event, 0, opt.BatchSize)
		for batch := range batches {
			buf = coalesce(append(buf[:0], *batch...), batches, opt.BatchSize)
			recycle(batch)
			res, err := p.Process(ctx, buf)
			clear(buf) // drop the references until the buffer is reused
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
		return nil
	})

	readers, rctx := errgroup.WithContext(gctx)
	readers.SetLimit(opt.Workers)
	for _, in := range inputs {
		if rctx.Err() != nil {
			break
		}
		readers.Go(func() error {
			st, err := readInput(rctx, in, opt, batches, reject)
			mu.Lock()
			rep.Records += st.Records
			rep.RecordsSkipped += st.Skipped
			mu.Unlock()
			switch {
			case err == nil:
				mu.Lock()
				rep.Inputs++
				mu.Unlock()
			case errors.Is(err, cloudtrail.ErrSkipped):
				mu.Lock()
				rep.InputsSkipped++
				if len(rep.Skipped) < opt.KeepRejections {
					rep.Skipped = append(rep.Skipped, Rejection{Input: in.Name, Index: -1, Reason: reason(err, in.Name)})
				}
				mu.Unlock()
			case rctx.Err() != nil:
				return rctx.Err()
			case errors.Is(err, cloudtrail.ErrUnknownShape) && st.Rejected > 0:
				// Its records were each reported already; count the input once more, not its records.
				mu.Lock()
				rep.InputsRejected++
				mu.Unlock()
			default:
				reject(Rejection{Input: in.Name, Index: -1, Reason: reason(err, in.Name)})
			}
			return nil
		})
	}
	rerr := readers.Wait()
	close(batches)
	err := g.Wait()
	if err == nil {
		err = rerr
	}
	rep.Elapsed = time.Since(start)
	if ctx.Err() != nil {
		rep.Interrupted = true
		err = ctx.Err()
	}
	return rep, err
}

// coalesce appends the batches already waiting in more to buf, while it
// holds fewer than size events, so small inputs (trail files hold ~100
// records) still commit in large transactions. It never waits.
func coalesce(buf []iamwatch.Event, more <-chan *[]iamwatch.Event, size int) []iamwatch.Event {
	for len(buf) < size {
		select {
		case b, ok := <-more:
			if !ok {
				return buf
			}
			buf = append(buf, *b...)
			recycle(b)
		default:
			return buf
		}
	}
	return buf
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

// reason is err's text without the "cloudtrail: NAME: " the decoder puts
// before it, since a Rejection names the input already.
func reason(err error, name string) string {
	s := strings.TrimPrefix(err.Error(), "cloudtrail: ")
	return strings.TrimPrefix(s, name+": ")
}

// readInput decodes one input, sending full batches to out.
func readInput(ctx context.Context, in Input, opt ReadOptions, out chan<- *[]iamwatch.Event, reject func(Rejection)) (cloudtrail.Stats, error) {
	rc, err := in.Open()
	if err != nil {
		return cloudtrail.Stats{}, err
	}
	defer rc.Close()
	batch := newBatch()
	defer func() {
		if batch != nil {
			recycle(batch)
		}
	}()
	send := func() error {
		if len(*batch) == 0 {
			return nil
		}
		select {
		case out <- batch:
		case <-ctx.Done():
			return ctx.Err()
		}
		batch = newBatch()
		return nil
	}
	dopt := opt.Decode
	dopt.OnError = func(re *cloudtrail.RecordError) {
		if errors.Is(re.Err, cloudtrail.ErrSkipped) {
			return // counted in Stats.Skipped
		}
		reject(Rejection{Input: in.Name, Index: re.Index, EventID: re.EventID, Reason: re.Err.Error()})
	}
	st, err := cloudtrail.Decode(ctx, rc, in.Name, dopt, func(ev *iamwatch.Event) error {
		*batch = append(*batch, *ev)
		if len(*batch) >= readerBatch {
			return send()
		}
		return nil
	})
	if err != nil {
		return st, err
	}
	return st, send()
}
