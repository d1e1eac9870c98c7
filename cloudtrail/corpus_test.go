package cloudtrail

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/iamwatch/iamwatch"
)

var corpusDir = flag.String("corpus", "",
	"folder of public CloudTrail samples outside the repository (e.g. ../../shared/corpus) for TestCorpus")

// TestCorpus decodes every .json and .jsonl file of the shared sample corpus
// (real CloudTrail nobody on the team wrote) and checks that no valid record
// is rejected and that every actor gets a name. It runs only when asked
// (-corpus DIR, as `make corpus-check` does: the corpus must stay out of
// `make test`) and is skipped when DIR is absent (a fresh clone):
//
//	go test ./cloudtrail -run TestCorpus -v -corpus ../../shared/corpus
//
// Corpus files that wrap each record as {"file":…,"event":{…}} (the
// collections of documentation examples) are unwrapped first: that wrapper
// is the collector's, not an AWS shape.
func TestCorpus(t *testing.T) {
	if *corpusDir == "" {
		t.Skip("no -corpus folder given")
	}
	if _, err := os.Stat(*corpusDir); err != nil {
		t.Skipf("no corpus at %s", *corpusDir)
	}
	var files []string
	err := filepath.WalkDir(*corpusDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && (strings.HasSuffix(path, ".json") || strings.HasSuffix(path, ".jsonl")) {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Skip("corpus has no JSON files")
	}
	var (
		total          Stats
		formats        = map[Format]int{}
		byType         = map[string]int{}
		unknownActor   = map[string]int{}
		shortExamples  = map[string]string{}
		rejectedValid  int
		rejectedReason = map[string]int{}
		byDataset      = map[string]*datasetStats{}
	)
	for _, path := range files {
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(*corpusDir, path)
		in := unwrapCollector(raw)
		var recErrs []*RecordError
		st, err := Decode(context.Background(), bytes.NewReader(in), rel, Options{
			OnError: func(e *RecordError) { recErrs = append(recErrs, e) },
		}, func(ev *iamwatch.Event) error {
			byType[ev.IdentityType]++
			if ev.UserName == "" {
				t.Errorf("%s: event %s: empty user name", rel, ev.ID)
			}
			if ev.UserName == "unknown" {
				unknownActor[ev.IdentityType]++
			}
			if _, ok := shortExamples[ev.IdentityType]; !ok {
				shortExamples[ev.IdentityType] = ev.UserName
			}
			if ev.Type.IsIdentity() && ev.Name == "ConsoleLogin" && ev.MFAUsed == "" && ev.ErrorCode == "" {
				t.Logf("%s: successful ConsoleLogin %s without MFAUsed", rel, ev.ID)
			}
			return nil
		})
		if err != nil && !errors.Is(err, ErrSkipped) {
			t.Errorf("%s: %v", rel, err)
		}
		formats[st.Format]++
		ds, _, _ := strings.Cut(filepath.ToSlash(rel), "/")
		if byDataset[ds] == nil {
			byDataset[ds] = &datasetStats{}
		}
		byDataset[ds].files++
		byDataset[ds].add(st)
		total.Records += st.Records
		total.Events += st.Events
		total.Rejected += st.Rejected
		total.Skipped += st.Skipped
		for _, e := range recErrs {
			rejectedReason[reason(e.Err)]++
			if looksValid(e, in) {
				rejectedValid++
				t.Errorf("rejected a record that looks valid: %v", e)
			} else {
				t.Logf("rejected (rightly, it seems): %v", e)
			}
		}
	}
	t.Logf("%d files; records %d, events %d, rejected %d, skipped %d", len(files), total.Records, total.Events, total.Rejected, total.Skipped)
	t.Logf("formats: %v", formats)
	t.Logf("rejection reasons: %v", rejectedReason)
	types := make([]string, 0, len(byType))
	for k := range byType {
		types = append(types, k)
	}
	sort.Strings(types)
	for _, k := range types {
		t.Logf("identity %-20q %5d events, %d without a name, e.g. %q", k, byType[k], unknownActor[k], shortExamples[k])
	}
	printDecodeTable(byDataset, total, len(files))
	if total.Events == 0 {
		t.Fatal("nothing decoded")
	}
}

type datasetStats struct {
	files int
	Stats
}

func (d *datasetStats) add(st Stats) {
	d.Records += st.Records
	d.Events += st.Events
	d.Rejected += st.Rejected
	d.Skipped += st.Skipped
}

// printDecodeTable writes records decoded and rejected per dataset (a
// top-level folder of the corpus) to standard output.
func printDecodeTable(byDataset map[string]*datasetStats, total Stats, files int) {
	known := []string{"stratus", "traildiscover", "invictus", "awsdocs", "lookupevents"}
	var names []string
	for _, k := range known {
		if byDataset[k] != nil {
			names = append(names, k)
		}
	}
	var rest []string
	for k := range byDataset {
		if !slices.Contains(known, k) {
			rest = append(rest, k)
		}
	}
	sort.Strings(rest)
	names = append(names, rest...)
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "\ncorpus decode: records per dataset (collector wrappers unwrapped)")
	fmt.Fprintf(w, "%-13s\tfiles\trecords\tdecoded\trejected\tskipped\t\n", "dataset")
	for _, n := range names {
		d := byDataset[n]
		fmt.Fprintf(w, "%-13s\t%d\t%d\t%d\t%d\t%d\t\n", n, d.files, d.Records, d.Events, d.Rejected, d.Skipped)
	}
	fmt.Fprintf(w, "%-13s\t%d\t%d\t%d\t%d\t%d\t\n", "total", files, total.Records, total.Events, total.Rejected, total.Skipped)
	w.Flush()
}

