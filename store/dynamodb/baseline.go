package dynamodb

import (
	"context"
	"errors"
	"fmt"
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
// long the history. Writers merge optimistically: read, merge, put on the
// version read, retry on a conflict. Baselines are not pruned and have no
// TTL: they are the history a first-seen rule compares with.
const baselinePrefix = "baseline/"

// maxBaselineRetries bounds the optimistic merge under contention.
const maxBaselineRetries = 8

func baselineKey(rule, identity string) string { return baselinePrefix + series(rule, identity) }

// Baseline returns the entries of (rule, identity), with a consistent read.
func (s *Store) Baseline(ctx context.Context, rule, identity string) ([]iamwatch.BaselineEntry, error) {
	entries, _, err := s.readBaseline(ctx, rule, identity)
	return entries, err
}

func (s *Store) readBaseline(ctx context.Context, rule, identity string) ([]iamwatch.BaselineEntry, int64, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.t.Control), Key: item{"key": sv(baselineKey(rule, identity))}, ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, 0, fmt.Errorf("dynamodb: baseline %s/%s: %w", rule, identity, err)
	}
	if out.Item == nil {
		return nil, 0, nil
	}
	version, err := getN(out.Item, "version")
	if err != nil {
		return nil, 0, fmt.Errorf("dynamodb: baseline %s/%s: %w", rule, identity, err)
	}
	values, _ := out.Item["values"].(*types.AttributeValueMemberM)
	if values == nil {
		return nil, version, nil
	}
	entries := make([]iamwatch.BaselineEntry, 0, len(values.Value))
	for k, v := range values.Value {
		m, ok := v.(*types.AttributeValueMemberM)
		if !ok || !strings.HasPrefix(k, "v:") {
			return nil, 0, fmt.Errorf("dynamodb: baseline %s/%s: entry %q is not a map", rule, identity, k)
		}
		e := iamwatch.BaselineEntry{Rule: rule, Identity: identity, Value: k[2:], FirstEvent: getS(m.Value, "e")}
		if e.First, err = getMillis(m.Value, "f"); err == nil {
			e.Last, err = getMillis(m.Value, "l")
		}
		if err != nil {
			return nil, 0, fmt.Errorf("dynamodb: baseline %s/%s: entry %q: %w", rule, identity, k, err)
		}
		entries = append(entries, e)
	}
	return entries, version, nil
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
		k := [2]string{e.Rule, e.Identity}
		if _, ok := byItem[k]; !ok {
			order = append(order, k)
		}
		byItem[k] = append(byItem[k], e)
	}
	for _, k := range order {
		if err := s.mergeBaselineItem(ctx, k[0], k[1], byItem[k]); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) mergeBaselineItem(ctx context.Context, rule, identity string, add []iamwatch.BaselineEntry) error {
	for range maxBaselineRetries {
		stored, version, err := s.readBaseline(ctx, rule, identity)
		if err != nil {
			return err
		}
		merged := map[string]iamwatch.BaselineEntry{}
		for _, e := range stored {
			merged[e.Value] = e
		}
		changed := false
		for _, e := range add {
			e.First, e.Last = e.First.Truncate(time.Millisecond), e.Last.Truncate(time.Millisecond)
			if e.Last.Before(e.First) {
				e.Last = e.First
			}
			old, ok := merged[e.Value]
			switch {
			case !ok:
				merged[e.Value], changed = e, true
				continue
			case old.Earlier(e.First, e.FirstEvent):
				old.First, old.FirstEvent, changed = e.First, e.FirstEvent, true
			}
			if e.Last.After(old.Last) {
				old.Last, changed = e.Last, true
			}
			merged[e.Value] = old
		}
		if !changed {
			return nil
		}
		values := make(item, len(merged))
		for v, e := range merged {
			m := item{"e": sv(e.FirstEvent)}
			setN(m, "f", e.First.UnixMilli())
			setN(m, "l", e.Last.UnixMilli())
			values["v:"+v] = &types.AttributeValueMemberM{Value: m}
		}
		it := item{"key": sv(baselineKey(rule, identity)), "rule": sv(rule), "values": &types.AttributeValueMemberM{Value: values}}
		setS(it, "identity", identity)
		setN(it, "version", version+1)
		in := &dynamodb.PutItemInput{TableName: aws.String(s.t.Control), Item: it}
		if version == 0 {
			in.ConditionExpression = aws.String("attribute_not_exists(#k)")
			in.ExpressionAttributeNames = map[string]string{"#k": "key"}
		} else {
			in.ConditionExpression = aws.String("#ver = :ver")
			in.ExpressionAttributeNames = map[string]string{"#ver": "version"}
			in.ExpressionAttributeValues = item{":ver": nv(version)}
		}
		_, err = s.db.PutItem(ctx, in)
		if _, ok := isConditionFailed(err); ok {
			continue // another writer merged first: merge onto theirs
		}
		if err != nil {
			return fmt.Errorf("dynamodb: merge baseline %s/%s: %w", rule, identity, err)
		}
		return nil
	}
	return fmt.Errorf("dynamodb: merge baseline %s/%s: %w", rule, identity, errBaselineContended)
}

var errBaselineContended = errors.New("still contended after retries")

func (v view) Baseline(ctx context.Context, rule, identity string) ([]iamwatch.BaselineEntry, error) {
	return v.s.Baseline(ctx, rule, identity)
}

func (v view) MergeBaseline(ctx context.Context, entries []iamwatch.BaselineEntry) error {
	return v.s.MergeBaseline(ctx, entries)
}
