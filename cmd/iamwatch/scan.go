package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"runtime/pprof"
	"runtime/trace"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/iamwatch/iamwatch"
	"github.com/iamwatch/iamwatch/cloudtrail"
	"github.com/iamwatch/iamwatch/detect"
	"github.com/iamwatch/iamwatch/notify"
	"github.com/iamwatch/iamwatch/pipeline"
	"github.com/iamwatch/iamwatch/sampledata"
	"github.com/iamwatch/iamwatch/store/sqlite"
	"github.com/iamwatch/iamwatch/untrusted"
)

type scanFlags struct {
	db          string
	keep        string
	output      string
	format      string
	strict      bool
	useSample   bool
	workers     int
	ignoreRoles []string
	keepService bool
	failOn      string
	rules       []string
	noDetect    bool
	cpuProfile  string
	traceFile   string
	timings     bool
	batchSize   int
	config      string
	notify      bool
}

func newScanCmd(e *env) *cobra.Command {
	var f scanFlags
	cmd := &cobra.Command{
		Use:   "scan [flags] PATH...",
		Short: "Decode CloudTrail files, store the events and raise alerts",
		Long: `Scan reads CloudTrail records in any shape AWS hands them out (trail log files,
.json or .json.gz, in S3 key layout or not; JSON lines; JSON arrays; EventBridge events;
LookupEvents output), stores each event once in the SQLite database and runs the rules.

PATH is a file, a directory (walked recursively), a glob, or - for standard input.
--sample scans the sample trail built into iamwatch.`,
		RunE: func(cmd *cobra.Command, args []string) error { return e.scan(cmd, args, f) },
	}
	fl := cmd.Flags()
	dbFlag(fl, &f.db)
	fl.StringVar(&f.keep, "keep", "identity", "which events to store: identity (iam, sts, signin, sso) or all")
	fl.StringVarP(&f.output, "output", "o", "text", "output: text or json (one JSON object a line)")
	fl.StringVar(&f.format, "format", "auto", "input format: auto, trail, lines, array, record, eventbridge, lookup, cloudwatch-logs")
	fl.BoolVar(&f.strict, "strict", false, "exit non-zero when any record or file was rejected")
	fl.BoolVar(&f.useSample, "sample", false, "scan the sample trail built into iamwatch")
	fl.IntVar(&f.workers, "workers", 0, "files decoded at once (default: number of CPUs)")
	fl.StringSliceVar(&f.ignoreRoles, "ignore-role", nil, "do not store sessions of roles matching this pattern (repeatable; e.g. 'scanner-*')")
	fl.BoolVar(&f.keepService, "keep-service-events", false, "also store what AWS services did on their own, and what service-linked roles read")
	fl.StringVar(&f.failOn, "fail-on", "", "exit 3 when an alert at or above this severity was raised (critical, high, medium, low, info)")
	fl.StringSliceVar(&f.rules, "rules", nil, "a folder of extra rule files (repeatable)")
	fl.BoolVar(&f.noDetect, "no-detect", false, "store events without running the rules")
	fl.StringVar(&f.config, "config", "", "configuration file for the db, keep, filter, rules and detection settings (default $IAMWATCH_CONFIG; optional)")
	fl.BoolVar(&f.notify, "notify", false, "deliver new alerts to the sinks of the configuration file's notify section")
	fl.StringVar(&f.cpuProfile, "cpuprofile", "", "write a CPU profile of the scan to this file")
	fl.MarkHidden("cpuprofile")
	fl.StringVar(&f.traceFile, "trace", "", "write a runtime execution trace of the scan to this file (go tool trace)")
	fl.MarkHidden("trace")
	fl.BoolVar(&f.timings, "timings", false, "print when each stage of the scan ended (ms from its start) to standard error")
	fl.MarkHidden("timings")
	fl.IntVar(&f.batchSize, "batch-size", 0, "events per transaction at most (default 4000)")
	fl.MarkHidden("batch-size")
	return cmd
}

