package pipeline_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/iamwatch/iamwatch"
	"github.com/iamwatch/iamwatch/cloudtrail"
	"github.com/iamwatch/iamwatch/internal/ordertest"
	"github.com/iamwatch/iamwatch/pipeline"
	"github.com/iamwatch/iamwatch/store/sqlite"
)

// instanceCalls are, from seed, two days of SSM-agent calls by three
// instances from their own addresses, every few minutes, and now and then
// one from another address: the light first-seen and repeat-ignoring rules
// about instance credentials keep only the first and last call of a slot,
// and the first of each value.
func instanceCalls(t *testing.T, seed uint64) []iamwatch.Event {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 43))
	var evs []iamwatch.Event
	for i := range 900 {
		inst := r.IntN(3)
		ip := fmt.Sprintf("203.0.113.%d", 10+inst)
		if r.IntN(40) == 0 {
			ip = fmt.Sprintf("198.51.100.%d", 1+r.IntN(3))
		}
		name := []string{"UpdateInstanceInformation", "ListInstanceAssociations"}[r.IntN(2)]
		at := t0.Add(time.Duration(r.IntN(2*86400)) * time.Second)
		ev, err := cloudtrail.DecodeRecord(fmt.Appendf(nil, `{"eventVersion":"1.09","userIdentity":{"type":"AssumedRole","principalId":"AROAEXAMPLEROLE:i-0abc%d",
		"arn":"arn:aws:sts::111122223333:assumed-role/app-role/i-0abc%d","accountId":"111122223333","accessKeyId":"ASIAEXAMPLE%d",
		"sessionContext":{"sessionIssuer":{"type":"Role","principalId":"AROAEXAMPLEROLE","arn":"arn:aws:iam::111122223333:role/app-role","accountId":"111122223333","userName":"app-role"},
		"attributes":{"creationDate":"2026-03-02T09:00:00Z","mfaAuthenticated":"false"},"ec2RoleDelivery":"2.0"}},"eventTime":%q,
		"eventSource":"ssm.amazonaws.com","eventName":%q,"awsRegion":"eu-west-1","sourceIPAddress":%q,"userAgent":"amazon-ssm-agent/3.3",
		"requestParameters":null,"responseElements":null,"eventID":"i-%04d","readOnly":false,"eventType":"AwsApiCall","recipientAccountId":"111122223333"}`,
			inst, inst, inst, at.Format(time.RFC3339), name, ip, i))
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, ev)
	}
	return evs
}

