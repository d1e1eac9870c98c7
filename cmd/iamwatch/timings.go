package main

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// scanTimings notes when each stage of a scan ended, counted from the
// scan's start (--timings, hidden): the fixed costs at both ends, which
// run on one core while the read keeps both busy, and which a scan's whole
// time hides. internal/scanbench prints them beside each scan's time; the
// time outside the scan (the process's start and package initialisation,
// printing the alerts and the summary, exit) is the wall time it measured
// less the last mark. A nil *scanTimings notes nothing.
type scanTimings struct {
	start time.Time
	marks []timingMark
}

type timingMark struct {
	stage string
	at    time.Duration
}

// The stages, in the order a scan passes them; a scan without a bulk load
// has no freed and indexed marks.
const (
	stageStarted = "started" // the store open and the rules compiled
	stageRead    = "read"    // every input read, its events stored and matched
	stageAlerts  = "alerts"  // the new alerts read back as stored
	stageFreed   = "freed"   // the read's memory returned before the index builds
	stageIndexed = "indexed" // the indexes a bulk load dropped built again
	stageClosed  = "closed"  // the store closed (the last checkpoint)
)

func newScanTimings(start time.Time) *scanTimings { return &scanTimings{start: start} }

func (t *scanTimings) mark(stage string) {
	if t != nil {
		t.marks = append(t.marks, timingMark{stage, time.Since(t.start)})
	}
}

// write prints the marks on one line, stage=milliseconds, in the order
// taken.
func (t *scanTimings) write(w io.Writer) {
	if t == nil {
		return
	}
	parts := make([]string, len(t.marks))
	for i, m := range t.marks {
		parts[i] = fmt.Sprintf("%s=%d", m.stage, m.at.Milliseconds())
	}
	fmt.Fprintf(w, "iamwatch: timings (ms from the scan's start): %s\n", strings.Join(parts, " "))
}
