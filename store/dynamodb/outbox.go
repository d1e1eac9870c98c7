package dynamodb

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"golang.org/x/sync/errgroup"

	"github.com/iamwatch/iamwatch"
)

// ErrNotFound is wrapped by UpdateDelivery for a delivery never enqueued.
var ErrNotFound = errors.New("not found")

// Enqueue adds a pending delivery of the alert to each sink, due at now, at
// the stored alert's severity (see iamwatch.Outbox): a conditional put, and
// for a pair already present conditional updates that raise its severity
// and, once sent or failed, make it pending again. A delivery item written
// before deliveries had a severity is never escalated.
func (s *Store) Enqueue(ctx context.Context, alertKey string, sinks []string, now time.Time) error {
	// BatchGetItem, which every role that enqueues already has for Due.
	its, err := s.batchGet(ctx, s.t.Alerts, []item{{"dedup_key": sv(alertKey)}}, "severity")
	if err != nil {
		return fmt.Errorf("dynamodb: enqueue %s: %w", alertKey, err)
	}
	if len(its) == 0 {
		// A delivery of no alert would be sent without a text, at no severity.
		return fmt.Errorf("dynamodb: enqueue %s: the alert is not stored: %w", alertKey, ErrNotFound)
	}
	sev, err := getN(its[0], "severity")
	if err != nil {
		return fmt.Errorf("dynamodb: enqueue %s: %w", alertKey, err)
	}
	exp := s.alertExpiry()
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(s.limit)
	for _, sink := range slices.Compact(slices.Sorted(slices.Values(sinks))) {
		g.Go(func() error {
			if err := s.enqueueOne(gctx, alertKey, sink, sev, now, exp); err != nil {
				return fmt.Errorf("dynamodb: enqueue %s to %s: %w", alertKey, sink, err)
			}
			return nil
		})
	}
	return g.Wait()
}

func (s *Store) enqueueOne(ctx context.Context, alertKey, sink string, sev int64, now time.Time, exp int64) error {
	it := item{"alert_key": sv(alertKey), "sink": sv(sink), "status": sv(string(iamwatch.DeliveryPending)), "attempts": nv(0), "severity": nv(sev)}
	setMillis(it, "next_try", now)
	if exp > 0 {
		setN(it, attrExpires, exp)
	}
	_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(s.t.Deliveries), Item: it,
		ConditionExpression: aws.String("attribute_not_exists(sink)"),
	})
	if _, ok := isConditionFailed(err); !ok {
		return err
	}
	// Present: raise the severity of a pending pair (it keeps its place,
	// or, held for a digest until later, is due at now), or make a settled
	// one pending again.
	key := item{"alert_key": sv(alertKey), "sink": sv(sink)}
	names := map[string]string{"#s": "status", "#sev": "severity"}
	values := item{":p": sv(string(iamwatch.DeliveryPending)), ":sev": nv(sev), ":now": nv(now.UnixMilli())}
	_, err = s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(s.t.Deliveries), Key: key,
		UpdateExpression:          aws.String("SET #sev = :sev, next_try = :now"),
		ConditionExpression:       aws.String("#s = :p AND #sev < :sev AND next_try > :now"),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
	})
	if _, ok := isConditionFailed(err); !ok {
		return err
	}
	_, err = s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(s.t.Deliveries), Key: key,
		UpdateExpression:          aws.String("SET #sev = :sev"),
		ConditionExpression:       aws.String("#s = :p AND #sev < :sev"),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: item{":p": values[":p"], ":sev": values[":sev"]},
	})
	if _, ok := isConditionFailed(err); !ok {
		return err
	}
	values[":zero"], values[":empty"] = nv(0), sv("")
	_, err = s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(s.t.Deliveries), Key: key,
		UpdateExpression:          aws.String("SET #sev = :sev, #s = :p, attempts = :zero, next_try = :now, last_error = :empty REMOVE sent_at"),
		ConditionExpression:       aws.String("#s <> :p AND #sev < :sev"),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
	})
	if _, ok := isConditionFailed(err); ok {
		return nil // at this severity or above already
	}
	return err
}

func deliveryFromItem(it item) (iamwatch.Delivery, error) {
	d := iamwatch.Delivery{
		AlertKey: getS(it, "alert_key"), Sink: getS(it, "sink"),
		Status: iamwatch.DeliveryStatus(getS(it, "status")), LastError: getS(it, "last_error"),
	}
	n, err := getN(it, "attempts")
	if err != nil {
		return d, fmt.Errorf("delivery %s/%s: %w", d.AlertKey, d.Sink, err)
	}
	d.Attempts = int(n)
	sev, err := getN(it, "severity")
	if err != nil {
		return d, fmt.Errorf("delivery %s/%s: %w", d.AlertKey, d.Sink, err)
	}
	d.Severity = iamwatch.Severity(sev)
	if d.NextTry, err = getMillis(it, "next_try"); err != nil {
		return d, fmt.Errorf("delivery %s/%s: %w", d.AlertKey, d.Sink, err)
	}
	if d.SentAt, err = getMillis(it, "sent_at"); err != nil {
		return d, fmt.Errorf("delivery %s/%s: %w", d.AlertKey, d.Sink, err)
	}
	return d, nil
}

