package cloudtrail

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/klauspost/compress/gzip"

	"github.com/iamwatch/iamwatch"
)

// Defaults for Options.
const (
	// DefaultMaxRecordBytes bounds one record (or one envelope around it).
	// CloudTrail's own limit on an event is 256 KB; LookupEvents escapes the
	// record inside a string, which can double it.
	DefaultMaxRecordBytes = 1 << 20
	// DefaultMaxDecompressedBytes bounds one input after decompression. Real
	// trail files are megabytes; this refuses a gzip bomb in a few seconds.
	DefaultMaxDecompressedBytes = 2 << 30
)

// Options configure a Decoder. The zero value is usable: Auto format and the
// default limits.
type Options struct {
	Format Format // Auto when empty.

	// MaxRecordBytes bounds a record, and so the memory a Decoder holds per
	// input. A longer record is reported (ErrTooLarge) and skipped.
	MaxRecordBytes int
	// MaxDecompressedBytes bounds the bytes read from one input after gzip
	// decompression: past it the input is refused with ErrTooLarge.
	MaxDecompressedBytes int64

	// OnError, if set, is called for every record that is not decoded
	// (rejected or skipped), in input order, on the goroutine that called
	// Decode. The error is not retained by the Decoder.
	OnError func(*RecordError)

	// Want, if set, is asked about each record of a trail file before the
	// record is copied: one it refuses is counted (Stats.Unwanted) and not
	// passed to yield, at a fraction of the cost of decoding it. The event
	// it is given is complete, Raw, RequestParameters and ResponseElements
	// included (detect's pre-checks read Raw), but valid only during the
	// call (its strings and slices point into the Decoder's buffer): Want
	// must not keep it or any part of it.
	// It may be called from several goroutines at once. Records of other
	// shapes are all passed to yield.
	Want func(*iamwatch.Event) bool
}

// Stats counts what one Decode call read. Records == Events + Rejected +
// Skipped + Unwanted always holds.
type Stats struct {
	Records  int   `json:"records"`            // values found where a record or envelope belongs
	Events   int   `json:"events"`             // decoded and passed to yield
	Rejected int   `json:"rejected"`           // not decoded: bad JSON, missing fields, unknown shape, too large
	Skipped  int   `json:"skipped"`            // recognised and left out: Insights records
	Unwanted int   `json:"unwanted,omitempty"` // decoded and refused by Options.Want
	Bytes    int64 `json:"bytes"`              // bytes read, after decompression
	Gzip     bool  `json:"gzip"`               // the input was gzip-compressed
	// Format is the shape found: of the first container or element, an
	// envelope kind (eventbridge, lookup) before the array or lines
	// carrying it.
	Format Format `json:"format"`
}

// RecordError is a record that was not decoded. Decoding goes on after it.
type RecordError struct {
	File    string // the name given to Decode
	Index   int    // 0-based index of the record in the input
	EventID string // the record's eventID when it could be read
	Err     error  // wraps ErrInvalidJSON, ErrMissingField, ErrBadTime, ErrUnknownShape, ErrTooLarge or ErrSkipped
}

func (e *RecordError) Error() string {
	var b strings.Builder
	b.WriteString("cloudtrail: ")
	if e.File != "" {
		fmt.Fprintf(&b, "%s: ", e.File)
	}
	fmt.Fprintf(&b, "record %d", e.Index)
	if e.EventID != "" {
		fmt.Fprintf(&b, " (event %q)", e.EventID)
	}
	b.WriteString(": ")
	b.WriteString(e.Err.Error())
	return b.String()
}

func (e *RecordError) Unwrap() error { return e.Err }

// Decoder decodes CloudTrail inputs. It is safe for concurrent use: each
// Decode call has its own state. It keeps the buffers and gzip state of
// finished calls for the next ones (a trail is thousands of small files),
// so reuse one Decoder across inputs.
type Decoder struct {
	opt   Options
	files sync.Pool // of *fileState
}

// fileState is the reusable state of one Decode call: about 100 KiB that
// would otherwise be allocated, and zeroed, for every input.
type fileState struct {
	br  *bufio.Reader
	gz  *gzip.Reader // nil until the first gzip input.
	buf []byte       // the stream's buffer.
	st  decodeState  // the Decode call's state, reset by each call.
}

// maxPooledBuf bounds the stream buffer a Decoder keeps between calls; a
// buffer grown for a larger record is dropped.
const maxPooledBuf = 4 * readChunk

