package dynamodb

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/iamwatch/iamwatch"
)

var _ iamwatch.BaselineStore = (*Store)(nil)

// Baselines live in the control table, one item per (rule, identity), key
// "baseline/" + series(rule, identity): a map "values" from "v:" + value to
// {f: first (epoch ms), e: first event ID, l: last (epoch ms)}, and a
// "version" number. An item holds one entry per distinct value of its
// identity, so it stays small (a few KB for hundreds of values) however
// long the history. An identity with more values than fit the item's
// budget (baselineItemBudget: a key used from thousands of networks, where
// one item would pass DynamoDB's 400 KB limit and every later merge would
// fail) gets "overflow" set, and its new values go to baselineOverflow
// more items of the same format, key + "/overflow/NN" by a hash of the
// value. Writers merge optimistically: read, merge, put on the version
// read, retry on a conflict; the overflow flag is written before any
// overflow item. Baselines are not pruned and have no TTL: they are the
// history a first-seen rule compares with.
const baselinePrefix = "baseline/"

// maxBaselineRetries bounds the optimistic merge under contention; after
// a conflict a writer waits a random time up to baselineBackoff << attempt,
// at most baselineMaxWait (full jitter), so that writers that collided do
// not collide again at once: without it 8 writers on one identity gave up.
const (
	maxBaselineRetries = 12
	baselineBackoff    = 20 * time.Millisecond
	baselineMaxWait    = 2 * time.Second
)

// baselineItemBudget bounds the estimated size of the main baseline item,
// well under DynamoDB's 400 KB item limit; baselineOverflow items then
// hold the rest, ~4,000 values each (all of the Internet's ~80,000 ASNs
// fit).
const (
	baselineItemBudget = 256 << 10
	baselineOverflow   = 32
)

func baselineKey(rule, identity string) string { return baselinePrefix + series(rule, identity) }

// overflowKey is the key of the overflow item of (rule, identity) that
// holds value.
func overflowKey(rule, identity, value string) string {
	h := fnv.New32a()
	h.Write([]byte(value))
	return fmt.Sprintf("%s/overflow/%02d", baselineKey(rule, identity), h.Sum32()%baselineOverflow)
}

// entrySize estimates the bytes e takes in an item.
func entrySize(e iamwatch.BaselineEntry) int { return len(e.Value) + len(e.FirstEvent) + 32 }

// baselineItem is one stored baseline item.
type baselineItem struct {
	entries  map[string]iamwatch.BaselineEntry
	version  int64
	overflow bool
	size     int
}

// Baseline returns the entries of (rule, identity), with a consistent read.
func (s *Store) Baseline(ctx context.Context, rule, identity string) ([]iamwatch.BaselineEntry, error) {
	main, err := s.readBaselineItem(ctx, baselineKey(rule, identity), rule, identity)
	if err != nil {
		return nil, err
	}
	all := main.entries
	if main.overflow {
		keys := make([]item, baselineOverflow)
		for i := range keys {
			keys[i] = item{"key": sv(fmt.Sprintf("%s/overflow/%02d", baselineKey(rule, identity), i))}
		}
		its, err := s.batchGet(ctx, s.t.Control, keys, "")
		if err != nil {
			return nil, fmt.Errorf("dynamodb: baseline %s/%s: %w", rule, identity, err)
		}
		for _, it := range its {
			b, err := baselineItemFrom(it, rule, identity)
			if err != nil {
				return nil, err
			}
			for v, e := range b.entries {
				if old, ok := all[v]; ok { // only if two writers raced on a new value
					e = mergedEntry(old, e)
				}
				all[v] = e
			}
		}
	}
	out := make([]iamwatch.BaselineEntry, 0, len(all))
	for _, e := range all {
		out = append(out, e)
	}
	return out, nil
}

// mergedEntry is old with add merged in: the earlier first, the later last.
func mergedEntry(old, add iamwatch.BaselineEntry) iamwatch.BaselineEntry {
	if old.Earlier(add.First, add.FirstEvent) {
		old.First, old.FirstEvent = add.First, add.FirstEvent
	}
	if add.Last.After(old.Last) {
		old.Last = add.Last
	}
	return old
}

func (s *Store) readBaselineItem(ctx context.Context, key, rule, identity string) (baselineItem, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.t.Control), Key: item{"key": sv(key)}, ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return baselineItem{}, fmt.Errorf("dynamodb: baseline %s/%s: %w", rule, identity, err)
	}
	if out.Item == nil {
		return baselineItem{entries: map[string]iamwatch.BaselineEntry{}}, nil
	}
	return baselineItemFrom(out.Item, rule, identity)
}

func baselineItemFrom(it item, rule, identity string) (baselineItem, error) {
	b := baselineItem{entries: map[string]iamwatch.BaselineEntry{}}
	var err error
	if b.version, err = getN(it, "version"); err != nil {
		return b, fmt.Errorf("dynamodb: baseline %s/%s: %w", rule, identity, err)
	}
	if f, ok := it["overflow"].(*types.AttributeValueMemberBOOL); ok {
		b.overflow = f.Value
	}
	values, _ := it["values"].(*types.AttributeValueMemberM)
	if values == nil {
		return b, nil
	}
	for k, v := range values.Value {
		m, ok := v.(*types.AttributeValueMemberM)
		if !ok || !strings.HasPrefix(k, "v:") {
			return b, fmt.Errorf("dynamodb: baseline %s/%s: entry %q is not a map", rule, identity, k)
		}
		e := iamwatch.BaselineEntry{Rule: rule, Identity: identity, Value: k[2:], FirstEvent: getS(m.Value, "e")}
		if e.First, err = getMillis(m.Value, "f"); err == nil {
			e.Last, err = getMillis(m.Value, "l")
		}
		if err != nil {
			return b, fmt.Errorf("dynamodb: baseline %s/%s: entry %q: %w", rule, identity, k, err)
		}
		b.entries[e.Value] = e
		b.size += entrySize(e)
	}
	return b, nil
}

