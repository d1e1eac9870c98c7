package detect_test

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"text/tabwriter"

	"github.com/iamwatch/iamwatch"
	"github.com/iamwatch/iamwatch/cloudtrail"
	"github.com/iamwatch/iamwatch/detect"
	"github.com/iamwatch/iamwatch/pipeline"
	"github.com/iamwatch/iamwatch/rules"
)

// corpus points at a folder of real CloudTrail samples written by others
// (../shared/corpus beside the project). They are never part of the
// repository, so the check runs only when asked:
//
//	go test ./detect -run Corpus -corpus ../../shared/corpus -v
var corpus = flag.String("corpus", "", "folder of real CloudTrail samples to run the catalog over (skipped when empty)")

// score is what one dataset (a top-level folder of the corpus) scores.
type score struct {
	files, events int
	stored        int // kept by the default keep filter (identity, no service events) or by a rule's interest
	alerts        int // distinct alerts (by dedup key)
	bySeverity    map[iamwatch.Severity]int
	byRule        map[string]int
	onService     int   // alerts whose event's actor is an AWS service (Event.ServiceActor)
	onInvoked     int   // alerts whose event a service made with a principal's credentials (invokedBy, not the console)
	doubles       int   // events that raised two or more new alerts
	hits          []hit // every distinct alert with the event that raised it, for the attack scores
}

// TestCorpus runs the whole catalog over every dataset of the corpus, each
// with a fresh engine (threshold windows do not cross datasets), and prints
// the scores: alerts by rule and severity, alerts on AWS service actors,
// events raising two alerts. It fails only when a record the decoder
// accepts makes the engine fail.
func TestCorpus(t *testing.T) {
	datasets, byDataset := corpusDatasets(t)
	all, err := rules.Load()
	if err != nil {
		t.Fatal(err)
	}
	scores := map[string]*score{}
	for _, ds := range datasets {
		scores[ds] = scoreDataset(t, all, byDataset[ds])
	}
	printScores(all, datasets, scores)
	hits := map[string][]hit{}
	for ds, s := range scores {
		hits[ds] = s.hits
	}
	printAttackScores(os.Stdout, hits)
}

