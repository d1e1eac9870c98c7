package cloudtrail

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/iamwatch/iamwatch"
)

// decodeResult is what a golden shape file records.
type decodeResult struct {
	Error  string        `json:"error,omitempty"`
	Stats  Stats         `json:"stats"`
	Errors []string      `json:"record_errors,omitempty"`
	Events []goldenEvent `json:"events"`
}

func decodeAll(t testing.TB, r io.Reader, name string, opt Options) (decodeResult, []*RecordError) {
	t.Helper()
	var res decodeResult
	var recErrs []*RecordError
	opt.OnError = func(e *RecordError) {
		recErrs = append(recErrs, e)
		res.Errors = append(res.Errors, e.Error())
	}
	res.Events = []goldenEvent{}
	st, err := Decode(context.Background(), r, name, opt, func(ev *iamwatch.Event) error {
		res.Events = append(res.Events, toGolden(ev))
		return nil
	})
	if err != nil {
		res.Error = err.Error()
	}
	res.Stats = st
	if st.Records != st.Events+st.Rejected+st.Skipped {
		t.Errorf("%s: stats do not add up: %+v", name, st)
	}
	if st.Events != len(res.Events) || st.Rejected+st.Skipped != len(recErrs) {
		t.Errorf("%s: stats %+v, but %d events and %d record errors", name, st, len(res.Events), len(recErrs))
	}
	return res, recErrs
}

// TestShapesGolden decodes every input shape in testdata/shapes (by content,
// Auto) and compares the events, counts and errors with the golden files.
func TestShapesGolden(t *testing.T) {
	files, _ := filepath.Glob("testdata/shapes/*")
	n := 0
	for _, f := range files {
		if strings.HasSuffix(f, ".golden") {
			continue
		}
		n++
		t.Run(filepath.Base(f), func(t *testing.T) {
			in, err := os.Open(f)
			if err != nil {
				t.Fatal(err)
			}
			defer in.Close()
			// The name is the base name: detection must not depend on it.
			res, _ := decodeAll(t, in, filepath.Base(f), Options{})
			checkGolden(t, f+".golden", res)
		})
	}
	if n < 10 {
		t.Fatalf("only %d shape fixtures", n)
	}
}

// TestShapesAgree: every good shape of the same three records yields the
// same events.
func TestShapesAgree(t *testing.T) {
	var want []goldenEvent
	for _, f := range []string{"trail.json", "trail.json.gz", "lines.jsonl", "array.json", "eventbridge.jsonl", "eventbridge-array.json", "lookup-page.json", "lookup-lines.jsonl", "mixed.jsonl",
		"cwl-filter-log-events.json", "cwl-subscription.gz", "cwl-export.gz"} {
		in, err := os.Open(filepath.Join("testdata/shapes", f))
		if err != nil {
			t.Fatal(err)
		}
		res, errs := decodeAll(t, in, f, Options{})
		in.Close()
		if res.Error != "" || len(errs) > 0 || len(res.Events) != 3 {
			t.Fatalf("%s: %d events, error %q, record errors %v", f, len(res.Events), res.Error, res.Errors)
		}
		if want == nil {
			want = res.Events
			continue
		}
		for i := range want {
			if !equalJSON(t, want[i], res.Events[i]) {
				t.Errorf("%s: event %d differs from trail.json's", f, i)
			}
		}
	}
}

func equalJSON(t *testing.T, a, b goldenEvent) bool {
	t.Helper()
	return a.EventID == b.EventID && a.UserName == b.UserName && a.EventTime == b.EventTime &&
		compact(t, a.RequestParameters) == compact(t, b.RequestParameters) && compact(t, a.ResponseElements) == compact(t, b.ResponseElements) &&
		a.TargetRole == b.TargetRole && a.MFAUsed == b.MFAUsed && a.ErrorCode == b.ErrorCode
}

func compact(t *testing.T, b []byte) string {
	t.Helper()
	if b == nil {
		return "<nil>"
	}
	var out bytes.Buffer
	if err := json.Compact(&out, b); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	return out.String()
}

