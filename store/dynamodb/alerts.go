package dynamodb

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/iamwatch/iamwatch"
)

// claimAttempts bounds the optimistic-locking retries of one merge.
const claimAttempts = 8

func (s *Store) alertItem(a *iamwatch.Alert) item {
	it := make(item, 22)
	setS(it, "dedup_key", a.DedupKey)
	setS(it, "rule", a.Rule)
	setN(it, "severity", int64(a.Severity))
	setS(it, "title", a.Title)
	setS(it, "summary", a.Summary)
	setS(it, "action", a.Action)
	setS(it, "time", eventTime(a.Time))
	setS(it, "account_id", a.AccountID)
	setS(it, "region", a.Region)
	setS(it, "user_name", a.UserName)
	setS(it, "source_ip", a.SourceIP)
	setS(it, "event_name", a.EventName)
	setList(it, "event_ids", capIDs(dedupIDs(a.EventIDs)))
	setS(it, "group", a.Group)
	setS(it, "window_start", eventTime(a.WindowStart))
	setS(it, "window_end", eventTime(a.WindowEnd))
	setList(it, "tags", a.Tags)
	setList(it, "references", a.References)
	setN(it, "version", 1)
	setMillis(it, "created_at", s.now())
	if exp := s.alertExpiry(); exp > 0 {
		setN(it, attrExpires, exp)
	}
	return it
}

func alertFromItem(it item) (iamwatch.Alert, error) {
	a := iamwatch.Alert{
		DedupKey: getS(it, "dedup_key"), Rule: getS(it, "rule"), Title: getS(it, "title"),
		Summary: getS(it, "summary"), Action: getS(it, "action"), AccountID: getS(it, "account_id"),
		Region: getS(it, "region"), UserName: getS(it, "user_name"), SourceIP: getS(it, "source_ip"),
		EventName: getS(it, "event_name"), EventIDs: getList(it, "event_ids"), Group: getS(it, "group"),
		Tags: getList(it, "tags"), References: getList(it, "references"),
	}
	sev, err := getN(it, "severity")
	if err != nil {
		return a, fmt.Errorf("alert %s: %w", a.DedupKey, err)
	}
	a.Severity = iamwatch.Severity(sev)
	for _, f := range []struct {
		name string
		dst  *time.Time
	}{{"time", &a.Time}, {"window_start", &a.WindowStart}, {"window_end", &a.WindowEnd}} {
		if *f.dst, err = parseEventTime(getS(it, f.name)); err != nil {
			return a, fmt.Errorf("alert %s: %s: %w", a.DedupKey, f.name, err)
		}
	}
	return a, nil
}

