package sample

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// File is one generated file: its path relative to the sample root
// (data/… for inputs) and its bytes.
type File struct {
	Path string
	Data []byte
}

// DataDir is the directory of the sample root holding the input files; the
// rest of the root (MANIFEST.md) describes them.
const DataDir = "data"

// Paths of the non-trail files, relative to DataDir.
const (
	PathEventBridgeLines = "eventbridge/cloudtrail-events.jsonl"
	PathEventBridgeArray = "eventbridge/cloudtrail-events-array.json"
	PathLookup           = "lookup-events/lookup-events-" + LookupRegion + ".json"
	PathLookupLines      = "lookup-events/lookup-events-" + LookupLinesRegion + ".jsonl"
	PathRecordLines      = "records/records.jsonl"
	PathRecordArray      = "records/records-array.json"
	PathSingle           = "records/single-record.json"
	PathBroken           = "broken/broken-records.jsonl"
	// PathLogsExport is an object a CloudWatch Logs export task wrote (its
	// S3 layout: prefix, task ID, log stream), PathLogsFiltered the output
	// of aws logs filter-log-events over the same log group.
	PathLogsExport   = "cloudwatch-logs/exportedlogs/6f1d2c3b-4a5e-4f60-8a7b-9c0d1e2f3a4b/" + logStream + "/000000.gz"
	PathLogsFiltered = "cloudwatch-logs/filter-log-events.json"
)

// Build generates the whole sample: every input file under DataDir and
// MANIFEST.md, sorted by path. The same Options always yield the same bytes.
func Build(opt Options) ([]File, error) {
	opt = opt.withDefaults()
	recs := Generate(opt)
	b := &builder{opt: opt, ids: newIDs(opt.Seed, 6), byShape: map[Shape][]*Record{}}
	for i := range recs {
		r := &recs[i]
		b.byShape[r.Shape] = append(b.byShape[r.Shape], r)
	}
	tw := NewTrailWriter(b.put, opt.Seed)
	// The sample is sparse: a 5-minute window, as CloudTrail delivers,
	// would mean hundreds of files of a few records each.
	tw.Window = 2 * time.Hour
	tw.DuplicateRate = 0.03
	for _, r := range b.byShape[ShapeTrail] {
		if err := tw.Add(r); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	b.trail = tw.Files()
	steps := []func() error{b.writeDigests, b.insights, b.eventBridge, b.lookup, b.records, b.broken, b.cloudWatchLogs}
	for _, step := range steps {
		if err := step(); err != nil {
			return nil, err
		}
	}
	b.manifest(recs)
	slices.SortFunc(b.files, func(x, y File) int { return strings.Compare(x.Path, y.Path) })
	return b.files, nil
}

type builder struct {
	opt         Options
	ids         ids
	byShape     map[Shape][]*Record
	files       []File
	trail       []TrailFile
	counts      map[string]int // path → records (or events) in the file.
	digestPaths []string
	insight     string
}

func (b *builder) put(path string, data []byte) error {
	b.files = append(b.files, File{Path: DataDir + "/" + path, Data: data})
	return nil
}

func (b *builder) putGzip(path string, data []byte) error {
	z, err := Gzip(data)
	if err != nil {
		return fmt.Errorf("sample: compress %s: %w", path, err)
	}
	return b.put(path, z)
}

func (b *builder) count(path string, n int) {
	if b.counts == nil {
		b.counts = map[string]int{}
	}
	b.counts[DataDir+"/"+path] = n
}

// digests writes hourly digest files for the main account's us-east-1 log
// files of the first working hours, chained by previousDigest*.
func (b *builder) writeDigests() error {
	const bucket = "example-corp-cloudtrail-logs"
	var prevPath, prevHash, prevSig string
	var prevEnd time.Time
	first := b.opt.Start.Add(8 * time.Hour)
	for h := range 3 {
		start, end := first.Add(time.Duration(h)*time.Hour), first.Add(time.Duration(h+1)*time.Hour)
		var logFiles []Object
		var oldest, newest time.Time
		for _, f := range b.trail {
			if f.Account != AccountMain || f.Region != global || f.Delivered.Before(start) || !f.Delivered.Before(end) {
				continue
			}
			logFiles = append(logFiles, Object{{"s3Bucket", bucket}, {"s3Object", f.Path}, {"hashValue", f.SHA256}, {"hashAlgorithm", "SHA-256"},
				{"newestEventTime", f.Newest.Format(timeFormat)}, {"oldestEventTime", f.Oldest.Format(timeFormat)}})
			if oldest.IsZero() || f.Oldest.Before(oldest) {
				oldest = f.Oldest
			}
			if f.Newest.After(newest) {
				newest = f.Newest
			}
		}
		end = end.Add(time.Duration(1+b.ids.r.IntN(50)) * time.Second)
		dStart := start
		if !prevEnd.IsZero() {
			dStart = prevEnd
		}
		prevEnd = end
		path := fmt.Sprintf("AWSLogs/%s/CloudTrail-Digest/%s/%s/%s_CloudTrail-Digest_%s_%s_%s_%s.json.gz",
			AccountMain, global, end.Format("2006/01/02"), AccountMain, global, TrailName, global, end.Format("20060102T150405Z"))
		d := Object{
			{"awsAccountId", AccountMain},
			{"digestStartTime", dStart.Format(timeFormat)},
			{"digestEndTime", end.Format(timeFormat)},
			{"digestS3Bucket", bucket},
			{"digestS3Object", path},
			{"digestPublicKeyFingerprint", "3f2c9a81d07b4e6c5a1f0e9d8c7b6a54"},
			{"digestSignatureAlgorithm", "SHA256withRSA"},
			{"newestEventTime", nullableTime(newest)},
			{"oldestEventTime", nullableTime(oldest)},
			{"previousDigestS3Bucket", nullable(prevPath != "", bucket)},
			{"previousDigestS3Object", nullable(prevPath != "", prevPath)},
			{"previousDigestHashValue", nullable(prevPath != "", prevHash)},
			{"previousDigestHashAlgorithm", nullable(prevPath != "", "SHA-256")},
			{"previousDigestSignature", nullable(prevPath != "", prevSig)},
			{"logFiles", append([]Object{}, logFiles...)},
		}
		body := appendValue(nil, d)
		sum := sha256.Sum256(body)
		prevPath, prevHash, prevSig = path, hex.EncodeToString(sum[:]), b.ids.hex(512)
		if err := b.putGzip(path, body); err != nil {
			return err
		}
		b.digestPaths = append(b.digestPaths, DataDir+"/"+path)
	}
	return nil
}

func nullable(ok bool, v string) any {
	if !ok {
		return nil
	}
	return v
}

func nullableTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.Format(timeFormat)
}