// MergeBaseline merges entries, one item per (rule, identity) (see the
// format above).
func (s *Store) MergeBaseline(ctx context.Context, entries []iamwatch.BaselineEntry) error {
	byItem := map[[2]string][]iamwatch.BaselineEntry{}
	var order [][2]string
	for _, e := range entries {
		if e.Rule == "" || e.FirstEvent == "" {
			return fmt.Errorf("dynamodb: merge baseline: rule and first event are required (%q, %q)", e.Rule, e.FirstEvent)
		}
		e.First, e.Last = e.First.Truncate(time.Millisecond), e.Last.Truncate(time.Millisecond)
		if e.Last.Before(e.First) {
			e.Last = e.First
		}
		k := [2]string{e.Rule, e.Identity}
		if _, ok := byItem[k]; !ok {
			order = append(order, k)
		}
		byItem[k] = append(byItem[k], e)
	}
	for _, k := range order {
		spill, err := s.mergeBaselineItem(ctx, baselineKey(k[0], k[1]), k[0], k[1], byItem[k], true)
		if err != nil {
			return err
		}
		byShard := map[string][]iamwatch.BaselineEntry{}
		var shards []string
		for _, e := range spill {
			sk := overflowKey(k[0], k[1], e.Value)
			if _, ok := byShard[sk]; !ok {
				shards = append(shards, sk)
			}
			byShard[sk] = append(byShard[sk], e)
		}
		for _, sk := range shards {
			if _, err := s.mergeBaselineItem(ctx, sk, k[0], k[1], byShard[sk], false); err != nil {
				return err
			}
		}
	}
	return nil
}

// mergeBaselineItem merges add into the item at key. For the main item
// (main set), the new values that would take it past baselineItemBudget,
// or every new value once it overflows, are not merged but returned, for
// the overflow items, and the item is marked overflowing first.
func (s *Store) mergeBaselineItem(ctx context.Context, key, rule, identity string, add []iamwatch.BaselineEntry, main bool) (spill []iamwatch.BaselineEntry, err error) {
	for attempt := range maxBaselineRetries {
		if attempt > 0 {
			if err := s.sleep(ctx, rand.N(min(baselineBackoff<<attempt, baselineMaxWait))); err != nil {
				return nil, err
			}
		}
		stored, err := s.readBaselineItem(ctx, key, rule, identity)
		if err != nil {
			return nil, err
		}
		merged, size := stored.entries, stored.size
		changed := false
		spill = spill[:0]
		for _, e := range add {
			old, ok := merged[e.Value]
			switch {
			case !ok && main && (stored.overflow || size+entrySize(e) > baselineItemBudget):
				spill = append(spill, e)
			case !ok:
				merged[e.Value], changed = e, true
				size += entrySize(e)
			default:
				if m := mergedEntry(old, e); m != old {
					merged[e.Value], changed = m, true
				}
			}
		}
		overflow := stored.overflow || len(spill) > 0
		if !changed && overflow == stored.overflow {
			return spill, nil
		}
		values := make(item, len(merged))
		for v, e := range merged {
			m := item{"e": sv(e.FirstEvent)}
			setN(m, "f", e.First.UnixMilli())
			setN(m, "l", e.Last.UnixMilli())
			values["v:"+v] = &types.AttributeValueMemberM{Value: m}
		}
		it := item{"key": sv(key), "rule": sv(rule), "values": &types.AttributeValueMemberM{Value: values}}
		setS(it, "identity", identity)
		setN(it, "version", stored.version+1)
		if overflow {
			it["overflow"] = &types.AttributeValueMemberBOOL{Value: true}
		}
		in := &dynamodb.PutItemInput{TableName: aws.String(s.t.Control), Item: it}
		if stored.version == 0 {
			in.ConditionExpression = aws.String("attribute_not_exists(#k)")
			in.ExpressionAttributeNames = map[string]string{"#k": "key"}
		} else {
			in.ConditionExpression = aws.String("#ver = :ver")
			in.ExpressionAttributeNames = map[string]string{"#ver": "version"}
			in.ExpressionAttributeValues = item{":ver": nv(stored.version)}
		}
		_, err = s.db.PutItem(ctx, in)
		if _, ok := isConditionFailed(err); ok {
			continue // another writer merged first: merge onto theirs
		}
		if err != nil {
			return nil, fmt.Errorf("dynamodb: merge baseline %s/%s: %w", rule, identity, err)
		}
		return spill, nil
	}
	return nil, fmt.Errorf("dynamodb: merge baseline %s/%s: %w", rule, identity, errBaselineContended)
}

var errBaselineContended = errors.New("still contended after retries")

func (v view) Baseline(ctx context.Context, rule, identity string) ([]iamwatch.BaselineEntry, error) {
	return v.s.Baseline(ctx, rule, identity)
}

func (v view) MergeBaseline(ctx context.Context, entries []iamwatch.BaselineEntry) error {
	return v.s.MergeBaseline(ctx, entries)
}