// TestForcedFormats: a forced format accepts its shape and refuses others.
func TestForcedFormats(t *testing.T) {
	tests := []struct {
		file   string
		format Format
		events int
		fail   bool // a whole-input error
	}{
		{"trail.json", Trail, 3, false},
		{"trail.json.gz", Trail, 3, false},
		{"lines.jsonl", Lines, 3, false},
		{"array.json", Array, 3, false},
		{"record.json", Record, 1, false},
		{"eventbridge.jsonl", EventBridge, 3, false},
		{"eventbridge-array.json", EventBridge, 3, false},
		{"lookup-page.json", Lookup, 3, false},
		{"lookup-lines.jsonl", Lookup, 3, false},
		{"cwl-filter-log-events.json", CloudWatchLogs, 3, false},
		{"cwl-subscription.gz", CloudWatchLogs, 3, false},
		{"cwl-export.gz", CloudWatchLogs, 3, false},
		{"cwl-filter-log-events.json", Lookup, 0, true},
		{"trail.json", CloudWatchLogs, 0, true},
		{"lines.jsonl", CloudWatchLogs, 0, false},
		{"cwl-subscription.gz", EventBridge, 0, false},
		{"lines.jsonl", Trail, 0, true},
		{"trail.json", Array, 0, true},
		{"array.json", Trail, 0, true},
		{"lookup-page.json", Trail, 0, true},
		{"eventbridge.jsonl", Lookup, 0, false}, // each line rejected
		{"lookup-lines.jsonl", EventBridge, 0, false},
		{"lines.jsonl", EventBridge, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.file+"/"+string(tt.format), func(t *testing.T) {
			in, err := os.Open(filepath.Join("testdata/shapes", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			defer in.Close()
			res, errs := decodeAll(t, in, tt.file, Options{Format: tt.format})
			if len(res.Events) != tt.events || (res.Error != "") != tt.fail {
				t.Fatalf("%d events, error %q; want %d, fail %v", len(res.Events), res.Error, tt.events, tt.fail)
			}
			if !tt.fail && tt.events == 0 {
				for _, e := range errs {
					if !errors.Is(e, ErrUnknownShape) {
						t.Errorf("record error %v, want ErrUnknownShape", e)
					}
				}
			}
		})
	}
}

func TestParseFormat(t *testing.T) {
	for in, want := range map[string]Format{"": Auto, "AUTO": Auto, "trail": Trail, "jsonl": Lines, "eventbridge": EventBridge, "lookup-events": Lookup, "record": Record, "array": Array,
		"cloudwatch-logs": CloudWatchLogs, "logs": CloudWatchLogs} {
		got, err := ParseFormat(in)
		if err != nil || got != want {
			t.Errorf("ParseFormat(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := ParseFormat("xml"); err == nil {
		t.Error("ParseFormat(xml) did not fail")
	}
}

// An input that cannot be decoded to its end fails with an *InputError
// naming it, so a caller reports the input's name and the reason apart.
func TestInputError(t *testing.T) {
	d, err := NewDecoder(Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"trail/f.json", ""} {
		_, err := d.Decode(context.Background(), strings.NewReader(`{"Records": [`), name, func(*iamwatch.Event) error { return nil })
		ie, ok := errors.AsType[*InputError](err)
		if !ok {
			t.Fatalf("%q: error %v (%T), want an *InputError", name, err, err)
		}
		want := name
		if want == "" {
			want = "input"
		}
		if ie.Name != want || !errors.Is(err, io.ErrUnexpectedEOF) || name != "" && strings.Contains(ie.Err.Error(), name) {
			t.Errorf("%q: InputError{Name: %q, Err: %v}, want Name %q and an unexpected-EOF reason without the name", name, ie.Name, ie.Err, want)
		}
		if err.Error() != "cloudtrail: "+want+": "+ie.Err.Error() {
			t.Errorf("%q: message %q should name the input, then say why", name, err)
		}
	}
}
