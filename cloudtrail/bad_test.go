package cloudtrail

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"

	"github.com/iamwatch/iamwatch"
)

func gz(t testing.TB, b []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	w := gzip.NewWriter(&out)
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func TestBadMiddleNamesFileIndexAndEvent(t *testing.T) {
	var b bytes.Buffer
	b.WriteString(`{"Records":[`)
	for i := range 5 {
		if i > 0 {
			b.WriteByte(',')
		}
		if i == 2 {
			b.WriteString(`{"eventID":"feed0000-0000-4000-8000-000000000002","eventTime":"2025-03-04T00:00:00Z","userAgent":"x" "y"}`)
			continue
		}
		genRecord(&b, i)
	}
	b.WriteString(`]}`)
	res, errs := decodeAll(t, bytes.NewReader(gz(t, b.Bytes())), "AWSLogs/210987654321/CloudTrail/us-east-1/2025/03/04/f.json.gz", Options{})
	if res.Error != "" || len(res.Events) != 4 || len(errs) != 1 {
		t.Fatalf("error %q, %d events, record errors %v", res.Error, len(res.Events), res.Errors)
	}
	e := errs[0]
	if e.Index != 2 || e.EventID != "feed0000-0000-4000-8000-000000000002" || !errors.Is(e, ErrInvalidJSON) ||
		!strings.Contains(e.Error(), "f.json.gz: record 2 (event \"feed0000-0000-4000-8000-000000000002\")") {
		t.Errorf("record error %+v: %v", e, e)
	}
}

func TestTruncatedGzip(t *testing.T) {
	z := gz(t, genTrail(50))
	res, _ := decodeAll(t, bytes.NewReader(z[:len(z)/2]), "cut.json.gz", Options{})
	if res.Error == "" || !strings.Contains(res.Error, "cut.json.gz") {
		t.Fatalf("error %q, want one naming the file", res.Error)
	}
	if len(res.Events) == 0 {
		t.Errorf("no events before the cut")
	}
}

func TestTruncatedTrail(t *testing.T) {
	trail := genTrail(10)
	res, _ := decodeAll(t, bytes.NewReader(trail[:len(trail)-500]), "cut.json", Options{})
	if !strings.Contains(res.Error, "unexpected EOF") || len(res.Events) != 9 {
		t.Fatalf("error %q, %d events", res.Error, len(res.Events))
	}
}

// zeroReader yields n bytes of b repeated.
type repeatReader struct {
	b []byte
	n int64
}

func (r *repeatReader) Read(p []byte) (int, error) {
	if r.n <= 0 {
		return 0, io.EOF
	}
	n := 0
	for n < len(p) && r.n > 0 {
		c := copy(p[n:], r.b)
		if int64(c) > r.n {
			c = int(r.n)
		}
		n += c
		r.n -= int64(c)
	}
	return n, nil
}

func TestGzipBomb(t *testing.T) {
	// 64 MiB of white space inside a Records list, compressed to a few
	// tens of KB, against a 16 MiB limit.
	var raw bytes.Buffer
	w := gzip.NewWriter(&raw)
	_, err := w.Write([]byte(`{"Records":[`))
	if err == nil {
		_, err = io.Copy(w, &repeatReader{b: bytes.Repeat([]byte(" "), 4096), n: 64 << 20})
	}
	if err == nil {
		_, err = w.Write([]byte(`]}`))
	}
	if err == nil {
		err = w.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	res, _ := decodeAll(t, bytes.NewReader(raw.Bytes()), "bomb.json.gz", Options{MaxDecompressedBytes: 16 << 20})
	if !strings.Contains(res.Error, "too large") || !strings.Contains(res.Error, "bomb.json.gz") {
		t.Fatalf("error %q, want too large", res.Error)
	}
	_, err = Decode(context.Background(), bytes.NewReader(raw.Bytes()), "bomb.json.gz", Options{MaxDecompressedBytes: 16 << 20}, func(*iamwatch.Event) error { return nil })
	if !errors.Is(err, ErrTooLarge) {
		t.Errorf("err = %v, want ErrTooLarge", err)
	}
}

func TestOversizeFile(t *testing.T) {
	_, err := Decode(context.Background(), bytes.NewReader(genTrail(100)), "big.json", Options{MaxDecompressedBytes: 10000}, func(*iamwatch.Event) error { return nil })
	if !errors.Is(err, ErrTooLarge) {
		t.Errorf("err = %v, want ErrTooLarge", err)
	}
}

func TestOversizeRecord(t *testing.T) {
	big := `{"eventID":"big-1","eventTime":"2025-03-04T00:00:00Z","requestParameters":{"policy":"` + strings.Repeat(`a\"`, 40000) + `"}}`
	for _, shape := range []struct{ name, in string }{
		{"trail", `{"Records":[` + string(genTrail(1)[12:len(genTrail(1))-2]) + `,` + big + `,` + string(genTrail(1)[12:len(genTrail(1))-2]) + `]}`},
		{"lines", string(genTrail(1)[12:len(genTrail(1))-2]) + "\n" + big + "\n" + string(genTrail(1)[12:len(genTrail(1))-2]) + "\n"},
		{"array", `[` + string(genTrail(1)[12:len(genTrail(1))-2]) + `,` + big + `,` + string(genTrail(1)[12:len(genTrail(1))-2]) + `]`},
	} {
		t.Run(shape.name, func(t *testing.T) {
			res, errs := decodeAll(t, strings.NewReader(shape.in), shape.name, Options{MaxRecordBytes: 64 << 10})
			if res.Error != "" || len(res.Events) != 2 || len(errs) != 1 || !errors.Is(errs[0], ErrTooLarge) || errs[0].Index != 1 {
				t.Fatalf("error %q, %d events, record errors %v", res.Error, len(res.Events), res.Errors)
			}
		})
	}
}

func TestSkippedByName(t *testing.T) {
	for _, name := range []string{
		"AWSLogs/210987654321/CloudTrail-Digest/us-east-1/2025/03/04/x.json.gz",
		"AWSLogs/210987654321/CloudTrail-Insight/us-east-1/2025/03/04/x.json.gz",
	} {
		st, err := Decode(context.Background(), strings.NewReader("not even read"), name, Options{}, func(*iamwatch.Event) error { return nil })
		if !errors.Is(err, ErrSkipped) || st.Bytes != 0 {
			t.Errorf("%s: err = %v, stats %+v", name, err, st)
		}
	}
}

// Only CloudTrail's own names say digest or Insights: a folder or a file
// merely containing the words is read, and a digest is still recognised by
// its content under any name.
func TestSkippedByNameOnlyForCloudTrailNames(t *testing.T) {
	for _, name := range []string{
		"210987654321_CloudTrail-Digest_us-east-1_trail_us-east-1_20250304T100000Z.json.gz",
		"dl/210987654321_CloudTrail-Insight_us-east-1_20250304T1000Z_abc.json.gz",
	} {
		if _, err := Decode(context.Background(), strings.NewReader("not even read"), name, Options{}, func(*iamwatch.Event) error { return nil }); !errors.Is(err, ErrSkipped) {
			t.Errorf("%s: err = %v, want skipped", name, err)
		}
	}
	trail := string(genTrail(1))
	for _, name := range []string{
		"work/CloudTrail-Digest-backup/trail.json",
		"CloudTrail-Insight/copy.json",
		"my_CloudTrail-Digest_notes.json",
	} {
		res, _ := decodeAll(t, strings.NewReader(trail), name, Options{})
		if res.Error != "" || len(res.Events) != 1 {
			t.Errorf("%s: error %q, %d events; want the trail read", name, res.Error, len(res.Events))
		}
	}
	digest := `{"awsAccountId":"210987654321","digestStartTime":"2025-03-04T09:00:00Z","digestEndTime":"2025-03-04T10:00:00Z","digestS3Bucket":"b","digestS3Object":"o","logFiles":[]}`
	if _, err := Decode(context.Background(), strings.NewReader(digest), "renamed.json", Options{}, func(*iamwatch.Event) error { return nil }); !errors.Is(err, ErrSkipped) {
		t.Errorf("a digest by content: err = %v, want skipped", err)
	}
}

// A bucket that holds a trail often holds other services' logs too (an
// organisation's log archive: AWS Config beside CloudTrail): their files are
// skipped by their AWS-given names, and named as what they are, not read and
// refused one by one. A name merely like theirs is read.
func TestOtherServicesLogsSkippedByName(t *testing.T) {
	for name, want := range map[string]string{
		"AWSLogs/210987654321/Config/us-east-1/2025/3/4/ConfigHistory/210987654321_Config_us-east-1_ConfigHistory_AWS::IAM::User_20250304T000000Z_20250304T010000Z_1.json.gz": "AWS Config",
		"s3://archive/o-a1b2c3d4e5/AWSLogs/210987654321/Config/ConfigWritabilityCheckFile":                                                                                    "AWS Config",
		"logs/AWSLogs/210987654321/vpcflowlogs/us-east-1/2025/03/04/210987654321_vpcflowlogs_us-east-1_fl-0a1b_20250304T0000Z_ab12.log.gz":                                    "VPC flow",
		"210987654321_elasticloadbalancing_us-east-1_app.web.50dc6c495c0c9188_20250304T0000Z_198.51.100.1_x.log.gz":                                                           "Elastic Load Balancing",
		"copy/210987654321_Config_eu-west-1_ConfigSnapshot_20250304T000000Z_abc.json.gz":                                                                                      "AWS Config",
		"AWSLogs/210987654321/WAFLogs/us-east-1/acl/2025/03/04/10/05/210987654321_waflogs_us-east-1_acl_20250304T1005Z_ab.log.gz":                                             "AWS WAF",
		"exports/trail-2025-03/aws-logs-write-test": "CloudWatch Logs export's write test",
	} {
		st, err := Decode(context.Background(), strings.NewReader("not even read"), name, Options{}, func(*iamwatch.Event) error { return nil })
		if !errors.Is(err, ErrSkipped) || !strings.Contains(err.Error(), want) || st.Bytes != 0 {
			t.Errorf("%s: err = %v, stats %+v; want skipped as %s", name, err, st, want)
		}
		if err := SkipByName(name); !errors.Is(err, ErrSkipped) {
			t.Errorf("SkipByName(%s) = %v", name, err)
		}
	}
	trail := string(genTrail(1))
	for _, name := range []string{
		"AWSLogs/210987654321/CloudTrail/us-east-1/2025/03/04/210987654321_CloudTrail_us-east-1_20250304T1000Z_abc.json.gz",
		"work/Config/trail.json",                         // no AWSLogs/<account>/ above it
		"AWSLogs/210987654321/my-config-copy/trail.json", // a folder AWS does not write
		"AWSLogs/Config/x/trail.json",                    // no account
		"210987654321_Configuration_notes.json",
		"Config_210987654321_x.json",
	} {
		if err := SkipByName(name); err != nil {
			t.Errorf("SkipByName(%s) = %v, want nil", name, err)
		}
		res, _ := decodeAll(t, strings.NewReader(trail), name, Options{})
		if res.Error != "" || len(res.Events) != 1 {
			t.Errorf("%s: error %q, %d events; want the trail read", name, res.Error, len(res.Events))
		}
	}
}

func TestNotCloudTrail(t *testing.T) {
	for _, in := range []string{"hello world", "\x00\x01\x02", `{"a":1}`, "<xml/>"} {
		res, _ := decodeAll(t, strings.NewReader(in), "x", Options{})
		if res.Error == "" && res.Stats.Rejected == 0 {
			t.Errorf("%q: neither an error nor a rejected record: %+v", in, res)
		}
	}
	st, err := Decode(context.Background(), strings.NewReader(""), "empty", Options{}, func(*iamwatch.Event) error { return nil })
	if err != nil || st.Records != 0 {
		t.Errorf("empty input: %v %+v", err, st)
	}
	st, err = Decode(context.Background(), strings.NewReader(`{"Records":[]}`), "empty-trail", Options{}, func(*iamwatch.Event) error { return nil })
	if err != nil || st.Records != 0 || st.Format != Trail {
		t.Errorf("empty trail: %v %+v", err, st)
	}
}

func TestYieldErrorStops(t *testing.T) {
	stop := errors.New("stop")
	n := 0
	_, err := Decode(context.Background(), bytes.NewReader(genTrail(10)), "t", Options{}, func(*iamwatch.Event) error {
		n++
		if n == 3 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 3 {
		t.Errorf("err = %v after %d events", err, n)
	}
}

func TestContextCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Decode(ctx, newTrailReader(5000), "t", Options{}, func(*iamwatch.Event) error { return nil })
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v", err)
	}
}

// TestConstantMemory streams a 150 MB trail file (never in memory whole)
// and checks that the heap stays small.
func TestConstantMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	const n = 100_000
	var peak uint64
	var ms runtime.MemStats
	count := 0
	st, err := Decode(context.Background(), newTrailReader(n), "big.json", Options{}, func(ev *iamwatch.Event) error {
		count++
		if count%10000 == 0 {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
		}
		return nil
	})
	if err != nil || st.Events != n {
		t.Fatalf("%v %+v", err, st)
	}
	if peak > 64<<20 {
		t.Errorf("heap in use reached %d MiB reading a %d MiB file", peak>>20, st.Bytes>>20)
	}
	t.Logf("%d MiB read, peak heap in use %d MiB", st.Bytes>>20, peak>>20)
}

func TestRecordErrorMessage(t *testing.T) {
	e := &RecordError{File: "a.json", Index: 7, EventID: "id-1", Err: fmt.Errorf("%w: eventTime", ErrMissingField)}
	if got, want := e.Error(), `cloudtrail: a.json: record 7 (event "id-1"): missing required field: eventTime`; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if !errors.Is(e, ErrMissingField) {
		t.Error("not ErrMissingField")
	}
}