func (d *Decoder) getFile() *fileState {
	if f, ok := d.files.Get().(*fileState); ok {
		return f
	}
	return &fileState{br: bufio.NewReaderSize(nil, 4<<10), buf: make([]byte, readChunk)}
}

func (d *Decoder) putFile(f *fileState) {
	f.br.Reset(nil)
	if cap(f.buf) > maxPooledBuf {
		f.buf = make([]byte, readChunk)
	}
	d.files.Put(f)
}

// NewDecoder validates opt, fills in defaults and returns a Decoder.
func NewDecoder(opt Options) (*Decoder, error) {
	if opt.Format == "" {
		opt.Format = Auto
	}
	if _, err := ParseFormat(string(opt.Format)); err != nil {
		return nil, err
	}
	switch {
	case opt.MaxRecordBytes < 0:
		return nil, fmt.Errorf("cloudtrail: MaxRecordBytes %d < 0", opt.MaxRecordBytes)
	case opt.MaxRecordBytes == 0:
		opt.MaxRecordBytes = DefaultMaxRecordBytes
	}
	switch {
	case opt.MaxDecompressedBytes < 0:
		return nil, fmt.Errorf("cloudtrail: MaxDecompressedBytes %d < 0", opt.MaxDecompressedBytes)
	case opt.MaxDecompressedBytes == 0:
		opt.MaxDecompressedBytes = DefaultMaxDecompressedBytes
	}
	return &Decoder{opt: opt}, nil
}

// Decode is NewDecoder(opt) followed by its Decode.
func Decode(ctx context.Context, r io.Reader, name string, opt Options, yield func(*iamwatch.Event) error) (Stats, error) {
	d, err := NewDecoder(opt)
	if err != nil {
		return Stats{}, err
	}
	return d.Decode(ctx, r, name, yield)
}

// Decode reads every record of r and calls yield with each event in input
// order. name identifies the input in errors; a name that says the file is
// a digest, Insights or another service's log (SkipByName) is skipped
// without reading; one of another name is recognised by its content. Gzip input is recognised by its magic bytes.
//
// The *Event passed to yield is reused for the next record: copy the struct
// (*ev) to keep it; its slices and strings are never reused. Event.Raw is
// always the CloudTrail record itself (the detail of an EventBridge event,
// the unquoted CloudTrailEvent of a LookupEvents event), never its envelope. If yield returns
// an error, Decode stops and returns it.
//
// A record that cannot be decoded is reported to Options.OnError, counted,
// and skipped. The returned error is for the input as a whole: a read or
// gzip error (records before it were yielded), ErrTooLarge past
// MaxDecompressedBytes, ErrUnknownShape when nothing in it is CloudTrail, or
// ErrSkipped for a digest, Insights or other service's file (SkipByName). Every error names the input.
func (d *Decoder) Decode(ctx context.Context, r io.Reader, name string, yield func(*iamwatch.Event) error) (Stats, error) {
	return d.DecodeWith(ctx, r, name, d.opt.OnError, yield)
}

// DecodeWith is Decode reporting the records not decoded to onError (which
// may be nil) instead of Options.OnError: one Decoder can then serve many
// inputs, each reported on its own.
func (d *Decoder) DecodeWith(ctx context.Context, r io.Reader, name string, onError func(*RecordError), yield func(*iamwatch.Event) error) (Stats, error) {
	f := d.getFile()
	// The state of the call lives in the pooled fileState: a trail of
	// many small files otherwise allocates it (~700 bytes) per file.
	st := &f.st
	*st = decodeState{d: d, ctx: ctx, name: name, yield: yield, onError: onError}
	err := st.run(r, f)
	stats := st.stats
	*st = decodeState{} // no references kept in the pool
	d.putFile(f)
	if err != nil {
		if name == "" {
			name = "input"
		}
		err = &InputError{Name: name, Err: err}
	}
	return stats, err
}

// InputError is why an input could not be decoded to its end (its records
// until then were): Name is the name given to Decode, "input" when none.
type InputError struct {
	Name string
	Err  error // wraps ErrInvalidJSON, ErrUnknownShape, ErrTooLarge, ErrSkipped, a read's error or ctx's
}

func (e *InputError) Error() string { return "cloudtrail: " + e.Name + ": " + e.Err.Error() }

func (e *InputError) Unwrap() error { return e.Err }

