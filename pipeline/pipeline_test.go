package pipeline_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/iamwatch/iamwatch"
	"github.com/iamwatch/iamwatch/cloudtrail"
	"github.com/iamwatch/iamwatch/detect/detecttest"
	"github.com/iamwatch/iamwatch/pipeline"
	"github.com/iamwatch/iamwatch/store/sqlite"
)

// record returns one CloudTrail record as JSON.
func record(id, source, name, identityType string, at time.Time) string {
	ident := fmt.Sprintf(`{"type":%q,"principalId":"AIDAEXAMPLE","arn":"arn:aws:iam::111122223333:user/alice","accountId":"111122223333","userName":"alice"}`, identityType)
	if identityType == "AWSService" {
		ident = `{"type":"AWSService","invokedBy":"ec2.amazonaws.com"}`
	}
	if identityType == "AssumedRole" {
		ident = `{"type":"AssumedRole","principalId":"AROAEXAMPLE:scan","arn":"arn:aws:sts::111122223333:assumed-role/scanner-prod/scan","accountId":"111122223333","sessionContext":{"sessionIssuer":{"type":"Role","arn":"arn:aws:iam::111122223333:role/scanner-prod","userName":"scanner-prod"}}}`
	}
	return fmt.Sprintf(`{"eventVersion":"1.08","userIdentity":%s,"eventTime":%q,"eventSource":%q,"eventName":%q,"awsRegion":"us-east-1","sourceIPAddress":"198.51.100.7","userAgent":"aws-cli/2.15.0","requestParameters":null,"responseElements":null,"eventID":%q,"eventType":"AwsApiCall","readOnly":false,"recipientAccountId":"111122223333"}`,
		ident, at.UTC().Format(time.RFC3339), source, name, id)
}

func openStore(t *testing.T) *sqlite.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "iamwatch.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

var t0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

