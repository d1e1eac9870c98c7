package cloudtrail

import (
	"bytes"
	"context"
	"os"
	"testing"

	"github.com/iamwatch/iamwatch"
)

func BenchmarkDecodeRecord(b *testing.B) {
	raw, err := os.ReadFile("testdata/identity/assumed-role-attach-policy.json")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		if _, err := DecodeRecord(raw); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

func BenchmarkDecodeTrail(b *testing.B) {
	const n = 20000
	trail := genTrail(n)
	b.ReportAllocs()
	b.SetBytes(int64(len(trail)))
	d, err := NewDecoder(Options{})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for b.Loop() {
		st, err := d.Decode(ctx, bytes.NewReader(trail), "bench.json", func(*iamwatch.Event) error { return nil })
		if err != nil || st.Events != n {
			b.Fatalf("%+v %v", st, err)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(len(trail))/n, "bytes/record")
}

// BenchmarkDecodeLines decodes JSON lines of records, each classified by
// content (the path EventBridge archives and exports take).
func BenchmarkDecodeLines(b *testing.B) {
	const n = 20000
	var lines bytes.Buffer
	for i := range n {
		genRecord(&lines, i)
		lines.WriteByte('\n')
	}
	in := lines.Bytes()
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	ctx := context.Background()
	for b.Loop() {
		st, err := Decode(ctx, bytes.NewReader(in), "bench.jsonl", Options{}, func(*iamwatch.Event) error { return nil })
		if err != nil || st.Events != n {
			b.Fatalf("%+v %v", st, err)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkDecodeTrailGzip is BenchmarkDecodeTrail on the gzipped file, as
// delivered to S3.
func BenchmarkDecodeTrailGzip(b *testing.B) {
	const n = 20000
	z := gz(b, genTrail(n))
	b.ReportAllocs()
	b.SetBytes(int64(len(z)))
	ctx := context.Background()
	for b.Loop() {
		st, err := Decode(ctx, bytes.NewReader(z), "bench.json.gz", Options{}, func(*iamwatch.Event) error { return nil })
		if err != nil || st.Events != n {
			b.Fatalf("%+v %v", st, err)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "records/s")
}