// decodeState is one Decode call.
type decodeState struct {
	d       *Decoder
	ctx     context.Context
	name    string
	yield   func(*iamwatch.Event) error
	onError func(*RecordError)
	s       *stream
	stats   Stats
	ev      iamwatch.Event

	lineMode  bool
	logLine   bool // the value is a CloudWatch Logs export line's message
	topValues int  // top-level values other than streamed containers
	insights  int  // Insights records skipped
	digest    bool
}

// element kinds: what a value in a given place must be.
type kind int

const (
	anyKind    kind = iota // classify by content
	recordKind             // a record (inside "Records")
)

func (st *decodeState) run(r io.Reader, f *fileState) error {
	if err := SkipByName(st.name); err != nil {
		return err
	}
	opt := &st.d.opt
	br := f.br
	br.Reset(r)
	var in io.Reader = br
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		var err error
		if f.gz == nil {
			f.gz, err = gzip.NewReader(br)
		} else {
			err = f.gz.Reset(br)
		}
		if err != nil {
			return fmt.Errorf("gzip: %w", err)
		}
		defer f.gz.Close()
		in = f.gz
		st.stats.Gzip = true
	}
	lr := &limitReader{r: in, max: opt.MaxDecompressedBytes, gzip: st.stats.Gzip}
	st.s = newStream(lr, f.buf, opt.MaxRecordBytes)
	defer func() { f.buf = st.s.buf }() // keep a grown buffer
	err := st.top()
	st.stats.Bytes = lr.n
	if st.s.err != nil && (err == nil || errors.Is(err, io.ErrUnexpectedEOF)) {
		// A read error (gzip, limit, I/O) explains any early end.
		return st.s.err
	}
	if st.stats.Format == Lines && st.topValues == 1 {
		st.stats.Format = Record
	}
	if err != nil {
		return err
	}
	if st.s.err != nil {
		return st.s.err
	}
	switch {
	case st.digest && st.stats.Events == 0:
		return fmt.Errorf("%w: digest file", ErrSkipped)
	case st.insights > 0 && st.stats.Events == 0 && st.stats.Rejected == 0:
		return fmt.Errorf("%w: insights file", ErrSkipped)
	}
	return nil
}

// top reads the values at the top level of the input.
func (st *decodeState) top() error {
	s := st.s
	f := st.d.opt.Format
	st.lineMode = f == Lines
	s.skipBOM()
	first := true
	for {
		c := s.peek()
		if c == 0 {
			return nil
		}
		if err := st.ctx.Err(); err != nil {
			return err
		}
		switch {
		case c == '[':
			if f != Auto && f != Array && f != EventBridge && f != Lookup && f != CloudWatchLogs {
				return fmt.Errorf("%w: a JSON array, not %s input", ErrUnknownShape, f)
			}
			st.setFormat(Array)
			s.pos++
			if err := st.array(anyKind); err != nil {
				return err
			}
		case c == '{':
			if key, open, ok := s.containerKey(); ok {
				if err := st.checkContainer(key); err != nil {
					return err
				}
				s.pos = open + 1
				if err := st.container(key); err != nil {
					return err
				}
				break
			}
			if f == Trail {
				return fmt.Errorf("%w: not a trail file ({\"Records\":[…]})", ErrUnknownShape)
			}
			if f == Array {
				return fmt.Errorf("%w: not a JSON array", ErrUnknownShape)
			}
			if err := st.topValue(); err != nil {
				return err
			}
		default:
			if n := s.logLinePrefix(); n > 0 && (f == Auto || f == CloudWatchLogs) {
				// A CloudWatch Logs export line: "TIMESTAMP record".
				s.pos += n
				st.lineMode, st.logLine = true, true
				st.setFormat(CloudWatchLogs)
				err := st.topValue()
				st.logLine = false
				if err != nil {
					return err
				}
				break
			}
			if first {
				if kind := s.archiveKind(); kind != "" {
					return fmt.Errorf("%w: a %s archive", ErrArchive, kind)
				}
			}
			if first && f == Auto {
				return fmt.Errorf("%w: input starts with %q, not JSON", ErrUnknownShape, c)
			}
			if err := st.topValue(); err != nil {
				return err
			}
		}
		first = false
		if st.digest {
			return nil
		}
	}
}

func (st *decodeState) checkContainer(key string) error {
	f := st.d.opt.Format
	switch {
	case key == "Records" && (f == Auto || f == Trail || f == Lines):
		st.setFormat(Trail)
	case key == "Events" && (f == Auto || f == Lookup):
		st.setFormat(Lookup)
	case (key == "events" || key == "logEvents") && (f == Auto || f == CloudWatchLogs):
		st.setFormat(CloudWatchLogs)
	default:
		return fmt.Errorf("%w: a %q list, not %s input", ErrUnknownShape, key, f)
	}
	return nil
}