// scan reads as the other commands do: the flags and the configuration
// file become scanOptions, runScan does the scan, and its outcome is
// printed and turned into the exit code.
func (e *env) scan(cmd *cobra.Command, args []string, f scanFlags) error {
	opt, err := e.scanOptions(cmd, args, f)
	if err != nil {
		return err
	}
	out, err := e.runScan(cmd.Context(), opt)
	p := newAlertPrinter(e.stdout, opt.output)
	for _, a := range out.alerts {
		p.alert(a)
	}
	if out.report.Interrupted {
		fmt.Fprintln(e.stderr, "iamwatch: interrupted; what was stored is kept, run the same scan again to complete it")
	}
	p.summary(out.report)
	out.timings.write(e.stderr)
	if out.delivered != nil {
		fs := out.delivered
		fmt.Fprintf(e.stderr, "iamwatch: delivered %d alerts in %d messages; %d to retry later, %d failed (iamwatch alerts shows why)\n",
			fs.Sent, fs.Messages, fs.Retrying+fs.Deferred, fs.Failed)
	}
	if err != nil {
		return err
	}
	return opt.exit(out)
}

// scanOptions is what one scan does, from its flags over its configuration
// file.
type scanOptions struct {
	db         string
	inputs     *pipeline.List
	pipeline   pipeline.Options // Filter; the detector and delivery are built by runScan
	read       pipeline.ReadOptions
	detect     bool
	rules      []string
	detection  detect.Config
	notify     *notify.Config // nil: no delivery
	output     string
	strict     bool
	failOn     iamwatch.Severity // -1: never
	cpuProfile string
	traceFile  string // --trace: a runtime execution trace of the scan (go tool trace)
	timings    bool   // --timings: when each stage ended (scanTimings)
	sample     bool   // --sample: the sample GeoIP database unless one is configured
}

// scanOutcome is what a scan did.
type scanOutcome struct {
	report    pipeline.Report
	alerts    []iamwatch.Alert // the new alerts as stored at the end, by time
	delivered *notify.FlushStats
	timings   *scanTimings // --timings; nil otherwise
}

// exit is the scan's exit status: nothing readable, --strict or --fail-on.
func (o *scanOptions) exit(out scanOutcome) error {
	rep := out.report
	if rep.Events == 0 && rep.RecordsRejected+rep.InputsRejected > 0 {
		return fmt.Errorf("nothing could be read: %d records and %d files rejected", rep.RecordsRejected, rep.InputsRejected)
	}
	if o.strict && (rep.RecordsRejected > 0 || rep.InputsRejected > 0) {
		return &exitCodeError{code: exitError, err: fmt.Errorf("--strict: %d records and %d files rejected", rep.RecordsRejected, rep.InputsRejected)}
	}
	if o.failOn >= 0 {
		for _, a := range out.alerts {
			if a.Severity >= o.failOn {
				return &exitCodeError{code: exitAlerted, err: fmt.Errorf("alert at or above %s", o.failOn)}
			}
		}
	}
	return nil
}

