package cloudtrail

import (
	"bytes"
	"context"
	"os"
	"testing"
	"time"

	"github.com/iamwatch/iamwatch"
)

func BenchmarkDecodeRecord(b *testing.B) {
	raw, err := os.ReadFile("testdata/identity/assumed-role-attach-policy.json")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(raw)))
	cpu0 := cpuTime()
	for b.Loop() {
		if _, err := DecodeRecord(raw); err != nil {
			b.Fatal(err)
		}
	}
	reportRate(b, b.N, cpu0)
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
	cpu0 := cpuTime()
	for b.Loop() {
		st, err := d.Decode(ctx, bytes.NewReader(trail), "bench.json", func(*iamwatch.Event) error { return nil })
		if err != nil || st.Events != n {
			b.Fatalf("%+v %v", st, err)
		}
	}
	reportRate(b, n*b.N, cpu0)
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
	cpu0 := cpuTime()
	for b.Loop() {
		st, err := Decode(ctx, bytes.NewReader(in), "bench.jsonl", Options{}, func(*iamwatch.Event) error { return nil })
		if err != nil || st.Events != n {
			b.Fatalf("%+v %v", st, err)
		}
	}
	reportRate(b, n*b.N, cpu0)
}

// BenchmarkDecodeTrailGzip is BenchmarkDecodeTrail on the gzipped file, as
// delivered to S3.
func BenchmarkDecodeTrailGzip(b *testing.B) {
	const n = 20000
	z := gz(b, genTrail(n))
	b.ReportAllocs()
	b.SetBytes(int64(len(z)))
	ctx := context.Background()
	cpu0 := cpuTime()
	for b.Loop() {
		st, err := Decode(ctx, bytes.NewReader(z), "bench.json.gz", Options{}, func(*iamwatch.Event) error { return nil })
		if err != nil || st.Events != n {
			b.Fatalf("%+v %v", st, err)
		}
	}
	reportRate(b, n*b.N, cpu0)
}

// reportRate reports records per wall-clock second and per CPU-second of the
// whole process (GC included).
func reportRate(b *testing.B, records int, cpu0 time.Duration) {
	b.ReportMetric(float64(records)/b.Elapsed().Seconds(), "records/s")
	if cpu := cpuTime() - cpu0; cpu > 0 {
		b.ReportMetric(float64(records)/cpu.Seconds(), "records/cpu-s")
	}
}

// BenchmarkDecodeSmallFiles decodes many small gzipped trail files (1 to
// 15 records, 8 on average), the shape of a quiet account's trail, with one
// Decoder: the cost per file (gzip state, buffers) shows here.
func BenchmarkDecodeSmallFiles(b *testing.B) {
	const files = 2000
	zs := make([][]byte, files)
	records := 0
	for i := range zs {
		n := 1 + i%15
		var t bytes.Buffer
		t.WriteString(`{"Records":[`)
		for j := range n {
			if j > 0 {
				t.WriteByte(',')
			}
			genRecord(&t, records+j)
		}
		t.WriteString(`]}`)
		zs[i] = gz(b, t.Bytes())
		records += n
	}
	d, err := NewDecoder(Options{})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	cpu0 := cpuTime()
	for b.Loop() {
		for i, z := range zs {
			if _, err := d.Decode(ctx, bytes.NewReader(z), "f.json.gz", func(*iamwatch.Event) error { return nil }); err != nil {
				b.Fatalf("file %d: %v", i, err)
			}
		}
	}
	reportRate(b, records*b.N, cpu0)
	b.ReportMetric(float64(files*b.N)/b.Elapsed().Seconds(), "files/s")
}