// setFormat records the shape found first; an envelope kind (EventBridge,
// Lookup, CloudWatchLogs) is more telling than the array or lines that
// carry it.
func (st *decodeState) setFormat(f Format) {
	cur := st.stats.Format
	if cur == "" || (cur == Array || cur == Lines) && (f == EventBridge || f == Lookup || f == CloudWatchLogs) && st.stats.Records == 0 {
		st.stats.Format = f
	}
}

// topValue reads one top-level value other than a streamed container: a
// record, an envelope, a line of any of those.
func (st *decodeState) topValue() error {
	s := st.s
	raw, status := s.value(st.lineMode)
	st.topValues++
	switch status {
	case valueTruncated:
		st.reject(peekEventID(raw), fmt.Errorf("%w: input ends inside the record", ErrInvalidJSON))
		return nil
	case valueBrokenLine:
		st.reject(peekEventID(raw), fmt.Errorf("%w: line ends inside the record", ErrInvalidJSON))
		return nil
	case valueTooLarge:
		st.reject("", st.tooLarge())
		return nil
	}
	if st.topValues == 1 && st.d.opt.Format == Auto {
		// Compact first value: one value per line from here on, so that
		// a broken line costs that line only.
		st.lineMode = bytes.IndexByte(raw, '\n') < 0
	}
	return st.element(raw, anyKind, true)
}

// array streams the elements of an array whose '[' was consumed.
func (st *decodeState) array(k kind) error {
	s := st.s
	first := true
	for {
		c := s.peek()
		switch {
		case c == 0:
			return fmt.Errorf("%w: inside an array", errTruncated)
		case c == ']':
			s.pos++
			return nil
		case !first:
			if c != ',' {
				return fmt.Errorf("%w: want , or ] between array elements, got %q", ErrInvalidJSON, c)
			}
			s.pos++
			if c = s.peek(); c == 0 {
				return fmt.Errorf("%w: inside an array", errTruncated)
			}
		}
		first = false
		if err := st.ctxCheck(); err != nil {
			return err
		}
		if k == recordKind && c == '{' {
			done, err := st.direct()
			if err != nil {
				return err
			}
			if done {
				continue
			}
		}
		raw, status := s.value(false)
		switch status {
		case valueTruncated:
			return fmt.Errorf("%w: inside an array", errTruncated)
		case valueTooLarge:
			st.reject("", st.tooLarge())
			continue
		}
		if err := st.element(raw, k, false); err != nil {
			return err
		}
		if st.digest {
			return nil
		}
	}
}

// direct decodes the record at pos where it lies in the stream's buffer,
// without a splitting pass: the fast path for trail files. It reports false,
// having consumed nothing, when the record is not valid or too large: the
// caller then splits it off and reports it.
func (st *decodeState) direct() (bool, error) {
	s := st.s
	for {
		var d recordDecoder
		d.p.b = s.buf[s.pos:s.end]
		d.want = st.d.opt.Want
		err := d.record()
		if err == nil && d.p.i > s.limit {
			s.pos += d.p.i
			st.reject(peekEventID(d.p.b[:d.p.i]), st.tooLarge())
			return true, nil
		}
		if err == nil {
			b := d.p.b
			s.pos += d.p.i
			id, err := d.finish(b, &st.ev)
			if errors.Is(err, errUnwanted) {
				st.stats.Records++
				st.stats.Unwanted++
				return true, nil
			}
			if err != nil {
				st.recordFailed(id, "", err)
				return true, nil
			}
			return true, st.emit()
		}
		if !d.p.short || s.end-s.pos > s.limit || !s.more() {
			return false, nil
		}
	}
}