// scanOptions merges the flags over the configuration file (flags win) and
// checks them.
func (e *env) scanOptions(cmd *cobra.Command, args []string, f scanFlags) (*scanOptions, error) {
	fl := cmd.Flags()
	o := &scanOptions{db: f.db, detect: !f.noDetect, rules: f.rules, output: f.output, strict: f.strict, failOn: -1, cpuProfile: f.cpuProfile, traceFile: f.traceFile, timings: f.timings}
	if f.notify && f.config == "" && e.getenv("IAMWATCH_CONFIG") == "" {
		return nil, usageErrorf("--notify needs a configuration file with a notify section (--config FILE or IAMWATCH_CONFIG)")
	}
	if f.config != "" || e.getenv("IAMWATCH_CONFIG") != "" {
		cfg, err := e.loadConfig(f.config)
		if err != nil {
			return nil, err
		}
		overFile(fl, "db", &cfg.DB, f.db)
		overFile(fl, "keep", &cfg.Keep, f.keep)
		overFile(fl, "keep-service-events", &cfg.Filter.KeepServiceEvents, f.keepService)
		o.db, f.keep, f.keepService = cfg.DB, cfg.Keep, cfg.Filter.KeepServiceEvents
		f.ignoreRoles = append(cfg.Filter.IgnoreRoles, f.ignoreRoles...)
		o.rules = append(cfg.Rules, f.rules...)
		o.detection = cfg.Detection
		if f.notify {
			if len(cfg.Notify.Sinks) == 0 {
				return nil, usageErrorf("--notify: the configuration file has no notify sinks")
			}
			o.notify = &cfg.Notify
		}
	}
	if f.output != "text" && f.output != "json" {
		return nil, usageErrorf("--output must be text or json, not %q", f.output)
	}
	keep, err := pipeline.ParseKeep(f.keep)
	if err != nil {
		return nil, usageErrorf("--keep: %v", err)
	}
	o.pipeline.Filter = pipeline.Filter{Keep: keep, DropServiceEvents: !f.keepService, IgnoreRoles: f.ignoreRoles}
	format, err := cloudtrail.ParseFormat(f.format)
	if err != nil {
		return nil, usageErrorf("--format: %v", err)
	}
	o.read = pipeline.ReadOptions{Decode: cloudtrail.Options{Format: format}, Workers: f.workers, BatchSize: f.batchSize}
	if f.failOn != "" {
		if o.failOn, err = iamwatch.ParseSeverity(f.failOn); err != nil {
			return nil, usageErrorf("--fail-on: %v", err)
		}
	}
	switch {
	case f.useSample && len(args) > 0:
		return nil, usageErrorf("give PATHs or --sample, not both")
	case f.useSample:
		o.sample = true
		var ins []pipeline.Input
		ins, err = pipeline.FromFS(sampledata.FS(), ".")
		o.inputs = pipeline.ListOf(ins)
	case len(args) == 0:
		return nil, usageErrorf("scan needs at least one PATH (or --sample)")
	default:
		// The walk goes on while the store opens, the rules load and
		// the files are read.
		o.inputs, err = pipeline.WalkList(cmd.Context(), args, e.stdin)
	}
	return o, err
}

// overFile sets *file to the flag's value when the flag was given: flags
// win over the configuration file (scan and run merge them alike).
func overFile[T any](fl *pflag.FlagSet, name string, file *T, flag T) {
	if fl.Changed(name) {
		*file = flag
	}
}

