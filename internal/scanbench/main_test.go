package main

import (
	"testing"
	"time"
)

// TestPhases: the stages scan --timings prints become where the scan's
// wall time went, the time outside the scan included, and a scan without
// the line has no phases.
func TestPhases(t *testing.T) {
	out := "Took 1.99s (125500 records/s).\n" +
		"iamwatch: timings (ms from the scan's start): started=82 read=1802 alerts=1808 freed=1837 indexed=1943 closed=1989\n"
	r := result{wall: 2050 * time.Millisecond, stages: parseTimings(out)}
	if len(r.stages) != 6 || r.stages[1] != (stage{"read", 1802 * time.Millisecond}) {
		t.Fatalf("stages %v", r.stages)
	}
	want := "outside the scan 61 ms, start 82 ms, read 1720 ms, end 187 ms (alerts 6 ms, freed 29 ms, indexed 106 ms, closed 46 ms)"
	if got := phases(r); got != want {
		t.Errorf("phases:\n got %s\nwant %s", got, want)
	}
	for _, bad := range []string{"Took 1s.\n", "iamwatch: timings (ms from the scan's start): started=x\n"} {
		if r := (result{wall: time.Second, stages: parseTimings(bad)}); r.stages != nil || phases(r) != "" {
			t.Errorf("%q: stages %v, phases %q", bad, r.stages, phases(r))
		}
	}
}

// TestPairedShare: a scan's share is the median of each run's limit over
// its own time, not a share of one limit measured apart.
func TestPairedShare(t *testing.T) {
	rs := []result{
		{wall: 2 * time.Second, limit: 1200 * time.Millisecond},         // 0.60
		{wall: 1600 * time.Millisecond, limit: time.Second},             // 0.625
		{wall: 1500 * time.Millisecond, limit: 1050 * time.Millisecond}, // 0.70
	}
	if got := pairedShare(rs); got != 0.625 {
		t.Errorf("paired share %v, want 0.625", got)
	}
	if got := median(each(rs, limitOf)); got != 1050*time.Millisecond {
		t.Errorf("median limit %v, want 1.05s", got)
	}
}