func dedupIDs(ids []string) []string {
	out := make([]string, 0, len(ids))
	seen := make(map[string]bool, len(ids))
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

func capIDs(ids []string) []string { return ids[:min(len(ids), MaxAlertEventIDs)] }

// ClaimAlert stores a if no alert with its DedupKey exists and reports true.
// Otherwise it adds a's EventIDs to the stored alert (union, stored order
// first, at most MaxAlertEventIDs), keeps the earlier Time and reports
// false. A repeat that adds nothing costs one read and no write.
func (s *Store) ClaimAlert(ctx context.Context, a iamwatch.Alert) (bool, error) {
	if a.DedupKey == "" {
		return false, fmt.Errorf("dynamodb: claim alert: empty dedup key (rule %q)", a.Rule)
	}
	_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                           aws.String(s.t.Alerts),
		Item:                                s.alertItem(&a),
		ConditionExpression:                 aws.String("attribute_not_exists(dedup_key)"),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if err == nil {
		return true, nil
	}
	cf, ok := isConditionFailed(err)
	if !ok {
		return false, fmt.Errorf("dynamodb: claim alert %s: %w", a.DedupKey, err)
	}
	if err := s.mergeAlert(ctx, a, cf.Item); err != nil {
		return false, fmt.Errorf("dynamodb: claim alert %s: %w", a.DedupKey, err)
	}
	return false, nil
}

// mergeAlert adds a's event IDs and earlier time to the stored alert, with
// an UpdateItem conditional on the version read. stored is the item the
// failed put returned, if the service returned it (dynalite does not).
func (s *Store) mergeAlert(ctx context.Context, a iamwatch.Alert, stored item) error {
	key := item{"dedup_key": sv(a.DedupKey)}
	for range claimAttempts {
		if stored == nil {
			out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
				TableName: aws.String(s.t.Alerts), Key: key, ConsistentRead: aws.Bool(true),
				ProjectionExpression:     aws.String("event_ids, #t, version"),
				ExpressionAttributeNames: map[string]string{"#t": "time"},
			})
			if err != nil {
				return fmt.Errorf("read stored alert: %w", err)
			}
			if out.Item == nil {
				return errors.New("stored alert vanished (pruned meanwhile); retry the claim")
			}
			stored = out.Item
		}
		ids := getList(stored, "event_ids")
		merged := capIDs(dedupIDs(append(slices.Clone(ids), a.EventIDs...)))
		t, newT := getS(stored, "time"), getS(stored, "time")
		if at := eventTime(a.Time); at != "" && (t == "" || at < t) {
			newT = at
		}
		if len(merged) == len(ids) && newT == t {
			return nil
		}
		version, err := getN(stored, "version")
		if err != nil {
			return err
		}
		upd := &dynamodb.UpdateItemInput{
			TableName:                aws.String(s.t.Alerts),
			Key:                      key,
			UpdateExpression:         aws.String("SET #t = :t, version = :next"),
			ConditionExpression:      aws.String("version = :v"),
			ExpressionAttributeNames: map[string]string{"#t": "time"},
			ExpressionAttributeValues: item{
				":t": sv(newT), ":v": nv(version), ":next": nv(version + 1),
			},
		}
		if len(merged) > 0 {
			l := item{}
			setList(l, "x", merged)
			upd.UpdateExpression = aws.String("SET #t = :t, version = :next, event_ids = :ids")
			upd.ExpressionAttributeValues[":ids"] = l["x"]
		}
		_, err = s.db.UpdateItem(ctx, upd)
		if _, ok := isConditionFailed(err); ok {
			stored = nil // another writer merged first: read again.
			continue
		}
		if err != nil {
			return fmt.Errorf("merge into stored alert: %w", err)
		}
		return nil
	}
	return fmt.Errorf("merge into stored alert: still contended after %d attempts", claimAttempts)
}

// Alerts lists stored alerts matching f, newest first (ties by dedup key,
// descending). It scans the alerts table with a filter: alerts expire after
// AlertTTL, so the table stays small.
func (s *Store) Alerts(ctx context.Context, f iamwatch.AlertFilter) ([]iamwatch.Alert, error) {
	var conds []string
	names := map[string]string{}
	values := item{}
	eq := func(attr, v string) {
		if v == "" {
			return
		}
		n := fmt.Sprintf("#a%d", len(names))
		p := fmt.Sprintf(":v%d", len(values))
		names[n], values[p] = attr, sv(v)
		conds = append(conds, n+" = "+p)
	}
	eq("rule", f.Rule)
	eq("group", f.Group)
	eq("user_name", f.UserName)
	eq("account_id", f.AccountID)
	if f.MinSeverity > 0 {
		names["#sev"], values[":sev"] = "severity", nv(int64(f.MinSeverity))
		conds = append(conds, "#sev >= :sev")
	}
	if !f.Since.IsZero() {
		names["#t"], values[":since"] = "time", sv(eventTimeCeil(f.Since))
		conds = append(conds, "#t >= :since")
	}
	if !f.Until.IsZero() {
		names["#t"], values[":until"] = "time", sv(eventTimeCeil(f.Until))
		conds = append(conds, "#t < :until")
	}
	items, err := s.scanAll(ctx, s.t.Alerts, strings.Join(conds, " AND "), "", names, values)
	if err != nil {
		return nil, fmt.Errorf("dynamodb: alerts: %w", err)
	}
	out := make([]iamwatch.Alert, 0, len(items))
	for _, it := range items {
		a, err := alertFromItem(it)
		if err != nil {
			return nil, fmt.Errorf("dynamodb: alerts: %w", err)
		}
		out = append(out, a)
	}
	slices.SortFunc(out, func(a, b iamwatch.Alert) int {
		if c := b.Time.Compare(a.Time); c != 0 {
			return c
		}
		return cmp.Compare(b.DedupKey, a.DedupKey)
	})
	if f.Limit > 0 && len(out) > f.Limit {
		out = out[:f.Limit]
	}
	return out, nil
}