// runScan opens the store, reads the inputs through the pipeline, delivers
// what --notify asks, and reads back the new alerts as stored.
func (e *env) runScan(ctx context.Context, o *scanOptions) (out scanOutcome, err error) {
	// The summary's time (Took, records/s) is the whole scan's, as a user
	// timing the command sees it: the rules and the store opened before
	// the read, the index builds and the checkpoint of the close after it
	// (deferred first, so run last). The read's alone left out a --keep
	// all scan's last 1.5 of 6.5 s.
	start := time.Now()
	if o.timings {
		out.timings = newScanTimings(start)
	}
	defer func() { out.report.Elapsed = time.Since(start) }()
	// The whole scan: opening the store, the rules, the read and the
	// close (index rebuild, checkpoint) alike.
	for _, r := range []struct {
		path  string
		start func(io.Writer) error
		stop  func()
	}{{o.cpuProfile, pprof.StartCPUProfile, pprof.StopCPUProfile}, {o.traceFile, trace.Start, trace.Stop}} {
		if r.path == "" {
			continue
		}
		f, err := os.Create(r.path)
		if err != nil {
			return out, err
		}
		defer f.Close()
		if err := r.start(f); err != nil {
			return out, err
		}
		defer r.stop()
	}
	st, eng, err := e.scanStart(ctx, o)
	if err != nil {
		return out, err
	}
	out.timings.mark(stageStarted)
	defer func() {
		st.Close()
		out.timings.mark(stageClosed)
	}()

	var (
		mu   sync.Mutex
		keys []string // new alerts, read back once the read is done
	)
	opt := o.pipeline
	opt.OnNew = func(a iamwatch.Alert) {
		mu.Lock()
		keys = append(keys, a.DedupKey)
		mu.Unlock()
	}
	if eng != nil {
		defer eng.close()
		opt.Detector = eng.Engine
	}
	var disp *notify.Dispatcher
	if o.notify != nil {
		if disp, err = e.scanDelivery(ctx, *o.notify, st, &opt); err != nil {
			return out, err
		}
	}
	p, err := pipeline.New(st, opt)
	if err != nil {
		return out, err
	}
	read := o.read
	// heap is the Go heap's bound: scanMemoryLimit, plus the input list
	// once the walk is over (see Progress).
	var heap atomic.Int64
	heap.Store(scanMemoryLimit)
	own := e.getenv("GOMEMLIMIT") == "" // the scan sets the limit
	grow := func(n int64) {
		if n := heap.Add(n); own {
			debug.SetMemoryLimit(n)
		}
	}
	if own {
		// Batches of thousands of events come and go: without a limit the
		// heap doubles past them before the collector runs.
		defer debug.SetMemoryLimit(debug.SetMemoryLimit(scanMemoryLimit))
		if e.getenv("GOGC") == "" {
			// Under the limit, the collector need not also run each time
			// the heap doubles: with a live heap of 10–25 MiB that was
			// every 20–40 MiB allocated, ~0.5 CPU-s of a 250k-record
			// scan; letting the limit decide saves ~0.1 CPU-s.
			defer debug.SetGCPercent(debug.SetGCPercent(scanGCPercent))
		}
	}
	// The walk of the inputs runs ahead of the readers (WalkList); the
	// store is prepared for them (Begin) when the first batch is ready to
	// store.
	var finishBulk func(context.Context) (sqlite.LoadConflicts, error)
	defer func() {
		if finishBulk == nil {
			return
		}
		// The read's batches are garbage by now: give their memory back
		// before SQLite builds the indexes, or the two add up to the
		// scan's peak RSS (the 250k-record --keep all scan: 116–118 MiB,
		// 123–127 without; +20 MiB when the builds sorted in memory).
		// Run beside the first build instead, it saved nothing measurable.
		// A load of a few events builds its indexes in little memory, and
		// the collection and scavenging cost 25–40 ms (see
		// freeBeforeIndexRows).
		if out.report.Stored >= freeBeforeIndexRows {
			debug.FreeOSMemory()
			out.timings.mark(stageFreed)
		}
		dropped, err := finishBulk(context.WithoutCancel(ctx))
		out.timings.mark(stageIndexed)
		if err != nil {
			fmt.Fprintf(e.stderr, "iamwatch: %v (the next run rebuilds the indexes)\n", err)
		}
		// Records of an ID stored at another time go in during the load
		// (BeginBulkLoad) and out at its end: conflicts, not stored.
		out.report.Stored -= dropped.N
		out.report.Unstored(dropped.Unnamed)
		if out.report.Conflicts += dropped.N; dropped.N > 0 && out.report.FirstConflict == "" {
			out.report.FirstConflict = fmt.Sprintf("event %q: another record of its ID at another time was stored first", dropped.First)
		}
	}()
	// sofar is the read's report after its last stored batch (Progress
	// and Begin are called from the goroutine that stores).
	var sofar pipeline.Report
	read.Begin = func(ctx context.Context) (int, bool, error) {
		// A large first import loads faster without the secondary
		// indexes, rebuilt at the end. Its transactions are the read's
		// batches: they took 8,000 events when the load kept the
		// event_id index, each commit rewriting the pages of it that it
		// touched (random keys touch most); the load's own index grows
		// at a few places, and the read's 4,000 leave the collector more
		// room under the scan's heap limit (the 250k-record trail,
		// --keep all: 51 collections against 73, 6.8 against 7.4 s; by
		// default 2.30 against 2.48 s; 2.6× the database written
		// against 2.5×). The walk may not be over: what it listed so
		// far may be enough to tell; if not, the batches are stored as
		// they come until it is (waiting for the walk stalled the
		// readers: on a trail of 27k files, 0.1 s with only the walk
		// running).
		size := o.inputs.Bytes()
		if size < bulkMinBytes {
			return 0, !o.inputs.Walking(), nil
		}
		// And only when it will store enough events for the index
		// builds to pay (bulkMinRows). --keep all stores about every
		// record; another policy, the share of the records read so far
		// that the batches stored. Before the first batch is stored
		// that share is unknown: the batch is stored as it is, and the
		// question asked again before the next.
		rows := size / bytesPerRecord
		if o.pipeline.Filter.Keep != pipeline.KeepAll {
			if sofar.Records == 0 {
				return 0, false, nil
			}
			rows = rows * int64(sofar.Stored) / int64(sofar.Records)
		}
		if rows < bulkMinRows {
			return 0, true, nil
		}
		finish, bulk, err := st.BeginBulkLoad(ctx, size/bytesPerRecord)
		if err != nil || !bulk {
			return 0, true, err
		}
		finishBulk = finish
		return 0, true, nil
	}
	prog := e.newProgress(o.inputs)
	listed := false
	read.Progress = func(r pipeline.Report) {
		sofar = r
		if !listed && !o.inputs.Walking() {
			// The input list holds the files not read yet, up to
			// 65,536 of them (~100 bytes a file, mostly its path): the
			// limit leaves room for it, or a trail of that many files
			// would keep the collector running all along.
			listed = true
			grow(o.inputs.Footprint())
		}
		prog.update(r)
	}
	out.report, err = p.ReadList(ctx, o.inputs, read)
	out.timings.mark(stageRead)
	prog.done()
	// The new alerts as stored at the end: an incident's count, last event
	// and summary are final then, whatever batches the files fell into.
	alerts, aerr := st.AlertsByKey(context.WithoutCancel(ctx), keys)
	out.timings.mark(stageAlerts)
	out.alerts = alerts
	if rerr := pipeline.RecordRuleErrors(context.WithoutCancel(ctx), st, out.report.RuleErrors, e.now()); rerr != nil && err == nil {
		err = rerr
	}
	if err == nil {
		err = aerr
	}
	if err != nil || disp == nil {
		return out, err
	}
	// Deliver what is due now; what a sink asked to retry later stays in
	// the outbox for the next scan --notify or the daemon.
	fs, err := disp.Flush(ctx)
	out.delivered = &fs
	return out, err
}

