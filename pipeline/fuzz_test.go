package pipeline_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/iamwatch/iamwatch/detect"
	"github.com/iamwatch/iamwatch/pipeline"
	"github.com/iamwatch/iamwatch/rules"
	"github.com/iamwatch/iamwatch/store/sqlite"
)

// FuzzScan runs file bytes through the whole scan path: decode, the
// built-in rules, the SQLite store. Whatever the bytes, Read does not fail,
// the counts agree (every decoded event is processed, none stored twice),
// and reading the same bytes again stores nothing new and raises no new
// alert (idempotent storing and alerting).
func FuzzScan(f *testing.F) {
	at := time.Date(2025, 3, 11, 13, 2, 7, 0, time.UTC)
	root := `{"eventVersion":"1.08","userIdentity":{"type":"Root","principalId":"111122223333","arn":"arn:aws:iam::111122223333:root","accountId":"111122223333"},"eventTime":"2025-03-11T13:02:07Z","eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","awsRegion":"us-east-1","sourceIPAddress":"203.0.113.9","userAgent":"Mozilla/5.0","requestParameters":null,"responseElements":{"ConsoleLogin":"Success"},"additionalEventData":{"MFAUsed":"No"},"eventID":"fz-root-1","eventType":"AwsConsoleSignIn","recipientAccountId":"111122223333"}`
	failed := strings.NewReplacer(`"Success"`, `"Failure"`, `"Root"`, `"IAMUser"`, `"fz-root-1"`, `"fz-fail-1"`).Replace(root)
	create := record("fz-create-1", "iam.amazonaws.com", "CreateUser", "IAMUser", at)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	if _, err := zw.Write([]byte(`{"Records":[` + create + `,` + root + `]}`)); err != nil {
		panic(err) // a bytes.Buffer does not fail
	}
	if err := zw.Close(); err != nil {
		panic(err)
	}
	for _, seed := range []string{
		`{"Records":[` + root + `,` + create + `]}`,
		root + "\n" + failed + "\n" + failed + "\n",
		`[` + create + `]`,
		`{"version":"0","id":"x","detail-type":"AWS Console Sign In via CloudTrail","source":"aws.signin","detail":` + root + `}`,
		`{"Events":[{"EventId":"fz-l","CloudTrailEvent":` + jsonQuote(create) + `}]}`,
		gz.String(),
		gz.String()[:gz.Len()-8],
		`{"Records":[{"eventID":"x"},` + create + `,{not json`,
		`{"awsAccountId":"111122223333","digestStartTime":"2025-03-11T12:00:00Z","logFiles":[]}`,
		"",
	} {
		f.Add([]byte(seed))
	}
	rs, err := rules.Load()
	if err != nil {
		f.Fatal(err)
	}
	st, err := sqlite.Open(context.Background(), f.TempDir()+"/fuzz.db", sqlite.Options{})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { st.Close() })
	eng, err := detect.New(rs, detect.Config{})
	if err != nil {
		f.Fatal(err)
	}
	p, err := pipeline.New(st, pipeline.Options{Detector: eng, Filter: pipeline.Filter{Keep: pipeline.KeepAll}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		in := []pipeline.Input{{Name: "fuzz.json", Size: int64(len(data)), Open: func() (io.ReadCloser, error) {
			return io.NopCloser(bytes.NewReader(data)), nil
		}}}
		ctx := context.Background()
		rep, err := p.Read(ctx, in, pipeline.ReadOptions{Workers: 1})
		if err != nil {
			t.Fatalf("Read failed: %v", err)
		}
		if rep.Inputs+rep.InputsSkipped+rep.InputsRejected != 1 {
			t.Fatalf("the one input is counted %d read, %d skipped, %d rejected", rep.Inputs, rep.InputsSkipped, rep.InputsRejected)
		}
		if rep.Stored+rep.Duplicates != rep.Kept || rep.Kept > rep.Events || rep.Events > rep.Records {
			t.Fatalf("counts disagree: %+v", rep)
		}
		again, err := p.Read(ctx, in, pipeline.ReadOptions{Workers: 1})
		if err != nil {
			t.Fatalf("second Read failed: %v", err)
		}
		if again.Stored != 0 || again.NewAlerts != 0 || again.Events != rep.Events {
			t.Fatalf("second read stored %d, raised %d new alerts, saw %d events (first %d); want 0, 0, the same",
				again.Stored, again.NewAlerts, again.Events, rep.Events)
		}
	})
}

func jsonQuote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	b.WriteString(strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s))
	b.WriteByte('"')
	return b.String()
}