// container streams {"Records":[…], …}, {"Events":[…], …}, {"events":[…], …}
// or {"logEvents":[…], …} from just after the '[', then the object's other
// members.
func (st *decodeState) container(key string) error {
	k := anyKind
	if key == "Records" {
		k = recordKind
	}
	if err := st.array(k); err != nil {
		return err
	}
	s := st.s
	for {
		switch c := s.peek(); c {
		case 0:
			return fmt.Errorf("%w: inside the %q object", errTruncated, key)
		case '}':
			s.pos++
			return nil
		case ',':
			s.pos++
		default:
			return fmt.Errorf("%w: want , or } after the %q list, got %q", ErrInvalidJSON, key, c)
		}
		// "key": value
		if s.peek() != '"' {
			return fmt.Errorf("%w: want a key in the %q object", ErrInvalidJSON, key)
		}
		kraw, status := s.value(false)
		if status != valueOK {
			return fmt.Errorf("%w: bad key in the %q object", ErrInvalidJSON, key)
		}
		next := string(kraw)
		if s.peek() != ':' {
			return fmt.Errorf("%w: want : after %s", ErrInvalidJSON, next)
		}
		s.pos++
		c := s.peek()
		if c == 0 {
			return fmt.Errorf("%w: inside the %q object", errTruncated, key)
		}
		if name := strings.Trim(next, `"`); isContainerKey(name) && c == '[' {
			if err := st.checkContainer(name); err != nil {
				return err
			}
			s.pos++
			k = anyKind
			if name == "Records" {
				k = recordKind
			}
			if err := st.array(k); err != nil {
				return err
			}
			continue
		}
		if _, status := s.value(false); status == valueTruncated {
			return fmt.Errorf("%w: inside the %q object", errTruncated, key)
		}
	}
}

func (st *decodeState) ctxCheck() error {
	if st.stats.Records&1023 == 0 {
		return st.ctx.Err()
	}
	return nil
}

// element decodes one value found where a record or an envelope belongs.
func (st *decodeState) element(raw []byte, k kind, top bool) error {
	if k == recordKind {
		return st.record(raw, "")
	}
	if len(raw) == 0 || raw[0] != '{' {
		if top && st.lineMode && len(raw) > 0 && raw[0] != '[' && raw[0] != '"' {
			// A line of junk: report it once, not once per token.
			st.s.skipLine()
		}
		if kind := jsonKind(raw); kind != "" {
			st.reject("", fmt.Errorf("%w: a %s, not a JSON object", ErrUnknownShape, kind))
		} else {
			st.reject("", fmt.Errorf("%w: not JSON", ErrInvalidJSON))
		}
		return nil
	}
	f := st.d.opt.Format
	if f == CloudWatchLogs && st.logLine {
		f = Lines // an export line's message is the record itself
	}
	if f != EventBridge && f != Lookup && f != CloudWatchLogs {
		// Most values are bare records: try that first, in one pass.
		var d recordDecoder
		d.p.b = raw
		if d.record() == nil && d.p.peek() == 0 && (d.w.eventID != text{} || d.w.eventTime != text{} || d.w.hasIdentity) {
			if top {
				st.setFormat(Lines)
			}
			id, err := d.finish(raw, &st.ev)
			if err != nil {
				st.recordFailed(id, "", err)
				return nil
			}
			return st.emit()
		}
	}
	e, err := classify(raw)
	if err != nil {
		st.reject(peekEventID(raw), fmt.Errorf("%w: %w", ErrInvalidJSON, err))
		return nil
	}
	switch e.kind {
	case envRecord:
		if f == EventBridge || f == Lookup || f == CloudWatchLogs {
			st.reject(peekEventID(raw), fmt.Errorf("%w: a bare record, not %s input", ErrUnknownShape, f))
			return nil
		}
		if top {
			st.setFormat(Lines)
		}
		return st.record(raw, "")
	case envEventBridge:
		if f != Auto && f != EventBridge {
			st.reject(e.id, fmt.Errorf("%w: an EventBridge event, not %s input", ErrUnknownShape, f))
			return nil
		}
		st.setFormat(EventBridge)
		switch e.detailType {
		case "AWS API Call via CloudTrail", "AWS Console Sign In via CloudTrail", "AWS Service Event via CloudTrail":
			return st.record(e.inner, e.id)
		case "AWS Insight via CloudTrail":
			st.skip(e.id, fmt.Errorf("%w: insight event", ErrSkipped))
			st.insights++
			return nil
		}
		st.reject(e.id, fmt.Errorf("%w: EventBridge detail-type %q is not a CloudTrail record", ErrUnknownShape, e.detailType))
		return nil
	case envLookup:
		return st.wrapped(e, f, Lookup, "a LookupEvents event")
	case envLogEvent:
		return st.wrapped(e, f, CloudWatchLogs, "a CloudWatch Logs log event")
	case envLogControl:
		st.skip(e.id, fmt.Errorf("%w: CloudWatch Logs control message", ErrSkipped))
		return nil
	case envContainer:
		// A whole trail file, LookupEvents page or log events list as one
		// line or array element: bounded by MaxRecordBytes, decoded from
		// memory.
		if err := st.checkContainer(e.containerKey); err != nil {
			st.reject("", err)
			return nil
		}
		return st.nested(e.inner, e.containerKey)
	case envDigest:
		st.digest = true
		return nil
	}
	st.reject(peekEventID(raw), fmt.Errorf("%w: a JSON object that is no CloudTrail record or envelope", ErrUnknownShape))
	return nil
}