// insights writes one Insights log file: the start and end of an unusual
// error rate on iam ListUsers during the leaked-key probing of day 2.
func (b *builder) insights() error {
	start := b.opt.Start.AddDate(0, 0, 1).Add(14*time.Hour + 31*time.Minute)
	end := start.Add(9 * time.Minute)
	shared := b.ids.uuid()
	ctx := func(avg, base float64, duration bool) Object {
		stats := Object{{"baseline", Object{{"average", base}}}, {"insight", Object{{"average", avg}}}}
		if duration {
			stats = append(stats, Field{"insightDuration", 9})
		}
		stats = append(stats, Field{"baselineDuration", 10080})
		return Object{
			{"statistics", stats},
			{"attributions", []Object{
				{{"attribute", "userIdentityArn"}, {"insight", []Object{{{"value", "arn:aws:iam::" + AccountMain + ":user/deploy-bot"}, {"average", avg}}}}, {"baseline", []Object{{{"value", "arn:aws:iam::" + AccountMain + ":user/deploy-bot"}, {"average", base}}}}},
				{{"attribute", "userAgent"}, {"insight", []Object{{{"value", uaKali}, {"average", avg}}}}, {"baseline", []Object{}}},
				{{"attribute", "errorCode"}, {"insight", []Object{{{"value", "AccessDenied"}, {"average", avg}}}}, {"baseline", []Object{{{"value", "null"}, {"average", base}}}}},
			}},
		}
	}
	event := func(t time.Time, state string, c Object) Object {
		return Object{
			{"eventVersion", "1.08"}, {"eventTime", t.Format(timeFormat)}, {"awsRegion", global}, {"eventID", b.ids.uuid()},
			{"eventType", "AwsCloudTrailInsight"}, {"recipientAccountId", AccountMain}, {"sharedEventID", shared},
			{"insightDetails", Object{{"state", state}, {"eventSource", "iam.amazonaws.com"}, {"eventName", "ListUsers"}, {"insightType", "ApiErrorRateInsight"}, {"insightContext", c}}},
			{"eventCategory", "Insight"},
		}
	}
	body := appendValue([]byte(`{"Records":`), []Object{
		event(start, "Start", ctx(1.0, 0.0001, false)),
		event(end, "End", ctx(0.5, 0.0001, true)),
	})
	body = append(body, '}')
	delivered := end.Add(7 * time.Minute).Truncate(time.Minute)
	path := fmt.Sprintf("AWSLogs/%s/CloudTrail-Insight/%s/%s/%s_CloudTrail-Insight_%s_%s_%s.json.gz",
		AccountMain, global, delivered.Format("2006/01/02"), AccountMain, global, delivered.Format("20060102T1504Z"), b.ids.s3Suffix())
	b.insight = DataDir + "/" + path
	return b.putGzip(path, body)
}

