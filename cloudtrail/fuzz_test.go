package cloudtrail

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/iamwatch/iamwatch"
)

func addSeeds(f *testing.F, glob string) {
	files, _ := filepath.Glob(glob)
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

// FuzzDecodeRecord: no input panics; an accepted record decodes the same
// from its own Raw, and a record re-encoded from the event's fields decodes
// to the same fields.
func FuzzDecodeRecord(f *testing.F) {
	addSeeds(f, "testdata/identity/*.json")
	f.Add([]byte(`{"eventID":"a","eventTime":"2025-01-01T00:00:00.5+01:00","userAgent":"\ud800\u00e9\"","readOnly":1}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		ev, err := DecodeRecord(raw)
		if err != nil {
			return
		}
		if !json.Valid(raw) {
			t.Fatalf("accepted what encoding/json calls invalid: %q", raw)
		}
		if ev.ID == "" || ev.Time.Location() != time.UTC || ev.UserName == "" {
			t.Fatalf("accepted record with ID %q, time %v, user %q", ev.ID, ev.Time, ev.UserName)
		}
		again, err := DecodeRecord(ev.Raw)
		if err != nil {
			t.Fatalf("Raw does not decode: %v", err)
		}
		if !reflect.DeepEqual(ev, again) {
			t.Fatalf("decoding Raw again differs:\n%+v\n%+v", ev, again)
		}
		re := encodeEvent(&ev)
		back, err := DecodeRecord(re)
		if err != nil {
			t.Fatalf("re-encoded record does not decode: %v\n%s", err, re)
		}
		want, got := ev, back
		for _, e := range []*iamwatch.Event{&want, &got} {
			e.UserName, e.Raw = "", nil
			e.RequestParameters = compactOrSelf(e.RequestParameters)
			e.ResponseElements = compactOrSelf(e.ResponseElements)
		}
		if !reflect.DeepEqual(want, got) {
			t.Fatalf("round trip differs:\n%+v\n%+v\n%s", want, got, re)
		}
	})
}

func compactOrSelf(b []byte) []byte {
	if b == nil {
		return nil
	}
	var out bytes.Buffer
	if json.Compact(&out, b) != nil {
		return b
	}
	return out.Bytes()
}

// encodeEvent writes a record carrying the event's fields, leaving strings'
// bytes as they are (valid UTF-8 or not) so that the round trip is exact.
func encodeEvent(e *iamwatch.Event) []byte {
	var b bytes.Buffer
	field := func(k, v string) {
		if b.Len() > 1 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Quote(k))
		b.WriteByte(':')
		b.WriteString(v)
	}
	b.WriteByte('{')
	field("eventID", quote(e.ID))
	field("eventTime", quote(e.Time.Format(time.RFC3339Nano)))
	field("eventSource", quote(e.Source))
	field("eventName", quote(e.Name))
	field("eventType", quote(e.Category))
	field("recipientAccountId", quote(e.AccountID))
	field("awsRegion", quote(e.Region))
	field("sourceIPAddress", quote(e.SourceIP))
	field("userAgent", quote(e.UserAgent))
	field("errorCode", quote(e.ErrorCode))
	field("errorMessage", quote(e.ErrorMessage))
	if e.ReadOnly != "" {
		field("readOnly", e.ReadOnly)
	}
	switch e.MFAUsed {
	case "yes":
		field("additionalEventData", `{"MFAUsed":"Yes"}`)
	case "no":
		field("additionalEventData", `{"MFAUsed":"No"}`)
	}
	if e.IdentityType != "" || e.PrincipalARN != "" || e.InvokedBy != "" || e.AccessKeyID != "" {
		field("userIdentity", `{"type":`+quote(e.IdentityType)+`,"arn":`+quote(e.PrincipalARN)+`,"invokedBy":`+quote(e.InvokedBy)+
			`,"accessKeyId":`+quote(e.AccessKeyID)+`}`)
	}
	if e.RequestParameters != nil {
		field("requestParameters", string(e.RequestParameters))
	} else if e.TargetRole != "" {
		field("requestParameters", `{"roleArn":`+quote(e.TargetRole)+`}`)
	}
	if e.ResponseElements != nil {
		field("responseElements", string(e.ResponseElements))
	}
	b.WriteByte('}')
	return b.Bytes()
}

// quote writes s as a JSON string, escaping only what JSON requires.
func quote(s string) string {
	b := []byte{'"'}
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20:
			b = append(b, `\u00`...)
			b = append(b, "0123456789abcdef"[c>>4], "0123456789abcdef"[c&15])
		default:
			b = append(b, c)
		}
		i++
	}
	return string(append(b, '"'))
}

// FuzzDecode: any bytes, as any format, plain or gzipped: no panic, and the
// counts agree with what was yielded and reported.
//
// Run it with a short -fuzzminimizetime (e.g. 3s): minimizing each new
// interesting input otherwise takes the default 60 s.
func FuzzDecode(f *testing.F) {
	addSeeds(f, "testdata/shapes/*.json")
	addSeeds(f, "testdata/shapes/*.jsonl")
	addSeeds(f, "testdata/shapes/*.gz")
	f.Add([]byte("{\"Records\":[{\"eventID\":\"a\"}\n{\"x\":1}]}\n[1,2,{\"detail-type\":\"x\",\"detail\":{}}]"))
	formats := Formats()
	f.Fuzz(func(t *testing.T, in []byte) {
		for _, format := range []Format{Auto, formats[len(in)%len(formats)]} {
			events, reported := 0, 0
			st, err := Decode(context.Background(), bytes.NewReader(in), "fuzz", Options{
				Format:               format,
				MaxRecordBytes:       4096,
				MaxDecompressedBytes: 1 << 20,
				OnError: func(e *RecordError) {
					if e.Index < 0 || e.Index >= 1<<20 || e.Err == nil {
						t.Fatalf("bad record error %+v", e)
					}
					reported++
				},
			}, func(ev *iamwatch.Event) error {
				if ev.ID == "" || ev.UserName == "" {
					t.Fatalf("event without ID or user: %+v", ev)
				}
				events++
				return nil
			})
			_ = err
			if st.Records != st.Events+st.Rejected+st.Skipped || st.Events != events || st.Rejected+st.Skipped != reported {
				t.Fatalf("%s: stats %+v, %d events, %d reported", format, st, events, reported)
			}
		}
	})
}
