package pipeline_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/iamwatch/iamwatch/pipeline"
)

// gzipRecords is a trail file of n IAM records, gzipped.
func gzipRecords(t *testing.T, prefix string, n int) []byte {
	t.Helper()
	var recs []string
	for i := range n {
		recs = append(recs, record(fmt.Sprintf("%s-%03d", prefix, i), "iam.amazonaws.com", "ListUsers", "IAMUser", t0.Add(time.Duration(i)*time.Second)))
	}
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write([]byte(`{"Records":[` + strings.Join(recs, ",") + `]}`))
	zw.Close()
	return b.Bytes()
}

// A gzip stream cut before its trailer (a truncated download) still
// decodes every record: they are stored, and the damage is reported with
// the file name and counted.
func TestDamagedGzipKeepsWhatDecoded(t *testing.T) {
	dir := t.TempDir()
	z := gzipRecords(t, "cut", 100)
	writeFile(t, dir, "cut.json.gz", string(z[:len(z)-8])) // the 8-byte trailer is gone
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
	if rep.Records != 100 || rep.Stored != 100 {
		t.Errorf("records %d, stored %d; want 100 and 100", rep.Records, rep.Stored)
	}
	if rep.InputsRejected != 1 || len(rep.Rejections) != 1 {
		t.Fatalf("inputs rejected %d, rejections %v; want the damaged file once", rep.InputsRejected, rep.Rejections)
	}
	r := rep.Rejections[0].String()
	if !strings.Contains(r, "cut.json.gz") || !strings.Contains(r, "gzip") {
		t.Errorf("rejection %q should name the file and say gzip", r)
	}
}

// A gzip stream cut in the middle loses only the records after the cut:
// every record decoded is stored, across the readers' batch boundaries.
func TestGzipCutMidStreamStoresEveryDecodedRecord(t *testing.T) {
	dir := t.TempDir()
	z := gzipRecords(t, "mid", 2000)
	writeFile(t, dir, "mid.json.gz", string(z[:len(z)/2]))
	st := openStore(t)
	p, err := pipeline.New(st, pipeline.Options{})
	if err != nil {
		t.Fatal(err)
	}
	inputs, err := pipeline.Expand([]string{dir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := p.Read(context.Background(), inputs, pipeline.ReadOptions{BatchSize: 300})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Records == 0 || rep.Records%256 == 0 || rep.Stored != rep.Records {
		t.Errorf("records %d, stored %d; want every decoded record stored (and a count that is not a whole number of batches)", rep.Records, rep.Stored)
	}
	if rep.InputsRejected != 1 {
		t.Errorf("inputs rejected %d, want 1", rep.InputsRejected)
	}
}