// scanEngine is the rule engine of a scan and what releases its GeoIP
// databases.
type scanEngine struct {
	*detect.Engine
	close func()
}

// scanStart opens the store (creating or migrating the database) while the
// rules load and compile, when o.detect: neither needs the other, and the
// two are most of what a scan does before it reads its first file. eng is
// nil without detection. When either fails, both errors are returned and
// nothing is left open.
func (e *env) scanStart(ctx context.Context, o *scanOptions) (st *sqlite.Store, eng *scanEngine, err error) {
	type opened struct {
		st  *sqlite.Store
		err error
	}
	stc := make(chan opened, 1)
	go func() {
		st, err := e.openStore(ctx, o.db)
		stc <- opened{st, err}
	}()
	var derr error
	if o.detect {
		var de *detect.Engine
		var closeGeo func()
		if de, closeGeo, derr = e.detectorWith(o.rules, o.detection, o.sample); derr == nil {
			eng = &scanEngine{de, closeGeo}
		}
	}
	so := <-stc
	if err := errors.Join(so.err, derr); err != nil {
		if so.st != nil {
			so.st.Close()
		}
		if eng != nil {
			eng.close()
		}
		return nil, nil, err
	}
	return so.st, eng, nil
}

// Bulk loading: inputs of at least bulkMinBytes load with the secondary
// indexes dropped when the store holds fewer events than the inputs are
// estimated to carry (bytesPerRecord: a gzipped trail record is ~150 bytes;
// plain JSON is larger, which only makes the estimate cautious).
const bytesPerRecord = 150

