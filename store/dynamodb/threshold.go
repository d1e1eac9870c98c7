package dynamodb

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"golang.org/x/sync/errgroup"

	"github.com/iamwatch/iamwatch"
)

// series is the partition key of a (rule, group): the rule's length first,
// so no rule or group text can make two pairs collide.
func series(rule, group string) string {
	return strconv.Itoa(len(rule)) + "/" + rule + "/" + group
}

// putHits records hits with conditional PutItems (attribute_not_exists),
// up to the store's concurrency at a time, and returns the (rule, event ID)
// pairs it wrote first: the resolver's cheap path needs to know which hits
// are new, and BatchWriteItem cannot say (nor be conditional). A hit costs
// one write unit either way.
func (s *Store) putHits(ctx context.Context, hits []iamwatch.Hit) (map[[2]string]bool, error) {
	exp := s.alertExpiry()
	seen := make(map[[2]string]bool, len(hits))
	var (
		mu    sync.Mutex
		added = make(map[[2]string]bool, len(hits))
	)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(s.limit)
	for _, h := range hits {
		if h.Rule == "" || h.EventID == "" {
			return nil, fmt.Errorf("dynamodb: add hit: rule and event ID are required (%q, %q)", h.Rule, h.EventID)
		}
		k := [2]string{h.Rule, h.EventID}
		if seen[k] {
			continue
		}
		seen[k] = true
		it := item{"series": sv(series(h.Rule, h.Group)), "event_id": sv(h.EventID), "hit_time": nv(h.Time.UnixMilli())}
		setS(it, "rule", h.Rule)
		setS(it, "group", h.Group)
		setS(it, "hit_value", h.Value) // a distinct threshold's values; absent when ""
		if exp > 0 {
			setN(it, attrExpires, exp)
		}
		g.Go(func() error {
			_, err := s.db.PutItem(gctx, &dynamodb.PutItemInput{
				TableName: aws.String(s.t.Hits), Item: it, ConditionExpression: aws.String("attribute_not_exists(event_id)"),
			})
			if _, ok := isConditionFailed(err); ok {
				return nil
			}
			if err != nil {
				return fmt.Errorf("dynamodb: add hit %s/%s: %w", h.Rule, h.EventID, err)
			}
			mu.Lock()
			added[k] = true
			mu.Unlock()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return added, nil
}

// Hits returns the hits of (rule, group) with from <= Time <= to, oldest
// first, from the by_time index with a consistent read.
func (s *Store) Hits(ctx context.Context, rule, group string, from, to time.Time) ([]iamwatch.Hit, error) {
	// Times are kept in milliseconds: round the bounds inwards.
	lo := from.UnixMilli()
	if time.UnixMilli(lo).Before(from) {
		lo++
	}
	hi := to.UnixMilli()
	in := &dynamodb.QueryInput{
		TableName:              aws.String(s.t.Hits),
		IndexName:              aws.String(indexByTime),
		ConsistentRead:         aws.Bool(true),
		KeyConditionExpression: aws.String("series = :s AND hit_time BETWEEN :lo AND :hi"),
		ExpressionAttributeValues: item{
			":s": sv(series(rule, group)), ":lo": nv(lo), ":hi": nv(hi),
		},
	}
	if lo > hi {
		return nil, nil
	}
	var out []iamwatch.Hit
	for {
		res, err := s.db.Query(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("dynamodb: hits of %s/%s: %w", rule, group, err)
		}
		for _, it := range res.Items {
			t, err := getMillis(it, "hit_time")
			if err != nil {
				return nil, fmt.Errorf("dynamodb: hits of %s/%s: %w", rule, group, err)
			}
			out = append(out, iamwatch.Hit{Rule: rule, Group: group, EventID: getS(it, "event_id"), Time: t, Value: getS(it, "hit_value")})
		}
		if len(res.LastEvaluatedKey) == 0 {
			slices.SortStableFunc(out, func(a, b iamwatch.Hit) int { // equal times: by event ID
				return cmp.Or(a.Time.Compare(b.Time), cmp.Compare(a.EventID, b.EventID))
			})
			return out, nil
		}
		in.ExclusiveStartKey = res.LastEvaluatedKey
	}
}
