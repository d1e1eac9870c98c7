package dynamodb_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsdynamodb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/iamwatch/iamwatch"
	"github.com/iamwatch/iamwatch/store/dynamodb"
)

// partitions returns how many items the events table holds under each
// event_date value.
func partitions(t *testing.T, client *awsdynamodb.Client, table string) map[string]int {
	t.Helper()
	out, err := client.Scan(t.Context(), &awsdynamodb.ScanInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	n := map[string]int{}
	for _, it := range out.Items {
		n[it["event_date"].(*types.AttributeValueMemberS).Value]++
	}
	return n
}

// dayIDs returns the IDs DayEvents yields for date, sorted, and fails on a
// repeat.
func dayIDs(t *testing.T, src dynamodb.ExportSource, date string) []string {
	t.Helper()
	var ids []string
	for ev, err := range src.DayEvents(t.Context(), date, false) {
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, ev.ID)
	}
	slices.Sort(ids)
	if c := slices.Compact(slices.Clone(ids)); len(c) != len(ids) {
		t.Errorf("DayEvents(%s) yielded an event twice: %v", date, ids)
	}
	return ids
}

// viewEvent reads id through the resolver's view (a GetItem by key).
func viewEvent(t *testing.T, s *dynamodb.Store, id string, at time.Time) bool {
	t.Helper()
	var found bool
	_, err := s.CommitAlerts(t.Context(), nil, func(ctx context.Context, v iamwatch.StateView) ([]iamwatch.Alert, error) {
		ev, ok, err := v.Event(ctx, id, at)
		found = ok && ev.ID == id
		return nil, err
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

// TestShardMigration: a table written unsharded (the layout before
// sharding) stays readable once the store shards, the day of the switch
// yields and counts an event stored under both layouts once, a day keeps
// the shard count its first writer chose whatever later writers are
// configured with (so changing it stores no event twice), and the events
// are spread over the day's keys.
func TestShardMigration(t *testing.T) {
	ctx := t.Context()
	client := emulator(t)
	old := openStore(t, client, dynamodb.Config{EventShards: 1})
	tables := old.Tables()
	reopen := func(shards int) *dynamodb.Store {
		s, err := dynamodb.Open(ctx, dynamodb.Config{Client: client, Tables: tables, EventShards: shards})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	evs := benchEvents("m", 40) // 2024-06-03, one a second.
	before := evs[:30]
	if n, err := old.PutEvents(ctx, before); err != nil || n != 30 {
		t.Fatalf("unsharded PutEvents = %d, %v", n, err)
	}
	if p := partitions(t, client, tables.Events); len(p) != 1 || p["2024-06-03"] != 30 {
		t.Fatalf("unsharded layout: %v, want 30 items under 2024-06-03", p)
	}

	// The upgrade: 8 shards. A trail file repeats 10 stored events and
	// brings 10 new ones, the same day.
	s := reopen(8)
	if n, err := s.PutEvents(ctx, evs[20:]); err != nil || n != 20 {
		t.Fatalf("sharded PutEvents of 10 repeats and 10 new = %d, %v; want 20 (a repeat under the bare date is not seen)", n, err)
	}
	p := partitions(t, client, tables.Events)
	if p["2024-06-03"] != 31 { // 30 events and the marker.
		t.Errorf("bare date after the upgrade holds %d items, want 31: %v", p["2024-06-03"], p)
	}
	src := s.ExportSource()
	if ids := dayIDs(t, src, "2024-06-03"); len(ids) != 40 {
		t.Errorf("the day of the switch yields %d events, want 40", len(ids))
	}
	days, err := src.Days(ctx, time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC), time.Date(2024, 6, 5, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if want := []iamwatch.Day{{Date: "2024-06-03", Count: 40}}; !slices.Equal(days, want) {
		t.Errorf("Days = %+v, want %+v", days, want)
	}
	for _, e := range []iamwatch.Event{evs[0], evs[35]} {
		if !viewEvent(t, s, e.ID, e.Time) {
			t.Errorf("view.Event(%s) not found", e.ID)
		}
	}

	// A new day is sharded from its first event; a store configured with
	// 2 shards later writes that day with its 8.
	next := benchEvents("n", 400)
	for i := range next {
		next[i].Time = next[i].Time.AddDate(0, 0, 1) // 2024-06-04.
	}
	if n, err := s.PutEvents(ctx, next[:300]); err != nil || n != 300 {
		t.Fatalf("PutEvents of a new day = %d, %v", n, err)
	}
	lowered := reopen(2)
	if n, err := lowered.PutEvents(ctx, next[200:]); err != nil || n != 100 {
		t.Errorf("PutEvents with 2 shards configured, 100 repeats and 100 new = %d, %v; want 100", n, err)
	}
	p = partitions(t, client, tables.Events)
	var keys []string
	for k, n := range p {
		if strings.HasPrefix(k, "2024-06-04") {
			keys = append(keys, fmt.Sprintf("%s:%d", k, n))
			if k != "2024-06-04" && (n < 400/8/2 || n > 400/8*2) {
				t.Errorf("shard %s holds %d of 400 events: not spread", k, n)
			}
		}
	}
	if slices.Sort(keys); len(keys) != 9 || !slices.Contains(keys, "2024-06-04:1") {
		t.Errorf("2024-06-04 partitions = %v, want the marker and 8 shards", keys)
	}
	if ids := dayIDs(t, lowered.ExportSource(), "2024-06-04"); len(ids) != 400 {
		t.Errorf("2024-06-04 yields %d events, want 400", len(ids))
	}
	if !viewEvent(t, lowered, next[399].ID, next[399].Time) || viewEvent(t, lowered, "nope", next[0].Time) {
		t.Error("view.Event on a sharded day: want the stored event found and no other")
	}
	// Prune deletes (and counts) event items, not markers: the 440 events
	// and the second copies of the 10 the switch day stored twice.
	if n, _, err := lowered.Prune(ctx, time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), time.Time{}); err != nil || n != 450 {
		t.Errorf("Prune = %d, %v; want 450 items", n, err)
	}
}