// bulkMinBytes is where a bulk load starts to pay (a variable for the tests
// of the bulk path). Below it, dropping and rebuilding the indexes and the
// load's checkpointer cost more than they save: 400 files of the services
// trail (0.4 MiB) scanned --keep all in 210 ms against 203 ms without, and
// 1.5 MiB of them took 320 ms against 310 ms by default. Above it, the
// load wins and wins more the more events are kept: the same 1.5 MiB --keep
// all 438 against 463 ms; the 25k-record trail (14 MB) 921 against 1,043 ms
// --keep all; a 300k-record trail of people's denied calls (gentrail
// -profile probed, 24 MB, 91% kept) 17.6 s against 29.4 s. It was 32 MiB,
// which left such trails to the row-by-row path.
var bulkMinBytes int64 = 2 << 20

// bulkMinRows is how many events a read must be estimated to store for a
// bulk load (a variable for the tests of the bulk path). A default scan
// stores a tenth of a quiet trail's records or less, and for a few thousand
// events dropping the indexes, rebuilding them and the load's checkpointer
// cost more than they save: when bulkMinBytes alone decided, the
// 25k-record services trail (~2,000 stored) took 0.425 s with a bulk load
// against 0.400 s without, the objects trail's 25k records (~1,000) 0.482
// against 0.475 s; the people trail's 20k records (~7,000 stored) 0.557
// against 0.605 s (eight or ten interleaved runs each). The estimate from
// the first batch is rough (those three: 2,274, ~1,000 and 3,837 events),
// hence 3,000 rather than the break-even's 5,000.
var bulkMinRows int64 = 3000

// freeBeforeIndexRows is how many events a bulk load must have stored for
// the scan to return the read's memory to the system before it builds the
// indexes: the 25k-record services trail, which stores 2.5k events by
// default, then took 479 against 501 ms (15 interleaved runs) with the
// same peak RSS; the 250k one, 20k stored, still returns it (skipped, its
// peak RSS rose 108 → 114 MiB for no measurable time).
const freeBeforeIndexRows = 10_000

// scanMemoryLimit is the Go heap a scan aims to stay under (GOMEMLIMIT
// overrides it): the SQLite page cache and the binary come on top, and
// the whole process should stay under 150 MiB.
const scanMemoryLimit = 64 << 20

// scanGCPercent is the scan's GOGC under scanMemoryLimit.
const scanGCPercent = 400

// scanDelivery builds the configured sinks, routes each alert the scan
// claims into the outbox (opt.Enqueue) and returns the dispatcher that
// drains it.
func (e *env) scanDelivery(ctx context.Context, cfg notify.Config, st iamwatch.Outbox, opt *pipeline.Options) (*notify.Dispatcher, error) {
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("aws configuration: %w", err)
	}
	sinks, err := e.daemonSinks(ctx, cfg, awsCfg, e.log)
	if err != nil {
		return nil, err
	}
	disp, err := notify.NewDispatcher(notify.DispatcherOptions{
		Outbox: st, Sinks: sinks, RateLimits: cfg.RateLimits(), Retry: cfg.Retry, Lease: cfg.Lease, Digest: cfg.Digest, Now: e.now, Logger: e.log,
	})
	if err != nil {
		return nil, err
	}
	router, err := notify.NewRouter(cfg, st, e.now, nil)
	if err != nil {
		return nil, err
	}
	opt.Enqueue = func(ctx context.Context, a iamwatch.Alert) error {
		_, err := router.Enqueue(ctx, a)
		return err
	}
	return disp, nil
}

// alertPrinter writes alerts and the summary in the chosen output.
// Safe for concurrent use.
type alertPrinter struct {
	mu     sync.Mutex
	w      io.Writer
	json   bool
	alerts int
}