// wrapped decodes the record envelope e carries as a string (a LookupEvents
// event's CloudTrailEvent, a log event's message) when input of format f
// may hold envelopes of format own; what names them in the error if not.
func (st *decodeState) wrapped(e envelope, f, own Format, what string) error {
	if f != Auto && f != own {
		st.reject(e.id, fmt.Errorf("%w: %s, not %s input", ErrUnknownShape, what, f))
		return nil
	}
	st.setFormat(own)
	return st.record(e.inner, e.id)
}

// nested decodes the elements of a records or events array held in memory.
func (st *decodeState) nested(arr []byte, key string) error {
	k := anyKind
	if key == "Records" {
		k = recordKind
	}
	p := parser{b: arr}
	p.i = 1 // past '['
	if p.peek() == ']' {
		return nil
	}
	for {
		start := p.i
		if err := p.skip(1); err != nil {
			return err // classify validated arr: cannot happen
		}
		if err := st.element(arr[start:p.i], k, false); err != nil {
			return err
		}
		if p.peek() != ',' {
			return nil
		}
		p.i++
		p.ws()
	}
}

// record decodes a record and yields it. envID is the envelope's event ID,
// used in errors when the record has none of its own.
func (st *decodeState) record(raw []byte, envID string) error {
	id, err := decodeRecord(raw, &st.ev)
	if err != nil {
		st.recordFailed(id, envID, err)
		return nil
	}
	return st.emit()
}

func (st *decodeState) tooLarge() error {
	return fmt.Errorf("%w: record longer than %d bytes", ErrTooLarge, st.d.opt.MaxRecordBytes)
}

func (st *decodeState) emit() error {
	st.stats.Records++
	st.stats.Events++
	return st.yield(&st.ev)
}

func (st *decodeState) recordFailed(id, envID string, err error) {
	if id == "" {
		id = envID
	}
	if errors.Is(err, ErrSkipped) {
		st.insights++
		st.skip(id, err)
	} else {
		st.reject(id, err)
	}
}

func (st *decodeState) reject(id string, err error) {
	st.stats.Rejected++
	st.report(id, err)
}

func (st *decodeState) skip(id string, err error) {
	st.stats.Skipped++
	st.report(id, err)
}

func (st *decodeState) report(id string, err error) {
	idx := st.stats.Records
	st.stats.Records++
	if st.onError != nil {
		st.onError(&RecordError{File: st.name, Index: idx, EventID: id, Err: err})
	}
}

// jsonKind names the kind of a JSON value other than an object, or returns
// "" when raw is not JSON.
func jsonKind(raw []byte) string {
	p := parser{b: raw}
	if len(raw) == 0 || p.skip(0) != nil || p.peek() != 0 {
		return ""
	}
	switch raw[0] {
	case '[':
		return "JSON array"
	case '"':
		return "JSON string"
	case 't', 'f':
		return "JSON boolean"
	case 'n':
		return "JSON null"
	}
	return "JSON number"
}

// limitReader counts bytes and fails past max.
type limitReader struct {
	r    io.Reader
	n    int64
	max  int64
	gzip bool
}

func (l *limitReader) Read(p []byte) (int, error) {
	if l.n > l.max {
		return 0, l.tooLarge()
	}
	if int64(len(p)) > l.max-l.n+1 {
		p = p[:l.max-l.n+1]
	}
	n, err := l.r.Read(p)
	l.n += int64(n)
	if l.n > l.max {
		return n, l.tooLarge()
	}
	if l.gzip && err != nil && !errors.Is(err, io.EOF) && !strings.HasPrefix(err.Error(), "gzip: ") {
		// Say the file is damaged, not only "unexpected EOF" (a truncated download).
		err = fmt.Errorf("gzip: stream damaged or cut short: %w", err)
	}
	return n, err
}

func (l *limitReader) tooLarge() error {
	if l.gzip {
		return fmt.Errorf("%w: decompresses to more than %d bytes (a gzip bomb?)", ErrTooLarge, l.max)
	}
	return fmt.Errorf("%w: more than %d bytes", ErrTooLarge, l.max)
}
