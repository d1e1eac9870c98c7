package cloudtrail

import (
	"os"
	"testing"
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
