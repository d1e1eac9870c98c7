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

// ExportSource is the events table as an export.EventSource: a day is one
// partition (event_date), so counting a day and reading it are one paged
// Query each. It has no version to offer; the exporter tells changes by
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
		in := dayQuery(x.s.t.Events, date)
		in.Select = types.SelectCount
		var count int64
		for {
			res, err := x.s.db.Query(ctx, in)
			if err != nil {
				return nil, fmt.Errorf("dynamodb: count events of %s: %w", date, err)
			}
			count += int64(res.Count)
			if len(res.LastEvaluatedKey) == 0 {
				break
			}
			in.ExclusiveStartKey = res.LastEvaluatedKey
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
		in := dayQuery(x.s.t.Events, date)
		if !raw {
			cols := []string{"event_id", "event_time", "category", "invoked_by", "target_role", "request_parameters", "response_elements", "error_message", "principal_arn", "user_agent", "read_only"}
			cols = append(cols, IndexedColumns()...)
			cols = append(cols, "event_name", "user_name")
			names := map[string]string{}
			for i, c := range cols {
				k := fmt.Sprintf("#c%d", i)
				names[k] = c
				cols[i] = k
			}
			in.ProjectionExpression = aws.String(strings.Join(cols, ", "))
			in.ExpressionAttributeNames = names
		}
		for {
			res, err := x.s.db.Query(ctx, in)
			if err != nil {
				yield(iamwatch.Event{}, fmt.Errorf("dynamodb: events of %s: %w", date, err))
				return
			}
			for _, it := range res.Items {
				ev, err := EventFromItem(it)
				if err != nil {
					yield(iamwatch.Event{}, fmt.Errorf("dynamodb: events of %s: %w", date, err))
					return
				}
				if !yield(ev, nil) {
					return
				}
			}
			if len(res.LastEvaluatedKey) == 0 {
				return
			}
			in.ExclusiveStartKey = res.LastEvaluatedKey
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

func dayQuery(table, date string) *dynamodb.QueryInput {
	return &dynamodb.QueryInput{
		TableName:                 aws.String(table),
		KeyConditionExpression:    aws.String("event_date = :d"),
		ExpressionAttributeValues: item{":d": sv(date)},
	}
}