// Due returns pending deliveries whose NextTry <= now, oldest NextTry first,
// with their alerts; limit <= 0 means no limit. It scans the deliveries
// table (consistent) and reads the alerts with BatchGetItem.
func (s *Store) Due(ctx context.Context, now time.Time, limit int) ([]iamwatch.DueDelivery, error) {
	items, err := s.scanAll(ctx, s.t.Deliveries, "#s = :p AND next_try <= :now", "",
		map[string]string{"#s": "status"}, item{":p": sv(string(iamwatch.DeliveryPending)), ":now": nv(now.UnixMilli())})
	if err != nil {
		return nil, fmt.Errorf("dynamodb: due deliveries: %w", err)
	}
	ds := make([]iamwatch.Delivery, 0, len(items))
	for _, it := range items {
		d, err := deliveryFromItem(it)
		if err != nil {
			return nil, fmt.Errorf("dynamodb: due deliveries: %w", err)
		}
		ds = append(ds, d)
	}
	slices.SortFunc(ds, func(a, b iamwatch.Delivery) int {
		return cmp.Or(a.NextTry.Compare(b.NextTry), cmp.Compare(a.AlertKey, b.AlertKey), cmp.Compare(a.Sink, b.Sink))
	})
	if limit > 0 && len(ds) > limit {
		ds = ds[:limit]
	}
	var keys []item
	seen := map[string]bool{}
	for _, d := range ds {
		if !seen[d.AlertKey] {
			seen[d.AlertKey] = true
			keys = append(keys, item{"dedup_key": sv(d.AlertKey)})
		}
	}
	alertItems, err := s.batchGet(ctx, s.t.Alerts, keys, "")
	if err != nil {
		return nil, fmt.Errorf("dynamodb: due deliveries: %w", err)
	}
	alerts := make(map[string]iamwatch.Alert, len(alertItems))
	for _, it := range alertItems {
		a, err := alertFromItem(it)
		if err != nil {
			return nil, fmt.Errorf("dynamodb: due deliveries: %w", err)
		}
		alerts[a.DedupKey] = a
	}
	out := make([]iamwatch.DueDelivery, 0, len(ds))
	for _, d := range ds {
		a, ok := alerts[d.AlertKey]
		if !ok {
			continue // the alert was pruned; its deliveries go with it.
		}
		out = append(out, iamwatch.DueDelivery{Delivery: d, Alert: a})
	}
	return out, nil
}

// UpdateDelivery writes d's Status, Attempts, NextTry, LastError and SentAt
// while the stored delivery is pending. The error wraps ErrNotFound when
// (d.AlertKey, d.Sink) was never enqueued, iamwatch.ErrDeliverySettled when
// it is already sent or failed.
func (s *Store) UpdateDelivery(ctx context.Context, d iamwatch.Delivery) error {
	set := "SET #s = :s, attempts = :a, last_error = :e"
	values := item{":s": sv(string(d.Status)), ":a": nv(int64(d.Attempts)), ":e": sv(d.LastError)}
	var remove []string
	for _, f := range []struct {
		attr string
		t    time.Time
	}{{"next_try", d.NextTry}, {"sent_at", d.SentAt}} {
		if f.t.IsZero() {
			remove = append(remove, f.attr)
			continue
		}
		set += ", " + f.attr + " = :" + f.attr
		values[":"+f.attr] = nv(f.t.UnixMilli())
	}
	expr := set
	if len(remove) > 0 {
		expr += " REMOVE " + remove[0]
		for _, r := range remove[1:] {
			expr += ", " + r
		}
	}
	values[":pending"] = sv(string(iamwatch.DeliveryPending))
	values[":sev"] = nv(int64(d.Severity))
	key := item{"alert_key": sv(d.AlertKey), "sink": sv(d.Sink)}
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(s.t.Deliveries),
		Key:                       key,
		UpdateExpression:          aws.String(expr),
		ConditionExpression:       aws.String("#s = :pending AND (attribute_not_exists(#sev) OR #sev <= :sev)"),
		ExpressionAttributeNames:  map[string]string{"#s": "status", "#sev": "severity"},
		ExpressionAttributeValues: values,
	})
	if _, ok := isConditionFailed(err); ok {
		// Rare (another dispatcher settled it, the incident escalated while
		// it was being sent, or it was never enqueued): one consistent read
		// says which.
		got, gerr := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.t.Deliveries), Key: key,
			ConsistentRead: aws.Bool(true), ProjectionExpression: aws.String("#s, #sev"), ExpressionAttributeNames: map[string]string{"#s": "status", "#sev": "severity"}})
		switch {
		case gerr != nil:
			return fmt.Errorf("dynamodb: update delivery %s/%s: %w", d.AlertKey, d.Sink, gerr)
		case len(got.Item) == 0:
			return fmt.Errorf("dynamodb: update delivery %s/%s: %w", d.AlertKey, d.Sink, ErrNotFound)
		case getS(got.Item, "status") == string(iamwatch.DeliveryPending):
			if sev, err := getN(got.Item, "severity"); err == nil && sev > int64(d.Severity) {
				return nil // escalated meanwhile: the rise is still to send
			}
		}
		return fmt.Errorf("dynamodb: update delivery %s/%s (%s): %w", d.AlertKey, d.Sink, getS(got.Item, "status"), iamwatch.ErrDeliverySettled)
	}
	if err != nil {
		return fmt.Errorf("dynamodb: update delivery %s/%s: %w", d.AlertKey, d.Sink, err)
	}
	return nil
}

