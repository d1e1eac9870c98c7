package dynamodb

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/iamwatch/iamwatch"
)

// MaxExportDays bounds the days one Days call counts: each is a COUNT
// query reading the whole day's items.
const MaxExportDays = 400

// ExportSource is the events table as an export.EventSource: a day is a
// few partitions (the bare date and its shards, see shards.go), so
// counting a day and reading it are a paged Query of each. It has no version to offer; the exporter tells changes by
// count, which is enough because events are only ever added (by ID).
// It is not an export.AlertSource: see ExportSourceWithAlerts.
type ExportSource struct{ s *Store }

// ExportSource returns the store's events as an export source.
func (s *Store) ExportSource() ExportSource { return ExportSource{s} }

// Days counts the events of every day from since to until (exclusive),
// oldest first, leaving out empty days. Since is required: the table has
// no index of its days, so they are enumerated, at most MaxExportDays.
func (x ExportSource) Days(ctx context.Context, since, until time.Time) ([]iamwatch.Day, error) {
	if since.IsZero() {
		return nil, errors.New("dynamodb: export days: a start (Since) is required")
	}
	if until.IsZero() {
		until = x.s.now()
	}
	first := since.UTC().Truncate(24 * time.Hour)
	var out []iamwatch.Day
	for d, n := first, 0; d.Before(until); d, n = d.AddDate(0, 0, 1), n+1 {
		if n == MaxExportDays {
			return nil, fmt.Errorf("dynamodb: export days: more than %d days from %s", MaxExportDays, first.Format(time.DateOnly))
		}
		date := d.Format(time.DateOnly)
		count, err := x.countDay(ctx, date)
		if err != nil {
			return nil, err
		}
		if count > 0 {
			out = append(out, iamwatch.Day{Date: date, Count: count})
		}
	}
	return out, nil
}

// DayEvents yields the events of one day, page by page, with the raw record
// only when raw is set (it is most of an item's bytes).
func (x ExportSource) DayEvents(ctx context.Context, date string, raw bool) iter.Seq2[iamwatch.Event, error] {
	return func(yield func(iamwatch.Event, error) bool) {
		var names map[string]string
		proj := ""
		if !raw {
			cols := []string{"event_id", "event_time", "category", "invoked_by", "target_role", "request_parameters", "response_elements", "error_message", "principal_arn", "user_agent", "read_only"}
			cols = append(cols, IndexedColumns()...)
			cols = append(cols, "event_name", "user_name")
			names = map[string]string{}
			for i, c := range cols {
				k := fmt.Sprintf("#c%d", i)
				names[k] = c
				cols[i] = k
			}
			proj = strings.Join(cols, ", ")
		}
		for it, err := range x.dayItems(ctx, date, proj, names) {
			if err != nil {
				yield(iamwatch.Event{}, err)
				return
			}
			ev, err := EventFromItem(it)
			if err != nil {
				yield(iamwatch.Event{}, fmt.Errorf("dynamodb: events of %s: %w", date, err))
				return
			}
			if !yield(ev, nil) {
				return
			}
		}
	}
}

// countDay counts the events of date over its partitions: a COUNT query
// each, or, on a day with events both under the bare date and in shards
// (the day sharding began), by reading their IDs, so an event stored
// under both counts once (as DayEvents yields it).
func (x ExportSource) countDay(ctx context.Context, date string) (int64, error) {
	n, err := x.s.readShards(ctx, date)
	if err != nil {
		return 0, fmt.Errorf("dynamodb: count events of %s: %w", date, err)
	}
	var total int64
	for i, p := range dayPartitions(date, n) {
		in := partitionQuery(x.s.t.Events, p)
		in.Select = types.SelectCount
		c, err := x.s.countQuery(ctx, in)
		if err != nil {
			return 0, fmt.Errorf("dynamodb: count events of %s: %w", date, err)
		}
		if i == 0 && n > 1 {
			c-- // the marker.
		}
		if i == 0 && c > 0 && n > 1 {
			total = 0
			for _, err := range x.dayItems(ctx, date, "#i", map[string]string{"#i": "event_id"}) {
				if err != nil {
					return 0, err
				}
				total++
			}
			return total, nil
		}
		total += c
	}
	return total, nil
}

// countQuery runs a COUNT query to its last page.
func (s *Store) countQuery(ctx context.Context, in *dynamodb.QueryInput) (int64, error) {
	var count int64
	for {
		res, err := s.db.Query(ctx, in)
		if err != nil {
			return 0, err
		}
		count += int64(res.Count)
		if len(res.LastEvaluatedKey) == 0 {
			return count, nil
		}
		in.ExclusiveStartKey = res.LastEvaluatedKey
	}
}

// dayItems yields the event items of date, page by page, from the bare
// date's partition and then each shard, projecting proj (with names; it
// must include event_id) when not "". The day's marker is left out, and so is an event of a shard that
// the bare date's partition holds too (see shards.go: only the day
// sharding began has both, and only it keeps their IDs).
func (x ExportSource) dayItems(ctx context.Context, date, proj string, names map[string]string) iter.Seq2[item, error] {
	return func(yield func(item, error) bool) {
		n, err := x.s.readShards(ctx, date)
		if err != nil {
			yield(nil, fmt.Errorf("dynamodb: events of %s: %w", date, err))
			return
		}
		var legacy map[string]bool // IDs under the bare date, on a sharded day.
		if n > 1 {
			legacy = map[string]bool{}
		}
		for i, p := range dayPartitions(date, n) {
			in := partitionQuery(x.s.t.Events, p)
			if proj != "" {
				in.ProjectionExpression = aws.String(proj)
				in.ExpressionAttributeNames = names
			}
			for {
				res, err := x.s.db.Query(ctx, in)
				if err != nil {
					yield(nil, fmt.Errorf("dynamodb: events of %s: %w", date, err))
					return
				}
				for _, it := range res.Items {
					id := getS(it, "event_id")
					switch {
					case id == shardMarkerID:
						continue
					case i == 0 && legacy != nil:
						legacy[id] = true
					case i > 0 && legacy[id]:
						continue
					}
					if !yield(it, nil) {
						return
					}
				}
				if len(res.LastEvaluatedKey) == 0 {
					break
				}
				in.ExclusiveStartKey = res.LastEvaluatedKey
			}
		}
	}
}

// ExportAlertsSource is ExportSource with the alert history: an
// export.AlertSource, so export.Run writes the alerts too. Its Alerts
// scans the alerts table (small: alerts expire), which the caller's role
// must allow (dynamodb:Scan on the alerts table); ExportSource alone
// touches the events table only.
type ExportAlertsSource struct{ ExportSource }

// ExportSourceWithAlerts returns the store's events and alerts as an
// export source.
func (s *Store) ExportSourceWithAlerts() ExportAlertsSource {
	return ExportAlertsSource{ExportSource{s}}
}

// Alerts implements export.AlertSource: the store's alerts.
func (x ExportAlertsSource) Alerts(ctx context.Context, f iamwatch.AlertFilter) ([]iamwatch.Alert, error) {
	return x.s.Alerts(ctx, f)
}

// partitionQuery reads one partition of the events table. The bare date's
// partition also holds the day's shard marker (a filter may not name a key
// attribute): callers leave it out.
func partitionQuery(table, key string) *dynamodb.QueryInput {
	return &dynamodb.QueryInput{
		TableName:                 aws.String(table),
		KeyConditionExpression:    aws.String("event_date = :d"),
		ExpressionAttributeValues: item{":d": sv(key)},
	}
}