func newAlertPrinter(w io.Writer, output string) *alertPrinter {
	return &alertPrinter{w: w, json: output == "json"}
}

func (p *alertPrinter) alert(a iamwatch.Alert) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.alerts++
	if p.json {
		writeJSONLine(p.w, a)
		return
	}
	fmt.Fprintf(p.w, "[%s] %s\n  %s\n  %s\n", strings.ToUpper(a.Severity.String()), untrusted.Terminal(a.Title), untrusted.Terminal(a.Summary), alertDetails(a))
}

// alertDetails is the one-line "Event: … · User: …" of an alert, escaped for a terminal.
func alertDetails(a iamwatch.Alert) string {
	parts := []string{
		"Rule: " + a.Rule,
		"Event: " + a.EventName,
		"User: " + a.UserName,
		"Source IP: " + a.SourceIP + alertGeo(a),
		"Region: " + a.Region,
		"Account: " + a.AccountID,
		"Time: " + a.Time.UTC().Format(iamwatch.TimeFormat),
	}
	if a.Count > 1 {
		parts = append(parts, fmt.Sprintf("Events: %d (%s to %s; iamwatch alerts --events %s)", a.Count,
			a.FirstSeen.UTC().Format(iamwatch.TimeFormat), a.LastSeen.UTC().Format(iamwatch.TimeFormat), a.DedupKey))
	}
	if len(a.EventIDs) > 0 {
		ids := strings.Join(a.EventIDs, ", ")
		parts = append(parts, "Event ID: "+ids)
	}
	return untrusted.Terminal(strings.Join(parts, " · "))
}

// alertGeo is " (DE, AS64498 Example Hosting GmbH)", or "" when the
// source IP was not located.
func alertGeo(a iamwatch.Alert) string {
	g := iamwatch.Geo{Country: a.Country, ASN: iamwatch.ParseASN(a.ASN), ASOrg: a.ASOrg}.String()
	if g == "" {
		return ""
	}
	return " (" + g + ")"
}

func (p *alertPrinter) summary(r pipeline.Report) {
	p.mu.Lock()
	defer p.mu.Unlock()
	rate := 0.0
	if s := r.Elapsed.Seconds(); s > 0 {
		rate = float64(r.Records) / s
	}
	if p.json {
		writeJSONLine(p.w, struct {
			Summary pipeline.Report `json:"summary"`
			Seconds float64         `json:"seconds"`
			PerSec  float64         `json:"records_per_second"`
		}{r, r.Elapsed.Seconds(), rate})
		return
	}
	w := p.w
	fmt.Fprintf(w, "\nScanned %d files (%d skipped, %d rejected): %d records, %d rejected",
		r.Inputs, r.InputsSkipped, r.InputsRejected, r.Records, r.RecordsRejected)
	if r.RecordsSkipped > 0 {
		fmt.Fprintf(w, ", %d skipped", r.RecordsSkipped)
	}
	fmt.Fprintf(w, ".\nStored %d new events, %d duplicates skipped, %d not kept by the filter.\n",
		r.Stored, r.Duplicates, r.Events-r.Kept)
	fmt.Fprintf(w, "Alerts: %d new.\n", r.NewAlerts)
	if r.Superseded > 0 {
		fmt.Fprintf(w, "Not notified on their own: %d alerts, steps of a sequence alert that lists them.\n", r.Superseded)
	}
	if r.Unevaluated > 0 {
		fmt.Fprintf(w, "Not evaluated by the rules (stored): %d events; the first: %s\n", r.Unevaluated, untrusted.Terminal(r.FirstUnevaluated))
	}
	for _, re := range r.RuleErrors {
		fmt.Fprintf(w, "Rule %s failed to evaluate on %d events (it did not match them); the first: %s\n",
			untrusted.Terminal(re.Rule), re.Events, untrusted.Terminal(re.First))
	}
	if r.Conflicts > 0 {
		fmt.Fprintf(w, "Conflicting records (an eventID already taken by a different record; the first kept): %d; the first: %s\n", r.Conflicts, untrusted.Terminal(r.FirstConflict))
	}
	fmt.Fprintf(w, "Took %s (%.0f records/s).\n", r.Elapsed.Round(time.Millisecond), rate)
	printSkipped(w, r)
	for _, rj := range r.Rejections {
		fmt.Fprintf(w, "  rejected %s\n", untrusted.Terminal(rj.String()))
	}
	if n := r.RecordsRejected + r.InputsRejected - len(r.Rejections); n > 0 {
		fmt.Fprintf(w, "  … and %d more rejections\n", n)
	}
}

