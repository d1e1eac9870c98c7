package dynamodb

import (
	"context"
	"fmt"
	"time"
)

// Prune deletes events with Time < eventsBefore (when not zero) and alerts
// with Time < alertsBefore (when not zero) with their deliveries and the
// threshold hits older than alertsBefore. It scans and deletes with
// BatchWriteItem; it is not atomic (DynamoDB has no multi-item
// transactions here), but running it again finishes an interrupted prune.
// Deployments rely on TTL instead and call Prune rarely, if ever. The
// events count is of items: an event the day sharding began stored under
// both layouts counts twice (see shards.go). Days' shard markers stay (one
// small item a day; TTL removes them after their day's events).
func (s *Store) Prune(ctx context.Context, eventsBefore, alertsBefore time.Time) (events, alerts int, err error) {
	if !eventsBefore.IsZero() {
		keys, err := s.scanAll(ctx, s.t.Events, "event_time < :t", "event_date, event_id", nil,
			item{":t": sv(eventTimeCeil(eventsBefore))})
		if err != nil {
			return 0, 0, fmt.Errorf("dynamodb: prune events: %w", err)
		}
		if err := s.deleteKeys(ctx, s.t.Events, keys); err != nil {
			return 0, 0, fmt.Errorf("dynamodb: prune events: %w", err)
		}
		events = len(keys)
	}
	if alertsBefore.IsZero() {
		return events, 0, nil
	}
	// Deliveries first: an interrupted prune leaves alerts with fewer
	// deliveries, never deliveries of a missing alert.
	keys, err := s.scanAll(ctx, s.t.Alerts, "#t < :t", "dedup_key", map[string]string{"#t": "time"},
		item{":t": sv(eventTimeCeil(alertsBefore))})
	if err != nil {
		return events, 0, fmt.Errorf("dynamodb: prune alerts: %w", err)
	}
	var dkeys []item
	for _, k := range keys {
		ds, err := s.queryAll(ctx, deliveriesOf(s.t.Deliveries, getS(k, "dedup_key"), true))
		if err != nil {
			return events, 0, fmt.Errorf("dynamodb: prune deliveries: %w", err)
		}
		dkeys = append(dkeys, ds...)
	}
	if err := s.deleteKeys(ctx, s.t.Deliveries, dkeys); err != nil {
		return events, 0, fmt.Errorf("dynamodb: prune deliveries: %w", err)
	}
	if err := s.deleteKeys(ctx, s.t.Alerts, keys); err != nil {
		return events, 0, fmt.Errorf("dynamodb: prune alerts: %w", err)
	}
	hits, err := s.scanAll(ctx, s.t.Hits, "hit_time < :t", "series, event_id", nil,
		item{":t": nv(alertsBefore.UnixMilli())})
	if err != nil {
		return events, len(keys), fmt.Errorf("dynamodb: prune threshold hits: %w", err)
	}
	if err := s.deleteKeys(ctx, s.t.Hits, hits); err != nil {
		return events, len(keys), fmt.Errorf("dynamodb: prune threshold hits: %w", err)
	}
	return events, len(keys), nil
}