func TestReadIsIdempotentAndCountsDuplicatesAcrossFiles(t *testing.T) {
	dir := t.TempDir()
	a := record("e1", "iam.amazonaws.com", "CreateUser", "IAMUser", t0)
	b := record("e2", "sts.amazonaws.com", "GetCallerIdentity", "IAMUser", t0.Add(time.Minute))
	c := record("e3", "ec2.amazonaws.com", "DescribeInstances", "IAMUser", t0.Add(2*time.Minute))
	writeFile(t, dir, "one.json", `{"Records":[`+a+`,`+b+`,`+c+`]}`)
	writeFile(t, dir, "sub/two.jsonl", a+"\n"+b+"\n") // CloudTrail repeats records across files

	st := openStore(t)
	var newAlerts []iamwatch.Alert
	p, err := pipeline.New(st, pipeline.Options{
		Detector: detecttest.Names(t, "test", "CreateUser"),
		OnNew:    func(a iamwatch.Alert) { newAlerts = append(newAlerts, a) },
	})
	if err != nil {
		t.Fatal(err)
	}
	inputs, err := pipeline.Expand([]string{dir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(inputs) != 2 {
		t.Fatalf("Expand found %d inputs, want 2", len(inputs))
	}
	ctx := context.Background()
	rep, err := p.Read(ctx, inputs, pipeline.ReadOptions{BatchSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	// e3 is an EC2 event: not kept by the identity filter. two.jsonl
	// repeats e1 and e2 in later batches: they count as duplicates and go
	// no further (e1's alert is claimed once).
	want := pipeline.Report{Inputs: 2, Records: 5}
	want.Result = pipeline.Result{Events: 5, Kept: 4, Stored: 2, Duplicates: 2, Alerts: 1, NewAlerts: 1}
	if rep.Inputs != want.Inputs || rep.Records != want.Records || !reflect.DeepEqual(rep.Result, want.Result) {
		t.Errorf("first read: got %+v / %+v, want %+v", rep.Result, rep, want.Result)
	}
	if len(newAlerts) != 1 || newAlerts[0].EventIDs[0] != "e1" {
		t.Errorf("new alerts = %+v, want one for e1", newAlerts)
	}

	rep, err = p.Read(ctx, inputs, pipeline.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Stored != 0 || rep.Duplicates != 4 || rep.NewAlerts != 0 {
		t.Errorf("second read stored %d, duplicates %d, new alerts %d; want 0, 4, 0", rep.Stored, rep.Duplicates, rep.NewAlerts)
	}
	evs, err := st.Events(ctx, sqlite.EventFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, e := range evs {
		ids = append(ids, e.ID)
	}
	if got := strings.Join(ids, ","); got != "e2,e1" && got != "e1,e2" {
		t.Errorf("stored events %s, want e1 and e2", got)
	}
}

func TestReadReportsBadInputAndGoesOn(t *testing.T) {
	dir := t.TempDir()
	good := record("g1", "iam.amazonaws.com", "ListUsers", "IAMUser", t0)
	noID := strings.Replace(record("", "iam.amazonaws.com", "ListRoles", "IAMUser", t0), `"eventID":"",`, ``, 1)
	writeFile(t, dir, "a.jsonl", good+"\n{not json\n"+noID+"\n"+record("g2", "signin.amazonaws.com", "ConsoleLogin", "IAMUser", t0)+"\n")
	writeFile(t, dir, "b.json", `"just a string"`)
	writeFile(t, dir, "AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2026/03/02/111122223333_CloudTrail-Digest_us-east-1_x_20260302T100000Z.json.gz", "ignored")

	st := openStore(t)
	p, err := pipeline.New(st, pipeline.Options{})
	if err != nil {
		t.Fatal(err)
	}
	inputs, err := pipeline.Expand([]string{dir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := p.Read(context.Background(), inputs, pipeline.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Stored != 2 {
		t.Errorf("stored %d events, want 2 (the good ones around the bad ones)", rep.Stored)
	}
	if rep.RecordsRejected != 2 {
		t.Errorf("records rejected = %d, want 2; rejections %v", rep.RecordsRejected, rep.Rejections)
	}
	if rep.InputsRejected != 1 || rep.InputsSkipped != 1 {
		t.Errorf("inputs rejected %d, skipped %d; want 1 and 1 (report %+v)", rep.InputsRejected, rep.InputsSkipped, rep)
	}
	var sawIndex bool
	for _, r := range rep.Rejections {
		if strings.HasSuffix(r.Input, "a.jsonl") && r.Index == 1 {
			sawIndex = true
		}
	}
	if !sawIndex {
		t.Errorf("no rejection names a.jsonl record 1: %v", rep.Rejections)
	}
}

func TestFilter(t *testing.T) {
	cases := []struct {
		name   string
		filter pipeline.Filter
		rec    string
		stored bool
	}{
		{"identity event kept", pipeline.Filter{}, record("1", "iam.amazonaws.com", "ListUsers", "IAMUser", t0), true},
		{"other event dropped", pipeline.Filter{}, record("2", "ec2.amazonaws.com", "DescribeVpcs", "IAMUser", t0), false},
		{"other event kept with all", pipeline.Filter{Keep: pipeline.KeepAll}, record("3", "ec2.amazonaws.com", "DescribeVpcs", "IAMUser", t0), true},
		{"service call dropped", pipeline.Filter{DropServiceEvents: true}, record("4", "sts.amazonaws.com", "AssumeRole", "AWSService", t0), false},
		{"service call kept when not dropping", pipeline.Filter{}, record("5", "sts.amazonaws.com", "AssumeRole", "AWSService", t0), true},
		{"ignored role dropped", pipeline.Filter{IgnoreRoles: []string{"scanner-*"}}, record("6", "iam.amazonaws.com", "ListRoles", "AssumedRole", t0), false},
		{"other role kept", pipeline.Filter{IgnoreRoles: []string{"deploy-*"}}, record("7", "iam.amazonaws.com", "ListRoles", "AssumedRole", t0), true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st := openStore(t)
			p, err := pipeline.New(st, pipeline.Options{Filter: c.filter})
			if err != nil {
				t.Fatal(err)
			}
			in := pipeline.Input{Name: "x.json", Size: -1, Open: func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(c.rec)), nil }}
			rep, err := p.Read(context.Background(), []pipeline.Input{in}, pipeline.ReadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if got := rep.Stored == 1; got != c.stored {
				t.Errorf("stored = %v, want %v (report %+v)", got, c.stored, rep)
			}
		})
	}
	if err := (pipeline.Filter{IgnoreRoles: []string{"["}}).Validate(); err == nil {
		t.Error("a bad pattern was accepted")
	}
}

func TestAlertingEventIsStoredWhateverTheFilter(t *testing.T) {
	st := openStore(t)
	p, err := pipeline.New(st, pipeline.Options{Detector: detecttest.Names(t, "test", "RunInstances")})
	if err != nil {
		t.Fatal(err)
	}
	rec := record("x1", "ec2.amazonaws.com", "RunInstances", "IAMUser", t0)
	in := pipeline.Input{Name: "x.json", Size: -1, Open: func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(rec)), nil }}
	rep, err := p.Read(context.Background(), []pipeline.Input{in}, pipeline.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Stored != 1 || rep.NewAlerts != 1 {
		t.Fatalf("stored %d, new alerts %d; want 1 and 1", rep.Stored, rep.NewAlerts)
	}
}

// TestSkippedByNameNotOpened: digests and other services' logs are skipped
// by their names without being opened, and counted by reason.
func TestSkippedByNameNotOpened(t *testing.T) {
	p, err := pipeline.New(openStore(t), pipeline.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var ins []pipeline.Input
	for _, name := range []string{
		"AWSLogs/111122223333/Config/us-east-1/2025/3/10/ConfigSnapshot/111122223333_Config_us-east-1_ConfigSnapshot_20250310T000000Z_x.json.gz",
		"AWSLogs/111122223333/vpcflowlogs/us-east-1/2025/03/10/111122223333_vpcflowlogs_us-east-1_fl-1_20250310T0000Z_ab.log.gz",
		"AWSLogs/111122223333/vpcflowlogs/us-east-1/2025/03/10/111122223333_vpcflowlogs_us-east-1_fl-1_20250310T0005Z_cd.log.gz",
		"AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2025/03/10/111122223333_CloudTrail-Digest_us-east-1_t_us-east-1_20250310T090004Z.json.gz",
	} {
		ins = append(ins, pipeline.Input{Name: name, Size: -1, Open: func() (io.ReadCloser, error) {
			t.Errorf("%s opened", name)
			return io.NopCloser(strings.NewReader("")), nil
		}})
	}
	rep, err := p.Read(context.Background(), ins, pipeline.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := []pipeline.SkipCount{
		{Reason: "a VPC flow log file, not CloudTrail", Files: 2, First: ins[1].Name},
		{Reason: "an AWS Config log file, not CloudTrail", Files: 1, First: ins[0].Name},
		{Reason: "digest file", Files: 1, First: ins[3].Name},
	}
	if rep.InputsSkipped != 4 || rep.Inputs != 0 || !slices.Equal(rep.SkippedBy, want) {
		t.Errorf("read %d, skipped %d by %+v; want 0, 4 by %+v", rep.Inputs, rep.InputsSkipped, rep.SkippedBy, want)
	}
}

// opaqueDetector hides whether its Detector can tell Interested events:
// Read then hands every event to Process.
type opaqueDetector struct{ pipeline.Detector }

// TestReadDropsUnwantedEventsEarly: the readers drop what the filter does
// not store and no rule could match, and the report is the one Process
// gives when it sees every event.
func TestReadDropsUnwantedEventsEarly(t *testing.T) {
	var recs []string
	for i := range 30 {
		at := t0.Add(time.Duration(i) * time.Second)
		recs = append(recs,
			record(fmt.Sprintf("ec2-%d", i), "ec2.amazonaws.com", "DescribeVpcs", "IAMUser", at),  // neither stored nor matched
			record(fmt.Sprintf("run-%d", i), "ec2.amazonaws.com", "RunInstances", "IAMUser", at),  // matched
			record(fmt.Sprintf("iam-%d", i), "iam.amazonaws.com", "ListUsers", "IAMUser", at),     // stored
			record(fmt.Sprintf("svc-%d", i), "sts.amazonaws.com", "AssumeRole", "AWSService", at)) // a service's: dropped
	}
	content := "[" + strings.Join(recs, ",") + "]"
	read := func(d pipeline.Detector) pipeline.Report {
		t.Helper()
		p, err := pipeline.New(openStore(t), pipeline.Options{Detector: d, Filter: pipeline.Filter{DropServiceEvents: true}})
		if err != nil {
			t.Fatal(err)
		}
		in := pipeline.Input{Name: "x.json", Size: -1, Open: func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(content)), nil }}
		rep, err := p.Read(context.Background(), []pipeline.Input{in}, pipeline.ReadOptions{BatchSize: 7})
		if err != nil {
			t.Fatal(err)
		}
		rep.Elapsed = 0
		return rep
	}
	eng := detecttest.Names(t, "test", "RunInstances")
	early, all := read(eng), read(opaqueDetector{eng})
	if !reflect.DeepEqual(early, all) {
		t.Errorf("dropping early: %+v\nevery event to Process: %+v", early, all)
	}
	if early.Events != 120 || early.Kept != 60 || early.Stored != 60 || early.NewAlerts != 30 {
		t.Errorf("events %d, kept %d, stored %d, new alerts %d; want 120, 60, 60, 30", early.Events, early.Kept, early.Stored, early.NewAlerts)
	}
}

func TestEnqueueFailureIsRetriedOnReplay(t *testing.T) {
	st := openStore(t)
	fail := true
	var enqueued []string
	p, err := pipeline.New(st, pipeline.Options{
		Detector: detecttest.Names(t, "test", "CreateUser"),
		Enqueue: func(_ context.Context, a iamwatch.Alert) error {
			if fail {
				return fmt.Errorf("outbox unavailable")
			}
			enqueued = append(enqueued, a.DedupKey)
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	ev := iamwatch.Event{ID: "c1", Time: t0, Source: "iam.amazonaws.com", Name: "CreateUser", Type: iamwatch.TypeIAM}
	if _, err := p.Process(context.Background(), []iamwatch.Event{ev}); err == nil {
		t.Fatal("Process succeeded although the enqueue failed")
	}
	fail = false
	res, err := p.Process(context.Background(), []iamwatch.Event{ev})
	if err != nil {
		t.Fatal(err)
	}
	if len(enqueued) != 1 || res.NewAlerts != 0 {
		t.Errorf("after replay: enqueued %v, new alerts %d; want the alert enqueued once and not counted new again", enqueued, res.NewAlerts)
	}
}

// An interrupted read leaves a usable store, and reading again completes it
// to exactly the state of an uninterrupted read.
func TestInterruptedReadCompletesOnRerun(t *testing.T) {
	dir := t.TempDir()
	for f := 0; f < 20; f++ {
		var lines []string
		for r := 0; r < 50; r++ {
			id := fmt.Sprintf("ev-%02d-%02d", f, r)
			lines = append(lines, record(id, "iam.amazonaws.com", "ListUsers", "IAMUser", t0.Add(time.Duration(f*50+r)*time.Second)))
		}
		writeFile(t, dir, fmt.Sprintf("f%02d.jsonl", f), strings.Join(lines, "\n"))
	}
	inputs, err := pipeline.Expand([]string{dir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	st := openStore(t)
	p, err := pipeline.New(st, pipeline.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	rep, err := p.Read(ctx, inputs, pipeline.ReadOptions{Workers: 1, BatchSize: 100, Progress: func(pipeline.Report) { cancel() }})
	if err == nil || !rep.Interrupted {
		t.Fatalf("the cancelled read returned %v, interrupted=%v", err, rep.Interrupted)
	}
	stored := rep.Stored
	if stored == 0 || stored >= 1000 {
		t.Fatalf("the interrupted read stored %d events; want some but not all", stored)
	}
	rep, err = p.Read(context.Background(), inputs, pipeline.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Stored+stored != 1000 || rep.Duplicates != stored {
		t.Errorf("rerun stored %d new and %d duplicates after %d; want the remaining %d", rep.Stored, rep.Duplicates, stored, 1000-stored)
	}
	evs, err := st.Events(context.Background(), sqlite.EventFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1000 {
		t.Errorf("store holds %d events, want 1000", len(evs))
	}
}

// TestProcessUnevaluatedEvent: an event the rules cannot be evaluated on is
// stored and counted, and the rest of the batch raises its alerts.
func TestProcessUnevaluatedEvent(t *testing.T) {
	st := openStore(t)
	p, err := pipeline.New(st, pipeline.Options{Detector: detecttest.Names(t, "test", "CreateUser")})
	if err != nil {
		t.Fatal(err)
	}
	var evs []iamwatch.Event
	for _, id := range []string{"u1", "u2"} {
		ev, err := cloudtrail.DecodeRecord([]byte(record(id, "iam.amazonaws.com", "CreateUser", "IAMUser", t0)))
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, ev)
	}
	evs[0].Raw = []byte(`{"eventName":`) // as if the record were damaged after decoding
	res, err := p.Process(context.Background(), evs)
	if err != nil {
		t.Fatal(err)
	}
	if res.Stored != 2 || res.NewAlerts != 1 || res.Unevaluated != 1 || !strings.Contains(res.FirstUnevaluated, `"u1"`) {
		t.Errorf("result %+v", res)
	}
}

// A trail of a few large files (flaws.cloud's public dataset is twenty of
// ~100,000 records) is stored in full batches: every input is handed to a
// reader at once, and the batches shrink only once the inputs are read.
// They used to shrink to reader batches (256 events) as soon as every
// input was handed out, and every batch re-reads what its threshold groups
// hold: a 400k-record trail of two files took 104 s, a third of it reading
// hits back.
func TestFewLargeInputsKeepFullBatches(t *testing.T) {
	dir := t.TempDir()
	const files, per, batch = 2, 20000, 8000
	for f := range files {
		var lines []string
		for r := range per {
			id := fmt.Sprintf("big-%d-%05d", f, r)
			lines = append(lines, record(id, "iam.amazonaws.com", "ListUsers", "IAMUser", t0.Add(time.Duration(f*per+r)*time.Second)))
		}
		writeFile(t, dir, fmt.Sprintf("f%d.jsonl", f), strings.Join(lines, "\n"))
	}
	inputs, err := pipeline.Expand([]string{dir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	p, err := pipeline.New(openStore(t), pipeline.Options{})
	if err != nil {
		t.Fatal(err)
	}
	batches := 0
	rep, err := p.Read(context.Background(), inputs, pipeline.ReadOptions{Workers: 2, BatchSize: batch, Progress: func(pipeline.Report) { batches++ }})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Stored != files*per {
		t.Fatalf("stored %d events, want %d", rep.Stored, files*per)
	}
	// Five full batches, and the reader batches the writer finds queued
	// when the readers are done (at most six: the queue's room).
	if max := files*per/batch + 6; batches > max {
		t.Errorf("the read took %d batches, want at most %d: full batches until the inputs are read", batches, max)
	}
}
