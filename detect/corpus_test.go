package detect_test

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/iamwatch/iamwatch"
	"github.com/iamwatch/iamwatch/cloudtrail"
	"github.com/iamwatch/iamwatch/detect"
	"github.com/iamwatch/iamwatch/rules"
)

// corpus points at a folder of real CloudTrail samples written by others
// (../shared/corpus beside the project). They are never part of the
// repository, so the check runs only when asked:
//
//	go test ./detect -run Corpus -corpus ../../shared/corpus -v
var corpus = flag.String("corpus", "", "folder of real CloudTrail samples to run the catalog over (skipped when empty)")

// TestCorpus runs the whole catalog over every file of the corpus and logs
// which rules fired on what. It fails only when a record the decoder
// accepts makes the engine fail.
func TestCorpus(t *testing.T) {
	if *corpus == "" {
		t.Skip("no -corpus folder given")
	}
	if _, err := os.Stat(*corpus); err != nil {
		t.Skipf("corpus: %v", err)
	}
	all, err := rules.Load()
	if err != nil {
		t.Fatal(err)
	}
	eng, err := detect.New(all, detect.Config{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	fired := map[string]map[string]int{} // rule → file → alerts
	events, alerts := 0, map[string]bool{}
	st := detect.NewMemoryState()
	err = filepath.WalkDir(*corpus, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !(strings.HasSuffix(path, ".json") || strings.HasSuffix(path, ".jsonl")) {
			return err
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		rel, _ := filepath.Rel(*corpus, path)
		eval := func(ev *iamwatch.Event) error {
			events++
			claims, err := eng.Evaluate(ctx, st, *ev)
			if err != nil {
				t.Errorf("%s: %v", rel, err)
			}
			for _, c := range claims {
				a := c.Alert
				if fired[a.Rule] == nil {
					fired[a.Rule] = map[string]int{}
				}
				if !alerts[a.DedupKey] {
					fired[a.Rule][rel]++
				}
				alerts[a.DedupKey] = true
			}
			return nil
		}
		if wrapped, ok := unwrapLines(t, path); ok {
			// Catalogue files: one {"event": <record>, …} per line.
			for i, raw := range wrapped {
				ev, err := cloudtrail.DecodeRecord(raw)
				if err != nil {
					t.Logf("%s:%d: %v", rel, i+1, err)
					continue
				}
				_ = eval(&ev)
			}
			return nil
		}
		if _, err = cloudtrail.Decode(ctx, f, rel, cloudtrail.Options{}, eval); err != nil {
			t.Logf("%s: %v", rel, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d events, %d distinct alerts, %+v", events, len(alerts), eng.Stats())
	var ids []string
	for _, r := range all {
		ids = append(ids, r.ID)
	}
	sort.Strings(ids)
	for _, id := range ids {
		files := fired[id]
		if len(files) == 0 {
			t.Logf("%-32s never fired", id)
			continue
		}
		var list []string
		total := 0
		for f, n := range files {
			list = append(list, f)
			total += n
		}
		sort.Strings(list)
		if len(list) > 4 {
			list = append(list[:4], "…")
		}
		t.Logf("%-32s %4d alerts: %s", id, total, strings.Join(list, ", "))
	}
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