// EventBridgeEvent wraps r the way EventBridge delivers CloudTrail records.
func EventBridgeEvent(r *Record, id string) Object {
	dt := "AWS API Call via CloudTrail"
	switch r.EventType {
	case "AwsConsoleSignIn":
		dt = "AWS Console Sign In via CloudTrail"
	case "AwsServiceEvent":
		dt = "AWS Service Event via CloudTrail"
	}
	return Object{
		{"version", "0"},
		{"id", id},
		{"detail-type", dt},
		{"source", "aws." + strings.TrimSuffix(r.EventSource, ".amazonaws.com")},
		{"account", r.RecipientAccountID},
		{"time", r.EventTime.Format(timeFormat)},
		{"region", r.AWSRegion},
		{"resources", []Object{}},
		{"detail", r},
	}
}

func (b *builder) eventBridge() error {
	var lines []byte
	recs := b.byShape[ShapeEventBridgeLines]
	for _, r := range recs {
		lines = appendValue(lines, EventBridgeEvent(r, b.ids.uuid()))
		lines = append(lines, '\n')
	}
	b.count(PathEventBridgeLines, len(recs))
	if err := b.put(PathEventBridgeLines, lines); err != nil {
		return err
	}
	var events []any
	for _, r := range b.byShape[ShapeEventBridgeArray] {
		events = append(events, EventBridgeEvent(r, b.ids.uuid()))
	}
	b.count(PathEventBridgeArray, len(events))
	return b.put(PathEventBridgeArray, indent(appendValue(nil, events), "  "))
}

// LookupEvent is r as `aws cloudtrail lookup-events` prints it: EventTime
// in the CLI's ISO 8601 form in the zone loc, the record as a string.
func LookupEvent(r *Record, loc *time.Location) Object {
	o := Object{{"EventId", r.EventID}, {"EventName", r.EventName}}
	if r.ReadOnly != nil {
		o = append(o, Field{"ReadOnly", boolString(*r.ReadOnly)})
	}
	if k, _ := r.UserIdentity.Get("accessKeyId").(string); k != "" {
		o = append(o, Field{"AccessKeyId", k})
	}
	o = append(o, Field{"EventTime", r.EventTime.In(loc).Format("2006-01-02T15:04:05-07:00")}, Field{"EventSource", r.EventSource})
	if u := lookupUsername(r.UserIdentity); u != "" {
		o = append(o, Field{"Username", u})
	}
	o = append(o, Field{"Resources", lookupResources(r)}, Field{"CloudTrailEvent", string(r.AppendJSON(nil))})
	return o
}

func lookupUsername(ui Object) string {
	t, _ := ui.Get("type").(string)
	switch t {
	case kindRoot:
		return "root"
	case kindAssumedRole:
		arn, _ := ui.Get("arn").(string)
		return arn[strings.LastIndexByte(arn, '/')+1:]
	}
	u, _ := ui.Get("userName").(string)
	return u
}

// lookupResources derives the Resources list LookupEvents shows from the
// request parameters that name a resource.
func lookupResources(r *Record) []Object {
	out := []Object{}
	kinds := []struct{ param, typ string }{
		{"userName", "AWS::IAM::User"}, {"roleName", "AWS::IAM::Role"}, {"policyArn", "AWS::IAM::Policy"},
		{"groupName", "AWS::IAM::Group"}, {"bucketName", "AWS::S3::Bucket"}, {"keyId", "AWS::KMS::Key"},
		{"instanceId", "AWS::EC2::Instance"}, {"groupId", "AWS::EC2::SecurityGroup"}, {"vpcId", "AWS::EC2::VPC"},
		{"functionName", "AWS::Lambda::Function"}, {"stackName", "AWS::CloudFormation::Stack"},
	}
	for _, k := range kinds {
		if v, ok := r.RequestParameters.Get(k.param).(string); ok && v != "" {
			out = append(out, Object{{"ResourceType", k.typ}, {"ResourceName", v}})
		}
	}
	return out
}

// cet is the zone of the workstation that ran the one-event-per-line lookup
// (EventTime is printed in local time); fixed, so no time zone database is needed.
var cet = time.FixedZone("CET", 3600)

