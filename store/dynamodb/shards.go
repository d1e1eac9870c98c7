package dynamodb

import (
	"context"
	"fmt"
	"hash/fnv"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// Sharding of the events table's partition key.
//
// A DynamoDB partition key takes at most 1,000 write units a second. With
// every event of a day under one key (event_date), that is about 500 new
// events a second (2 WRU an item) until DynamoDB splits the partition. So
// a day's events are spread over N keys, "YYYY-MM-DD#k" with k = FNV-1a of
// the event ID mod N, and every reader of a day reads its N keys.
//
// N is fixed per day, not per process: the first writer of a day records
// its N in a marker item (event_date = the bare date, event_id =
// shardMarkerID, attribute shards), and every writer and reader of that day
// uses the marker's N. Changing Config.EventShards (raising or lowering it)
// therefore takes effect on the next day that has no marker yet, and an
// event delivered twice across the change is stored once.
//
// Migration: tables written before sharding hold each day under the bare
// date and no marker. Readers always read the bare date too, so those
// events stay readable with no rewrite. On the day of the upgrade both
// forms exist (events stored before it under the bare date, after it under
// the shards); an event delivered before and after (a trail file after its
// EventBridge event) may then be stored under both keys, and the readers
// yield it once (the day's bare-date IDs are kept while its shards are
// read; only that day pays for it).
const (
	// DefaultEventShards is the partition keys a day's events are spread
	// over: 8 keys take 8,000 WRU a second, about 4,000 new events a
	// second, twice what a new on-demand table serves before it scales
	// (4,000 WRU a second), so the table, not one key, is the first limit;
	// a reader of a day makes 9 queries instead of 1. See deploy/README.md.
	DefaultEventShards = 8
	// MaxEventShards bounds Config.EventShards.
	MaxEventShards = 64
	// shardMarkerID is the event_id of a day's marker item; CloudTrail
	// event IDs are UUIDs and never start with '#'.
	shardMarkerID = "#shards"
	attrShards    = "shards"
)

// shardOf returns the shard of an event ID among n.
func shardOf(id string, n int) int {
	h := fnv.New32a()
	_, _ = h.Write([]byte(id))
	return int(h.Sum32() % uint32(n))
}

// partitionKey is the event_date value of shard k of date among n shards;
// with n = 1 the bare date (the unsharded form).
func partitionKey(date string, k, n int) string {
	if n <= 1 {
		return date
	}
	return date + "#" + strconv.Itoa(k)
}

// dayPartitions returns the event_date values holding the events of a day
// whose marker says n: the bare date always (events of before sharding, and
// the marker), then each shard.
func dayPartitions(date string, n int) []string {
	out := []string{date}
	if n > 1 {
		for k := range n {
			out = append(out, partitionKey(date, k, n))
		}
	}
	return out
}

// shardCache remembers each day's shard count once known. Safe for
// concurrent use.
type shardCache struct {
	mu sync.Mutex
	m  map[string]int
}

func (c *shardCache) get(date string) (int, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n, ok := c.m[date]
	return n, ok
}

func (c *shardCache) put(date string, n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) > 64 { // a few days are written at a time.
		c.m = map[string]int{}
	}
	c.m[date] = n
}

// markerShards reads the marker of date with a consistent Query (the
// exporter's role may only Query the events table): its shard count, or 0
// when the day has none.
func (s *Store) markerShards(ctx context.Context, date string) (int, error) {
	res, err := s.db.Query(ctx, &dynamodb.QueryInput{
		TableName:                 aws.String(s.t.Events),
		KeyConditionExpression:    aws.String("event_date = :d AND event_id = :m"),
		ExpressionAttributeValues: item{":d": sv(date), ":m": sv(shardMarkerID)},
		ConsistentRead:            aws.Bool(true),
	})
	if err != nil {
		return 0, fmt.Errorf("shards of %s: %w", date, err)
	}
	if len(res.Items) == 0 {
		return 0, nil
	}
	n, err := getN(res.Items[0], attrShards)
	if err != nil {
		return 0, fmt.Errorf("shards of %s: marker: %w", date, err)
	}
	if n < 1 || n > MaxEventShards {
		return 0, fmt.Errorf("shards of %s: marker holds %d, want 1 to %d", date, n, MaxEventShards)
	}
	return int(n), nil
}

// readShards returns the shard count readers use for date: the marker's, or
// 1 when the day has none (unsharded, or not written yet). Only a marker is
// cached: a day without one may get one later.
func (s *Store) readShards(ctx context.Context, date string) (int, error) {
	if n, ok := s.shardsOf.get(date); ok {
		return n, nil
	}
	n, err := s.markerShards(ctx, date)
	if err != nil {
		return 0, err
	}
	if n == 0 {
		return 1, nil
	}
	s.shardsOf.put(date, n)
	return n, nil
}

// writeShards returns the shard count new events of date are written with:
// the day's marker, or, for the first writer of a sharded day, the
// configured count, recorded in a new marker (conditional put: of two first
// writers, the one that loses reads the winner's). With one shard
// configured and no marker, events go under the bare date and no marker is
// written (the unsharded layout).
func (s *Store) writeShards(ctx context.Context, date string) (int, error) {
	if n, ok := s.shardsOf.get(date); ok {
		return n, nil
	}
	n, err := s.markerShards(ctx, date)
	if err != nil {
		return 0, err
	}
	if n == 0 && s.shards > 1 {
		marker := item{"event_date": sv(date), "event_id": sv(shardMarkerID)}
		setN(marker, attrShards, int64(s.shards))
		if s.evTTL > 0 {
			// The marker outlives every event of its day (their expiry is
			// event time + EventTTL).
			if day, err := time.Parse(time.DateOnly, date); err == nil {
				setN(marker, attrExpires, day.Add(24*time.Hour).Add(s.evTTL).Unix())
			}
		}
		_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{
			TableName: aws.String(s.t.Events), Item: marker, ConditionExpression: aws.String("attribute_not_exists(event_id)"),
		})
		switch _, lost := isConditionFailed(err); {
		case lost:
			if n, err = s.markerShards(ctx, date); err != nil {
				return 0, err
			}
		case err != nil:
			return 0, fmt.Errorf("shards of %s: write marker: %w", date, err)
		default:
			n = s.shards
		}
	}
	if n == 0 {
		n = 1
	}
	s.shardsOf.put(date, n)
	return n, nil
}

// eventKeys returns the partition key (event_date value) of each event,
// resolving each distinct day's shard count once.
func (s *Store) eventKeys(ctx context.Context, evs []*eventRef) error {
	for _, e := range evs {
		date := e.ev.Date()
		n, err := s.writeShards(ctx, date)
		if err != nil {
			return err
		}
		e.key = partitionKey(date, shardOf(e.ev.ID, n), n)
	}
	return nil
}