// corpusDatasets lists the JSON files of the -corpus folder by dataset
// (top-level folder), the datasets in report order (orderDatasets). It
// skips the test when there is no corpus.
func corpusDatasets(t *testing.T) ([]string, map[string][]string) {
	t.Helper()
	if *corpus == "" {
		t.Skip("no -corpus folder given")
	}
	if _, err := os.Stat(*corpus); err != nil {
		t.Skipf("corpus: %v", err)
	}
	byDataset := map[string][]string{}
	err := filepath.WalkDir(*corpus, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !(strings.HasSuffix(path, ".json") || strings.HasSuffix(path, ".jsonl")) {
			return err
		}
		rel, _ := filepath.Rel(*corpus, path)
		ds, _, _ := strings.Cut(filepath.ToSlash(rel), "/")
		byDataset[ds] = append(byDataset[ds], path)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(byDataset) == 0 {
		t.Skip("corpus has no JSON files")
	}
	return orderDatasets(byDataset), byDataset
}

// readCorpusFile calls fn with each record of the corpus file at path, in
// file order, named by its path in the corpus. It returns how many records
// and files the decoder refused, which it logs when logRefused.
func readCorpusFile(t *testing.T, path string, logRefused bool, fn func(rel string, ev *iamwatch.Event)) (refused int) {
	t.Helper()
	rel, _ := filepath.Rel(*corpus, path)
	if wrapped, ok := unwrapLines(t, path); ok {
		// Catalogue files: one {"event": <record>, …} per line.
		for i, raw := range wrapped {
			ev, err := cloudtrail.DecodeRecord(raw)
			if err != nil {
				refused++
				if logRefused {
					t.Logf("%s:%d: %v", rel, i+1, err)
				}
				continue
			}
			fn(rel, &ev)
		}
		return refused
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	_, err = cloudtrail.Decode(context.Background(), f, rel, cloudtrail.Options{}, func(ev *iamwatch.Event) error {
		fn(rel, ev)
		return nil
	})
	if err != nil {
		refused++
		if logRefused {
			t.Logf("%s: %v", rel, err)
		}
	}
	return refused
}

// orderDatasets puts the datasets the issue names first, in its order, then
// any others by name.
func orderDatasets(m map[string][]string) []string {
	known := []string{"stratus", "traildiscover", "invictus", "awsdocs", "lookupevents"}
	var out []string
	for _, k := range known {
		if m[k] != nil {
			out = append(out, k)
		}
	}
	var rest []string
	for k := range m {
		if !slices.Contains(known, k) {
			rest = append(rest, k)
		}
	}
	slices.Sort(rest)
	return append(out, rest...)
}

func scoreDataset(t *testing.T, all []*detect.Rule, files []string) *score {
	t.Helper()
	eng, err := detect.New(all, detect.Config{})
	if err != nil {
		t.Fatal(err)
	}
	st := detect.NewMemoryState()
	keep := pipeline.Filter{Keep: pipeline.KeepIdentity, DropServiceEvents: true} // what scan and run do by default
	ctx := context.Background()
	s := &score{files: len(files), bySeverity: map[iamwatch.Severity]int{}, byRule: map[string]int{}}
	at := map[string]int{} // dedup key → index in s.hits
	// An alert counts on the event that raised it: a sequence or threshold
	// completed by an earlier event that came later (files are not in
	// time order) is claimed while another event is in hand.
	type seenEvent struct {
		rel string
		ev  iamwatch.Event // a copy: the decoder reuses *ev
	}
	byID := map[string]seenEvent{}
	eval := func(rel string, ev *iamwatch.Event) {
		s.events++
		byID[ev.ID] = seenEvent{rel, *ev}
		if keep.Stores(ev) || eng.Interested(ev) {
			s.stored++
		}
		claims, err := eng.Evaluate(ctx, st, *ev) // one batch an event, as a live source may deliver them
		if err != nil {
			t.Errorf("%s: %v", rel, err)
		}
		fresh := 0
		for _, c := range claims {
			a := c.Alert
			if i, ok := at[a.DedupKey]; ok {
				// The incident grew: a message sent after the whole trail
				// was read carries this event too.
				h := &s.hits[i]
				h.grown = append(h.grown, hit{file: rel, source: ev.Source, name: ev.Name, userAgent: ev.UserAgent,
					principal: ev.PrincipalARN, rule: h.rule, severity: h.severity})
				continue
			}
			at[a.DedupKey] = len(s.hits)
			fresh++
			s.alerts++
			s.bySeverity[a.Severity]++
			s.byRule[a.Rule]++
			rel, ev := rel, ev
			if r, ok := byID[a.EventID]; ok {
				rel, ev = r.rel, &r.ev
			}
			s.hits = append(s.hits, hit{file: rel, source: ev.Source, name: ev.Name, userAgent: ev.UserAgent,
				principal: ev.PrincipalARN, rule: a.Rule, severity: a.Severity, alert: a})
			if ev.ServiceActor() {
				s.onService++
				t.Logf("%s: %s on AWS service actor %s (%s %s)", rel, a.Rule, ev.UserName, ev.Name, ev.ID)
			} else if ev.InvokedBy != "" && ev.InvokedBy != "signin.amazonaws.com" {
				s.onInvoked++
			}
		}
		if fresh >= 2 {
			s.doubles++
		}
	}
	for _, path := range files {
		readCorpusFile(t, path, true, eval)
	}
	if st := eng.Stats(); st.ConditionErrors+st.SummaryErrors > 0 {
		t.Logf("%d files: %+v", len(files), st)
	}
	return s
}

// printScores writes two tables to standard output: the totals per dataset,
// and alerts per rule and dataset (rules that never fired last).
func printScores(all []*detect.Rule, datasets []string, scores map[string]*score) {
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "\ncorpus scores: the built-in catalog over each dataset, a fresh engine each")
	fmt.Fprintf(w, "%-13s\tfiles\tevents\tstored\talerts\tcritical\thigh\tmedium\tlow\tinfo\ton service actors\tservice-invoked\tevents with 2+ alerts\t\n", "dataset")
	var tot score
	tot.bySeverity = map[iamwatch.Severity]int{}
	row := func(name string, s *score) {
		fmt.Fprintf(w, "%-13s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t\n", name, s.files, s.events, s.stored, s.alerts,
			s.bySeverity[iamwatch.SeverityCritical], s.bySeverity[iamwatch.SeverityHigh], s.bySeverity[iamwatch.SeverityMedium],
			s.bySeverity[iamwatch.SeverityLow], s.bySeverity[iamwatch.SeverityInfo], s.onService, s.onInvoked, s.doubles)
	}
	for _, ds := range datasets {
		s := scores[ds]
		row(ds, s)
		tot.files += s.files
		tot.events += s.events
		tot.stored += s.stored
		tot.alerts += s.alerts
		tot.onService += s.onService
		tot.onInvoked += s.onInvoked
		tot.doubles += s.doubles
		for k, v := range s.bySeverity {
			tot.bySeverity[k] += v
		}
	}
	row("total", &tot)
	w.Flush()

	type ruleRow struct {
		r     *detect.Rule
		total int
	}
	var rows []ruleRow
	for _, r := range all {
		n := 0
		for _, ds := range datasets {
			n += scores[ds].byRule[r.ID]
		}
		rows = append(rows, ruleRow{r, n})
	}
	slices.SortStableFunc(rows, func(a, b ruleRow) int {
		if a.total != b.total {
			return b.total - a.total
		}
		return strings.Compare(a.r.ID, b.r.ID)
	})
	w = tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	width := len("rule")
	for _, rr := range rows {
		width = max(width, len(rr.r.ID))
	}
	fmt.Fprintln(w, "\nalerts by rule")
	fmt.Fprintf(w, "%-*s\tseverity\t%s\ttotal\t\n", width, "rule", strings.Join(datasets, "\t"))
	for _, rr := range rows {
		fmt.Fprintf(w, "%-*s\t%s\t", width, rr.r.ID, rr.r.Severity)
		for _, ds := range datasets {
			if n := scores[ds].byRule[rr.r.ID]; n > 0 {
				fmt.Fprintf(w, "%d\t", n)
			} else {
				fmt.Fprint(w, ".\t")
			}
		}
		fmt.Fprintf(w, "%d\t\n", rr.total)
	}
	w.Flush()
}

// unwrapLines reads a JSON-lines file whose lines wrap a record as
// {"event": {...}}; it reports false for any other file.
func unwrapLines(t *testing.T, path string) ([]json.RawMessage, bool) {
	if !strings.HasSuffix(path, ".jsonl") {
		return nil, false
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []json.RawMessage
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 8<<20)
	for sc.Scan() {
		var line struct {
			Event json.RawMessage `json:"event"`
		}
		if json.Unmarshal(sc.Bytes(), &line) != nil || len(line.Event) == 0 || line.Event[0] != '{' {
			return nil, false
		}
		out = append(out, line.Event)
	}
	return out, len(out) > 0
}