// unwrapCollector turns a JSON-lines file of {"event":{…}} wrappers into
// JSON lines of the wrapped values; anything else is returned as it is.
func unwrapCollector(raw []byte) []byte {
	var first struct {
		Event json.RawMessage `json:"event"`
	}
	line, _, _ := bytes.Cut(raw, []byte("\n"))
	if json.Unmarshal(line, &first) != nil || first.Event == nil {
		return raw
	}
	var out bytes.Buffer
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		var w struct {
			Event json.RawMessage `json:"event"`
		}
		if json.Unmarshal(sc.Bytes(), &w) != nil || w.Event == nil {
			out.Write(sc.Bytes()) // let the decoder report it
		} else {
			_ = json.Compact(&out, w.Event) // valid JSON: Unmarshal accepted it
		}
		out.WriteByte('\n')
	}
	return out.Bytes()
}

func reason(err error) string {
	for _, e := range []error{ErrInvalidJSON, ErrMissingField, ErrBadTime, ErrUnknownShape, ErrTooLarge, ErrSkipped} {
		if errors.Is(err, e) {
			return e.Error()
		}
	}
	return "other"
}

// looksValid is an independent check of a rejected record: one that
// encoding/json reads, with an eventID and an RFC 3339 eventTime, should not
// have been rejected. It can only check records whose event ID is known.
func looksValid(e *RecordError, in []byte) bool {
	if errors.Is(e.Err, ErrSkipped) || e.EventID == "" {
		return false
	}
	i := bytes.Index(in, []byte(e.EventID))
	if i < 0 {
		return false
	}
	start := bytes.LastIndexByte(in[:i], '\n') + 1
	end := bytes.IndexByte(in[i:], '\n')
	if end < 0 {
		end = len(in) - i
	}
	var r struct {
		EventID   string `json:"eventID"`
		EventTime string `json:"eventTime"`
	}
	if json.Unmarshal(in[start:i+end], &r) != nil || r.EventID == "" {
		return false
	}
	_, err := time.Parse(time.RFC3339, r.EventTime)
	return err == nil
}
