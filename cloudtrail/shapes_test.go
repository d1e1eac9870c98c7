package cloudtrail

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
)

func fixture(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("testdata/identity/" + name)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := json.Compact(&out, b); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

// TestMoreShapes covers shapes and mixtures beyond the golden files, by
// counts and the record errors' reasons.
func TestMoreShapes(t *testing.T) {
	root, role := fixture(t, "root-console-login.json"), fixture(t, "assume-role-call.json")
	eb := func(dt, detail string) string {
		return `{"version":"0","id":"eb-1","detail-type":` + quote(dt) + `,"source":"aws.signin","account":"210987654321","time":"2025-03-04T08:15:02Z","region":"us-east-1","resources":[],"detail":` + detail + `}`
	}
	lookup := func(rec string) string {
		return `{"EventId":"lk-1","EventName":"X","EventTime":1741076102,"CloudTrailEvent":` + quote(rec) + `}`
	}
	logEvent := func(id, msg string) string {
		return `{"id":"` + id + `","timestamp":1741076102000,"message":` + quote(msg) + `}`
	}
	logData := func(events ...string) string {
		return `{"messageType":"DATA_MESSAGE","owner":"210987654321","logGroup":"trail","logStream":"s","subscriptionFilters":["f"],"logEvents":[` + strings.Join(events, ",") + `]}`
	}
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, []byte(root), "", "  "); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name                      string
		in                        string
		format                    Format
		events, rejected, skipped int
		reasons                   []error
		fileErr                   error
	}{
		{"pretty records one after another", pretty.String() + "\n" + pretty.String(), Auto, 2, 0, 0, nil, nil},
		{"lookup page with NextToken first", `{"NextToken":"abc","Events":[` + lookup(root) + `,` + lookup(role) + `]}`, Auto, 2, 0, 0, nil, nil},
		{"lookup events in an array", `[` + lookup(root) + `,` + lookup(role) + `]`, Lookup, 2, 0, 0, nil, nil},
		{"eventbridge insight and other detail-types", eb("AWS Console Sign In via CloudTrail", root) + "\n" + eb("AWS Insight via CloudTrail", `{"eventID":"i"}`) + "\n" + eb("EC2 Instance State-change Notification", `{"instance-id":"i-1"}`) + "\n", Auto, 1, 1, 1, []error{ErrSkipped, ErrUnknownShape}, nil},
		{"eventbridge detail without a record", eb("AWS API Call via CloudTrail", `{"eventSource":"iam.amazonaws.com"}`), Auto, 0, 1, 0, []error{ErrMissingField}, nil},
		{"lookup with a bad record string", lookup(`{"eventID":"x",`), Auto, 0, 1, 0, []error{ErrInvalidJSON}, nil},
		{"trail file as one line among lines", root + "\n" + `{"Records":[` + role + `]}` + "\n", Auto, 2, 0, 0, nil, nil},
		{"array of non-objects", `[1,"a",null,` + root + `]`, Auto, 1, 3, 0, []error{ErrUnknownShape, ErrUnknownShape, ErrUnknownShape}, nil},
		{"records list with trailing members", `{"Records":[` + root + `],"extra":{"a":[1,2]},"Records":[` + role + `]}`, Auto, 2, 0, 0, nil, nil},
		{"byte order mark", "\xef\xbb\xbf" + root + "\n", Auto, 1, 0, 0, nil, nil},
		{"crlf lines", root + "\r\n" + role + "\r\n", Auto, 2, 0, 0, nil, nil},
		{"blank lines and spaces", "\n\n  " + root + "  \n\n\t" + role, Auto, 2, 0, 0, nil, nil},
		{"trail missing its end", `{"Records":[` + root, Auto, 1, 0, 0, nil, errTruncated},
		{"forced record on lines", root + "\n" + role + "\n", Record, 2, 0, 0, nil, nil},
		{"digest by content, gzipped name irrelevant", `{"awsAccountId":"210987654321","digestStartTime":"2025-03-04T08:00:00Z","digestPublicKeyFingerprint":"00","logFiles":[]}`, Auto, 0, 0, 0, nil, ErrSkipped},
		{"json but not cloudtrail", `{"hello":"world"}`, Auto, 0, 1, 0, []error{ErrUnknownShape}, nil},
		{"log subscription: control message, then data with a message that is no record",
			`{"messageType":"CONTROL_MESSAGE","owner":"CloudwatchLogs","logGroup":"","logStream":"","subscriptionFilters":[],"logEvents":[{"id":"","timestamp":1,"message":"CWL CONTROL MESSAGE: Checking health of destination Firehose."}]}` +
				logData(logEvent("1", root), logEvent("2", "START RequestId: 42 Version: $LATEST"), logEvent("3", role)),
			Auto, 2, 1, 1, []error{ErrSkipped, ErrInvalidJSON}, nil},
		{"get-log-events output, tokens after the events", `{"events":[` + logEvent("1", root) + `],"nextForwardToken":"f/1","nextBackwardToken":"b/1"}`, Auto, 1, 0, 0, nil, nil},
		{"log events listed alone", `[` + logEvent("1", root) + `,` + logEvent("2", role) + `]`, Auto, 2, 0, 0, nil, nil},
		{"export lines, one cut short", "2025-03-04T08:15:02.000Z " + root + "\n2025-03-04T08:15:03.000Z {\"eventID\":\"x\",\n2025-03-04T08:15:04+00:00\t" + role + "\n", Auto, 2, 1, 0, []error{ErrInvalidJSON}, nil},
		{"a line starting with a date that is no export line", "2025-03-04 " + root + "\n", Auto, 0, 0, 0, nil, ErrUnknownShape},
		{"text", "hello", Auto, 0, 0, 0, nil, ErrUnknownShape},
		{"a zip archive", "PK\x03\x04\x14\x00\x08\x00events.json", Auto, 0, 0, 0, nil, ErrArchive},
		{"a zip archive, trail forced", "PK\x03\x04\x14\x00\x08\x00events.json", Trail, 0, 0, 0, nil, ErrArchive},
		{"a tar archive", tarHeader("AWSLogs/111122223333_CloudTrail_us-east-1_20250304T0815Z_x.json.gz"), Auto, 0, 0, 0, nil, ErrArchive},
		{"text that starts like a zip", "PKG-INFO\nName: x\n", Auto, 0, 0, 0, nil, ErrUnknownShape},
		{"a tar header cut short", tarHeader("x.json")[:200], Auto, 0, 0, 0, nil, ErrUnknownShape},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, errs := decodeAll(t, strings.NewReader(tt.in), "in", Options{Format: tt.format})
			st := res.Stats
			if st.Events != tt.events || st.Rejected != tt.rejected || st.Skipped != tt.skipped {
				t.Errorf("stats %+v, want %d events, %d rejected, %d skipped; errors %v; file error %q", st, tt.events, tt.rejected, tt.skipped, res.Errors, res.Error)
			}
			for i, want := range tt.reasons {
				if i < len(errs) && !errors.Is(errs[i], want) {
					t.Errorf("record error %d: %v, want %v", i, errs[i], want)
				}
			}
			if tt.fileErr == nil && res.Error != "" {
				t.Errorf("file error %q", res.Error)
			}
			if tt.fileErr != nil {
				if res.Error == "" {
					t.Errorf("no file error, want %v", tt.fileErr)
				} else if !strings.Contains(res.Error, tt.fileErr.Error()) {
					t.Errorf("file error %q, want %v", res.Error, tt.fileErr)
				}
			}
		})
	}
}

// tarHeader is the first 512 bytes of a POSIX tar holding one file, name.
func tarHeader(name string) string {
	h := make([]byte, 512)
	copy(h, name)
	copy(h[100:], "0000644\x00")
	copy(h[257:], "ustar\x0000")
	return string(h)
}