func (b *builder) lookup() error {
	recs := b.byShape[ShapeLookup]
	// LookupEvents returns newest first.
	var events []any
	for i := len(recs) - 1; i >= 0; i-- {
		events = append(events, LookupEvent(recs[i], time.UTC))
	}
	page := Object{{"Events", events}}
	b.count(PathLookup, len(events))
	if err := b.put(PathLookup, indent(appendValue(nil, page), "    ")); err != nil {
		return err
	}
	var lines []byte
	recs = b.byShape[ShapeLookupLines]
	for i := len(recs) - 1; i >= 0; i-- {
		lines = appendValue(lines, LookupEvent(recs[i], cet))
		lines = append(lines, '\n')
	}
	b.count(PathLookupLines, len(recs))
	return b.put(PathLookupLines, lines)
}

func (b *builder) records() error {
	var lines []byte
	for _, r := range b.byShape[ShapeRecordLines] {
		lines = append(r.AppendJSON(lines), '\n')
	}
	b.count(PathRecordLines, len(b.byShape[ShapeRecordLines]))
	if err := b.put(PathRecordLines, lines); err != nil {
		return err
	}
	arr := []byte("[\n")
	for i, r := range b.byShape[ShapeRecordArray] {
		if i > 0 {
			arr = append(arr, ",\n"...)
		}
		arr = r.AppendJSON(arr)
	}
	arr = append(arr, "\n]\n"...)
	b.count(PathRecordArray, len(b.byShape[ShapeRecordArray]))
	if err := b.put(PathRecordArray, arr); err != nil {
		return err
	}
	single := b.byShape[ShapeSingle]
	if len(single) != 1 {
		return fmt.Errorf("sample: %d records for the single-record file, want 1", len(single))
	}
	b.count(PathSingle, 1)
	return b.put(PathSingle, indent(single[0].AppendJSON(nil), "    "))
}

// BrokenRecords is how many records of the broken file must be rejected:
// one line of bad JSON and one record without an eventID.
const BrokenRecords = 2

// broken writes a JSON-lines file of good records with two bad ones: a line
// cut off in the middle (bad JSON) and a record without eventID.
func (b *builder) broken() error {
	recs := b.byShape[ShapeBroken]
	if len(recs) < 3 {
		return fmt.Errorf("sample: %d records for the broken file, want at least 3", len(recs))
	}
	var out []byte
	for i, r := range recs {
		out = append(r.AppendJSON(out), '\n')
		if i == 1 {
			cut := recs[0].AppendJSON(nil)
			out = append(out, cut[:len(cut)*2/3]...)
			out = append(out, '\n')
			noID := *recs[0]
			noID.EventID = ""
			noID.EventTime = noID.EventTime.Add(17 * time.Second)
			out = append(noID.AppendJSON(out), '\n')
		}
	}
	b.count(PathBroken, len(recs)+BrokenRecords)
	return b.put(PathBroken, out)
}

func indent(b []byte, ind string) []byte {
	var out bytes.Buffer
	if err := json.Indent(&out, b, "", ind); err != nil {
		panic("sample: indent generated JSON: " + err.Error())
	}
	out.WriteByte('\n')
	return out.Bytes()
}

// logStream is the trail's log stream in its CloudWatch Logs log group.
const logStream = AccountMain + "_CloudTrail_" + LogsRegion

// cloudWatchLogs writes the records of ShapeCloudWatchLogs as they come back
// from the trail's log group: the first half in an export task's object
// ("TIMESTAMP message" lines, gzipped), the rest as filter-log-events prints
// them ({"events":[…]}, the message the record, CloudWatch Logs' own
// timestamps in milliseconds).
func (b *builder) cloudWatchLogs() error {
	recs := b.byShape[ShapeCloudWatchLogs]
	if len(recs) < 2 {
		return fmt.Errorf("sample: %d records for CloudWatch Logs, want at least 2", len(recs))
	}
	half := len(recs) / 2
	var lines []byte
	for _, r := range recs[:half] {
		lines = append(lines, r.EventTime.UTC().Format("2006-01-02T15:04:05.000Z")...)
		lines = append(r.AppendJSON(append(lines, ' ')), '\n')
	}
	b.count(PathLogsExport, half)
	if err := b.putGzip(PathLogsExport, lines); err != nil {
		return err
	}
	var events []any
	for i, r := range recs[half:] {
		ms := r.EventTime.UnixMilli()
		events = append(events, Object{{"logStreamName", logStream}, {"timestamp", ms},
			{"message", string(r.AppendJSON(nil))}, {"ingestionTime", ms + 2100 + int64(i)*37}, {"eventId", b.ids.from("0123456789", 56)}})
	}
	out := Object{{"events", events}, {"searchedLogStreams", []any{Object{{"logStreamName", logStream}, {"searchedCompletely", true}}}}}
	b.count(PathLogsFiltered, len(events))
	return b.put(PathLogsFiltered, indent(appendValue(nil, out), "    "))
}
