package sqs

import (
	"encoding/json"
	"flag"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestParseMessageGolden parses every shape in testdata/messages and
// compares the result with NAME.golden.
func TestParseMessageGolden(t *testing.T) {
	files, _ := filepath.Glob("testdata/messages/*.json")
	if len(files) == 0 {
		t.Fatal("no messages")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			body, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			m, err := ParseMessage(body)
			if err != nil {
				t.Fatal(err)
			}
			if m.Inline != nil {
				m.Inline = []byte(fmt.Sprintf("<%d bytes>", len(m.Inline)))
			}
			got, _ := json.MarshalIndent(struct {
				Kind    Kind
				ViaSNS  bool
				Objects []Object
				Inline  string `json:",omitempty"`
			}{m.Kind, m.ViaSNS, m.Objects, string(m.Inline)}, "", "  ")
			golden := strings.TrimSuffix(f, ".json") + ".golden"
			if *update {
				if err := os.WriteFile(golden, append(got, '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if string(got)+"\n" != string(want) {
				t.Errorf("got\n%s\nwant\n%s", got, want)
			}
		})
	}
}

func TestParseMessageRejects(t *testing.T) {
	for name, body := range map[string]string{
		"empty":                 ``,
		"not json":              `hello`,
		"array":                 `[1]`,
		"unknown object":        `{"a":1}`,
		"bad escape":            `{"Records":[{"eventSource":"aws:s3","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{"key":"a%zz"}}}]}`,
		"no bucket":             `{"Records":[{"eventSource":"aws:s3","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":""},"object":{"key":"k"}}}]}`,
		"not s3 source":         `{"Records":[{"eventSource":"aws:sqs","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{"key":"k"}}}]}`,
		"cloudtrail no keys":    `{"s3Bucket":"b","s3ObjectKey":[]}`,
		"cloudtrail empty key":  `{"s3Bucket":"b","s3ObjectKey":[""]}`,
		"sns in sns":            `{"Type":"Notification","Message":"{\"Type\":\"Notification\",\"Message\":\"{}\"}"}`,
		"sns bad message":       `{"Type":"Notification","Message":"nope"}`,
		"eventbridge no detail": `{"detail-type":"AWS API Call via CloudTrail","source":"aws.iam"}`,
		"object created no key": `{"detail-type":"Object Created","source":"aws.s3","detail":{"bucket":{"name":"b"},"object":{}}}`,
	} {
		if m, err := ParseMessage([]byte(body)); err == nil {
			t.Errorf("%s: accepted as %+v", name, m)
		}
	}
}

// FuzzParseMessage checks that any accepted message names only complete
// objects, and that its objects survive a round trip through the S3
// notification encoding (URL-encoded keys, wrapped by SNS).
func FuzzParseMessage(f *testing.F) {
	files, _ := filepath.Glob("testdata/messages/*.json")
	for _, p := range files {
		b, _ := os.ReadFile(p)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		m, err := ParseMessage(body)
		if err != nil {
			return
		}
		for _, o := range m.Objects {
			if o.Bucket == "" || o.Key == "" {
				t.Fatalf("accepted an incomplete object %+v", o)
			}
		}
		if (m.Kind == KindEventBridgeCT) != (m.Inline != nil) {
			t.Fatalf("kind %s with inline %q", m.Kind, m.Inline)
		}
		if len(m.Objects) == 0 {
			return
		}
		type rec struct {
			EventSource string `json:"eventSource"`
			EventName   string `json:"eventName"`
			S3          any    `json:"s3"`
		}
		var recs []rec
		for _, o := range m.Objects {
			recs = append(recs, rec{"aws:s3", "ObjectCreated:Put", map[string]any{
				"bucket": map[string]string{"name": o.Bucket},
				"object": map[string]any{"key": url.QueryEscape(o.Key), "size": o.Size},
			}})
		}
		inner, _ := json.Marshal(map[string]any{"Records": recs})
		outer, _ := json.Marshal(map[string]string{"Type": "Notification", "Message": string(inner)})
		again, err := ParseMessage(outer)
		if err != nil {
			t.Fatalf("re-encoded message rejected: %v\n%s", err, outer)
		}
		if !again.ViaSNS || !reflect.DeepEqual(again.Objects, m.Objects) {
			t.Fatalf("round trip: %+v, want %+v", again.Objects, m.Objects)
		}
	})
}