// printSkipped sums the skipped inputs up by reason, most first: a trail
// bucket's digests or a log archive's other files are thousands of one
// reason.
func printSkipped(w io.Writer, r pipeline.Report) {
	for _, c := range r.SkippedBy {
		fmt.Fprintln(w, untrusted.Terminal(fmt.Sprintf("  skipped %d %s: %s; the first: %s",
			c.Files, plural(c.Files, "file", "files"), c.Reason, c.First)))
	}
}

// progress draws a one-line progress report on stderr when it is a
// terminal, at most ten times a second.
type progress struct {
	w      io.Writer
	inputs *pipeline.List
	on     bool
	start  time.Time
	last   time.Time
	drawn  bool
	// counted is the number of inputs a count of a long walk found
	// (List.Count), -1 until then; stop ends that count.
	counted atomic.Int64
	stop    context.CancelFunc
}

func (e *env) newProgress(inputs *pipeline.List) *progress {
	p := &progress{w: e.stderr, inputs: inputs, start: time.Now()}
	p.counted.Store(-1)
	if f, ok := e.stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) && e.getenv("TERM") != "dumb" {
		p.on = true
	}
	return p
}

func (p *progress) update(r pipeline.Report) {
	if !p.on || time.Since(p.last) < 100*time.Millisecond {
		return
	}
	p.last = time.Now()
	total := -1 // still listing
	switch {
	case !p.inputs.Walking():
		total = p.inputs.Len()
	case p.stop == nil:
		// A walk still going after the first batch is long: the list
		// keeps only the next files, so the total comes from a count of
		// its own, for the bar and the time left.
		var ctx context.Context
		ctx, p.stop = context.WithCancel(context.Background())
		go func() { p.counted.Store(int64(p.inputs.Count(ctx))) }()
	default:
		total = int(p.counted.Load())
	}
	fmt.Fprint(p.w, "\r\x1b[K"+progressLine(r.Inputs+r.InputsSkipped+r.InputsRejected, total, r.Records, time.Since(p.start)))
	p.drawn = true
}

// progressLine is the progress line after done of total files and records
// records in elapsed: a bar, the counts, the rate and, once a file is done,
// the time left at the rate so far. A total below 0 is not known yet (the
// files are still being listed): no bar, no time left.
func progressLine(done, total, records int, elapsed time.Duration) string {
	var line string
	if total < 0 {
		line = fmt.Sprintf("%d files (listing) · %d records", done, records)
	} else {
		line = fmt.Sprintf("%s %d/%d files · %d records", bar(done, total, 24), done, total, records)
	}
	if s := elapsed.Seconds(); s > 0 {
		line += fmt.Sprintf(" · %.0f/s", float64(records)/s)
	}
	if done > 0 && done < total {
		left := time.Duration(float64(elapsed) * float64(total-done) / float64(done))
		line += " · " + left.Round(time.Second).String() + " left"
	}
	return line
}

func (p *progress) done() {
	if p.stop != nil {
		p.stop()
	}
	if p.drawn {
		fmt.Fprint(p.w, "\r\x1b[K")
	}
}

func bar(done, total, width int) string {
	if total <= 0 {
		total = 1
	}
	n := min(width, done*width/total)
	return "[" + strings.Repeat("█", n) + strings.Repeat("·", width-n) + "]"
}