// ClaimDelivery leases d until until when it is still pending with the
// Attempts and NextTry Due returned (see iamwatch.Outbox): one conditional
// UpdateItem, so of concurrent claims exactly one succeeds.
func (s *Store) ClaimDelivery(ctx context.Context, d iamwatch.Delivery, until time.Time) (bool, error) {
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                aws.String(s.t.Deliveries),
		Key:                      item{"alert_key": sv(d.AlertKey), "sink": sv(d.Sink)},
		UpdateExpression:         aws.String("SET next_try = :until"),
		ConditionExpression:      aws.String("#s = :pending AND attempts = :a AND next_try = :seen"),
		ExpressionAttributeNames: map[string]string{"#s": "status"},
		ExpressionAttributeValues: item{":until": nv(until.UnixMilli()), ":pending": sv(string(iamwatch.DeliveryPending)),
			":a": nv(int64(d.Attempts)), ":seen": nv(d.NextTry.UnixMilli())},
	})
	if _, ok := isConditionFailed(err); ok {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("dynamodb: claim delivery %s/%s: %w", d.AlertKey, d.Sink, err)
	}
	return true, nil
}

// Deliveries lists the deliveries of one alert, by sink.
func (s *Store) Deliveries(ctx context.Context, alertKey string) ([]iamwatch.Delivery, error) {
	items, err := s.queryAll(ctx, deliveriesOf(s.t.Deliveries, alertKey, false))
	if err != nil {
		return nil, fmt.Errorf("dynamodb: deliveries of %s: %w", alertKey, err)
	}
	out := make([]iamwatch.Delivery, 0, len(items))
	for _, it := range items {
		d, err := deliveryFromItem(it)
		if err != nil {
			return nil, fmt.Errorf("dynamodb: deliveries of %s: %w", alertKey, err)
		}
		out = append(out, d)
	}
	return out, nil
}

// RetryFailed sets failed deliveries (of one sink, or all when sink is "")
// back to pending, due at now, and returns how many. Attempts and LastError
// are kept. Each update is conditional on the delivery still being failed,
// so two concurrent calls count each delivery once.
func (s *Store) RetryFailed(ctx context.Context, sink string, now time.Time) (int, error) {
	filter := "#s = :f"
	values := item{":f": sv(string(iamwatch.DeliveryFailed))}
	if sink != "" {
		filter += " AND sink = :sink"
		values[":sink"] = sv(sink)
	}
	items, err := s.scanAll(ctx, s.t.Deliveries, filter, "alert_key, sink", map[string]string{"#s": "status"}, values)
	if err != nil {
		return 0, fmt.Errorf("dynamodb: retry failed deliveries: %w", err)
	}
	var n atomic.Int64
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(s.limit)
	for _, it := range items {
		g.Go(func() error {
			_, err := s.db.UpdateItem(gctx, &dynamodb.UpdateItemInput{
				TableName:                 aws.String(s.t.Deliveries),
				Key:                       item{"alert_key": it["alert_key"], "sink": it["sink"]},
				UpdateExpression:          aws.String("SET #s = :p, next_try = :now"),
				ConditionExpression:       aws.String("#s = :f"),
				ExpressionAttributeNames:  map[string]string{"#s": "status"},
				ExpressionAttributeValues: item{":p": sv(string(iamwatch.DeliveryPending)), ":f": sv(string(iamwatch.DeliveryFailed)), ":now": nv(now.UnixMilli())},
			})
			if _, ok := isConditionFailed(err); ok {
				return nil
			}
			if err != nil {
				return err
			}
			n.Add(1)
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return int(n.Load()), fmt.Errorf("dynamodb: retry failed deliveries: %w", err)
	}
	return int(n.Load()), nil
}

// deliveriesOf is the query of one alert's deliveries (keys only, or all).
func deliveriesOf(table, alertKey string, keysOnly bool) *dynamodb.QueryInput {
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(table),
		ConsistentRead:            aws.Bool(true),
		KeyConditionExpression:    aws.String("alert_key = :k"),
		ExpressionAttributeValues: item{":k": sv(alertKey)},
	}
	if keysOnly {
		in.ProjectionExpression = aws.String("alert_key, sink")
	}
	return in
}

// queryAll runs a query to its last page.
func (s *Store) queryAll(ctx context.Context, in *dynamodb.QueryInput) ([]item, error) {
	var out []item
	for {
		res, err := s.db.Query(ctx, in)
		if err != nil {
			return nil, err
		}
		out = append(out, res.Items...)
		if len(res.LastEvaluatedKey) == 0 {
			return out, nil
		}
		in.ExclusiveStartKey = res.LastEvaluatedKey
	}
}