// TestReadStoresTheSameWhateverTheOrder: a trail read in file order, in
// reverse, shuffled, by one reader or two, in batches large or small,
// leaves the same events, threshold hits and alerts, and its report counts
// the same events stored: an event stored only as a light rule's hit or a
// first value that a later batch superseded does not stay
// (detect.Batch.Weak), and its repeats count as not kept.
func TestReadStoresTheSameWhateverTheOrder(t *testing.T) {
	eng := ordertest.Catalog(t)
	evs := append(activity(t, 2), instanceCalls(t, 2)...)
	slices.SortStableFunc(evs, func(x, y iamwatch.Event) int { return x.Time.Compare(y.Time) })
	// Files of 1 to 40 records, in time order, as a trail lists them; a
	// fifth of the records delivered again a few files later.
	dir := t.TempDir()
	r := rand.New(rand.NewPCG(3, 4))
	var again [][]byte
	for i, start := 0, 0; start < len(evs); i++ {
		end := min(len(evs), start+1+r.IntN(40))
		var recs [][]byte
		for _, ev := range evs[start:end] {
			recs = append(recs, ev.Raw)
			if r.IntN(5) == 0 {
				again = append(again, ev.Raw)
			}
		}
		if i%3 == 2 {
			recs, again = append(recs, again...), nil
		}
		writeFile(t, dir, fmt.Sprintf("f%04d.json", i), `{"Records":[`+string(bytes.Join(recs, []byte(",")))+"]}")
		start = end
	}
	inputs, err := pipeline.Expand([]string{dir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	read := func(in []pipeline.Input, opt pipeline.ReadOptions) (pipeline.Report, string, *sqlite.Store) {
		t.Helper()
		st := openStore(t)
		rep, alerts := readStanding(t, eng, st, in, opt, nil)
		return rep, alerts, st
	}
	first, want, ref := read(inputs, pipeline.ReadOptions{Workers: 1, BatchSize: 10000})
	for _, rule := range []string{"instance-credentials-new-network", "region-first-activity"} {
		if !strings.Contains(want, "Rule:"+rule) {
			t.Fatalf("no %s alert: the events do not exercise the light rules:\n%s", rule, want)
		}
	}
	check := func(name string, in []pipeline.Input, inOrder bool, opt pipeline.ReadOptions) {
		t.Helper()
		rep, got, st := read(in, opt)
		if got != want {
			t.Errorf("%s, batches of %d, %d readers: alerts differ, first at %s", name, opt.BatchSize, opt.Workers, ordertest.FirstDifference(got, want))
		}
		if d := stateDiff(t, st, ref, nil); d != "" {
			t.Errorf("%s, batches of %d, %d readers: stored %d events, want %d; the state differs, first at %s",
				name, opt.BatchSize, opt.Workers, rep.Stored, first.Stored, d)
		}
		// What the summary says (files in order: out of order, an alert
		// raised and withdrawn keeps its event). How the records not
		// stored split between duplicates and not kept may vary: a repeat
		// of an event only light first-seen rules observe is dropped by a
		// reader unless it is its reader batch's first, counted as not
		// kept, else as a duplicate.
		if inOrder && rep.Stored != first.Stored {
			t.Errorf("%s, batches of %d, %d readers: %d stored, want %d", name, opt.BatchSize, opt.Workers, rep.Stored, first.Stored)
		}
	}
	rev := slices.Clone(inputs)
	slices.Reverse(rev)
	check("in order", inputs, true, pipeline.ReadOptions{Workers: 2, BatchSize: 50})
	check("in order", inputs, true, pipeline.ReadOptions{Workers: 2, BatchSize: 9})
	check("reversed", rev, false, pipeline.ReadOptions{Workers: 1, BatchSize: 7})
	check("reversed", rev, false, pipeline.ReadOptions{Workers: 2, BatchSize: 300})
	for i := range 3 {
		shuffled := slices.Clone(inputs)
		r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		check(fmt.Sprintf("shuffled %d", i), shuffled, false, pipeline.ReadOptions{Workers: 1 + i%2, BatchSize: 1 + r.IntN(100)})
	}
}

// TestProcessRemovesSuperseded: a live source's small batches, in time
// order, leave the events and hits of one batch once Process has removed
// what later batches superseded (RemoveSuperseded at the end, as a source
// stopping calls it); without the removal they leave more.
func TestProcessRemovesSuperseded(t *testing.T) {
	ctx := t.Context()
	eng := ordertest.Catalog(t)
	evs := append(activity(t, 3), instanceCalls(t, 3)...)
	slices.SortStableFunc(evs, func(x, y iamwatch.Event) int { return x.Time.Compare(y.Time) })
	run := func(size int, remove bool) (*sqlite.Store, pipeline.Result) {
		st := openStore(t)
		p, err := pipeline.New(st, pipeline.Options{Detector: eng, Filter: pipeline.Filter{Keep: pipeline.KeepIdentity, DropServiceEvents: true}})
		if err != nil {
			t.Fatal(err)
		}
		var sum pipeline.Result
		for b := range slices.Chunk(evs, size) {
			res, err := p.Process(ctx, slices.Clone(b))
			if err != nil {
				t.Fatal(err)
			}
			sum.Add(res)
		}
		if remove {
			n, err := p.RemoveSuperseded(ctx)
			if err != nil {
				t.Fatal(err)
			}
			sum.Removed += n
		}
		return st, sum
	}
	ref, one := run(len(evs), true)
	if one.Removed != 0 {
		t.Errorf("one batch removed %d events", one.Removed)
	}
	small, res := run(3, true)
	if d := stateDiff(t, small, ref, nil); d != "" {
		t.Errorf("batches of 3: the state differs from one batch's, first at %s", d)
	}
	if res.Removed == 0 || res.Stored-res.Removed != one.Stored {
		t.Errorf("batches of 3: stored %d, removed %d; one batch stored %d", res.Stored, res.Removed, one.Stored)
	}
	kept, _ := run(3, false)
	if d := stateDiff(t, kept, ref, nil); d == "" {
		t.Error("without the last removal, batches of 3 leave what one batch leaves: nothing tested")
	}
}
