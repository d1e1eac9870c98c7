package dynamodb

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/iamwatch/iamwatch"
)

// series is the partition key of a (rule, group): the rule's length first,
// so no rule or group text can make two pairs collide.
func series(rule, group string) string {
	return strconv.Itoa(len(rule)) + "/" + rule + "/" + group
}

// AddHit records h once per (Rule, Group, EventID) and reports false for a
// repeat.
func (s *Store) AddHit(ctx context.Context, h iamwatch.Hit) (bool, error) {
	if h.Rule == "" || h.EventID == "" {
		return false, fmt.Errorf("dynamodb: add hit: rule and event ID are required (%q, %q)", h.Rule, h.EventID)
	}
	it := item{"series": sv(series(h.Rule, h.Group)), "event_id": sv(h.EventID), "hit_time": nv(h.Time.UnixMilli())}
	setS(it, "rule", h.Rule)
	setS(it, "group", h.Group)
	if exp := s.alertExpiry(); exp > 0 {
		setN(it, attrExpires, exp)
	}
	_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(s.t.Hits), Item: it, ConditionExpression: aws.String("attribute_not_exists(event_id)"),
	})
	if _, ok := isConditionFailed(err); ok {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("dynamodb: add hit %s/%s: %w", h.Rule, h.EventID, err)
	}
	return true, nil
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
			out = append(out, iamwatch.Hit{Rule: rule, Group: group, EventID: getS(it, "event_id"), Time: t})
		}
		if len(res.LastEvaluatedKey) == 0 {
			return out, nil
		}
		in.ExclusiveStartKey = res.LastEvaluatedKey
	}
}
