package dynamodb

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/iamwatch/iamwatch"
)

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
	setN(it, "count", int64(max(a.Count, 1)))
	setS(it, "first_seen", eventTime(a.FirstSeen))
	setS(it, "last_seen", eventTime(a.LastSeen))
	setS(it, "event_id", a.EventID)
	setS(it, "country", a.Country)
	setS(it, "asn", a.ASN)
	setS(it, "as_org", a.ASOrg)
	setList(it, "tags", a.Tags)
	setList(it, "references", a.References)
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
		EventName: getS(it, "event_name"), EventID: getS(it, "event_id"), EventIDs: getList(it, "event_ids"), Group: getS(it, "group"),
		Tags: getList(it, "tags"), References: getList(it, "references"),
		Country: getS(it, "country"), ASN: getS(it, "asn"), ASOrg: getS(it, "as_org"),
	}
	sev, err := getN(it, "severity")
	if err != nil {
		return a, fmt.Errorf("alert %s: %w", a.DedupKey, err)
	}
	a.Severity = iamwatch.Severity(sev)
	a.Count = 1
	if _, ok := it["count"]; ok {
		n, err := getN(it, "count")
		if err != nil {
			return a, fmt.Errorf("alert %s: %w", a.DedupKey, err)
		}
		a.Count = int(n)
	}
	for _, f := range []struct {
		name string
		dst  *time.Time
	}{{"time", &a.Time}, {"window_start", &a.WindowStart}, {"window_end", &a.WindowEnd}, {"first_seen", &a.FirstSeen}, {"last_seen", &a.LastSeen}} {
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

// CommitAlerts records hits (conditional PutItems, see putHits), then calls
// resolve with a view that reads the hits and events with consistent reads,
// then claims each alert: a conditional PutItem stores it when its key is
// new; otherwise a conditional UpdateItem replaces the stored fields only
// when iamwatch.Merge keeps the claim (it counts more events, say), so concurrent
// invocations converge on the alert computed from the most hits; alike in
// everything Merge compares, the last claim stands.
// It is not one transaction: hits recorded before a failure stay, which is
// harmless (a retry records them again and resolves the same alerts).
func (s *Store) CommitAlerts(ctx context.Context, hits []iamwatch.Hit, resolve iamwatch.Resolver) ([]iamwatch.Claim, error) {
	added, err := s.putHits(ctx, hits)
	if err != nil {
		return nil, err
	}
	alerts, err := resolve(ctx, view{s, added})
	if err != nil {
		return nil, fmt.Errorf("dynamodb: commit alerts: %w", err)
	}
	claims := make([]iamwatch.Claim, len(alerts))
	for i, a := range alerts {
		if claims[i], err = s.claim(ctx, a); err != nil {
			return nil, fmt.Errorf("dynamodb: claim alert %s: %w", a.DedupKey, err)
		}
	}
	return claims, nil
}

// CommitIsAtomic reports false: see CommitAlerts.
func (s *Store) CommitIsAtomic() bool { return false }

func (s *Store) claim(ctx context.Context, a iamwatch.Alert) (iamwatch.Claim, error) {
	if a.DedupKey == "" {
		return iamwatch.Claim{}, fmt.Errorf("empty dedup key (rule %q)", a.Rule)
	}
	a.Count = max(a.Count, 1)
	it := s.alertItem(&a)
	_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:           aws.String(s.t.Alerts),
		Item:                it,
		ConditionExpression: aws.String("attribute_not_exists(dedup_key)"),
	})
	if err == nil {
		return iamwatch.Claim{Alert: a, New: true}, nil
	}
	if _, ok := isConditionFailed(err); !ok {
		return iamwatch.Claim{}, err
	}
	// Stored already: replace its fields when iamwatch.Merge keeps the claim.
	var set []string
	names := map[string]string{}
	values := item{}
	for k, v := range it {
		if k == "dedup_key" || k == "created_at" {
			continue
		}
		n, p := "#f"+strconv.Itoa(len(names)), ":f"+strconv.Itoa(len(values))
		names[n], values[p] = k, v
		set = append(set, n+" = "+p)
	}
	slices.Sort(set)
	merge := mergeCondition(a, names, values)
	_, err = s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(s.t.Alerts),
		Key:                       item{"dedup_key": sv(a.DedupKey)},
		UpdateExpression:          aws.String("SET " + strings.Join(set, ", ")),
		ConditionExpression:       aws.String("attribute_exists(dedup_key) AND (" + merge + ")"),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
	})
	if err == nil {
		return iamwatch.Claim{Alert: a}, nil
	}
	if _, ok := isConditionFailed(err); !ok {
		return iamwatch.Claim{}, fmt.Errorf("merge into stored alert: %w", err)
	}
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.t.Alerts), Key: item{"dedup_key": sv(a.DedupKey)}, ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return iamwatch.Claim{}, fmt.Errorf("read stored alert: %w", err)
	}
	if out.Item == nil {
		return iamwatch.Claim{}, errors.New("stored alert vanished (pruned meanwhile); retry the claim")
	}
	stored, err := alertFromItem(out.Item)
	if err != nil {
		return iamwatch.Claim{}, err
	}
	return iamwatch.Claim{Alert: stored}, nil
}

// mergeCondition is iamwatch.Merge as a condition on the stored item: true
// when Merge keeps the claim a. Its names and values are added to names and
// values.
func mergeCondition(a iamwatch.Alert, names map[string]string, values item) string {
	// Merge compares level by level: at each, the claim is kept (wins), or
	// the next level decides (ties), or the stored alert is kept.
	type level struct{ wins, ties string }
	names["#cnt"], values[":claimcount"] = "count", nv(int64(max(a.Count, 1)))
	levels := []level{{"attribute_not_exists(#cnt) OR #cnt < :claimcount", "#cnt = :claimcount"}}
	if !a.FirstSeen.IsZero() { // compared when both are known
		names["#first"], values[":claimfirst"] = "first_seen", sv(eventTime(a.FirstSeen))
		levels = append(levels, level{"#first > :claimfirst", "attribute_not_exists(#first) OR #first = :claimfirst"})
	}
	if !a.LastSeen.IsZero() {
		names["#last"], values[":claimlast"] = "last_seen", sv(eventTime(a.LastSeen))
		levels = append(levels, level{"#last < :claimlast", "attribute_not_exists(#last) OR #last = :claimlast"})
	}
	names["#time"], values[":claimtime"] = "time", sv(eventTime(a.Time))
	levels = append(levels, level{"#time > :claimtime", "#time = :claimtime"})
	names["#tags"], values[":withdrawn"] = "tags", sv(iamwatch.WithdrawnTag)
	if a.Withdrawn() {
		levels = append(levels, level{"", "contains(#tags, :withdrawn)"})
	} else { // it reinstates a withdrawn alert raised as early
		levels = append(levels, level{"contains(#tags, :withdrawn)", "NOT contains(#tags, :withdrawn)"})
	}
	if a.EventID != "" { // raised in the same second: the smaller raising event ID
		names["#eid"], values[":claimeid"] = "event_id", sv(a.EventID)
		levels = append(levels, level{"#eid > :claimeid", "attribute_not_exists(#eid) OR #eid = :claimeid"})
	}
	// As a disjunction of flat conjunctions (nested ones made the emulator's
	// parser hang): won at a level, tied at every one before it; or tied at
	// every level, where the claim stands. DynamoDB refuses parentheses
	// that change nothing: only a disjunction inside a conjunction, and a
	// conjunction of several, get them.
	group := func(x string) string {
		if strings.Contains(x, " OR ") {
			return "(" + x + ")"
		}
		return x
	}
	term := func(xs ...string) string {
		if len(xs) == 1 {
			return xs[0]
		}
		for i, x := range xs {
			xs[i] = group(x)
		}
		return "(" + strings.Join(xs, " AND ") + ")"
	}
	var terms, ties []string
	for _, l := range levels {
		if l.wins != "" {
			terms = append(terms, term(append(slices.Clone(ties), l.wins)...))
		}
		ties = append(ties, l.ties)
	}
	terms = append(terms, term(ties...))
	return strings.Join(terms, " OR ")
}

// view is the StateView of CommitAlerts.
type view struct {
	s     *Store
	added map[[2]string]bool
}

func (v view) Added(rule, eventID string) (bool, bool) {
	return v.added[[2]string{rule, eventID}], true
}

func (v view) Alert(ctx context.Context, key string) (iamwatch.Alert, bool, error) {
	out, err := v.s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(v.s.t.Alerts), Key: item{"dedup_key": sv(key)}, ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return iamwatch.Alert{}, false, fmt.Errorf("dynamodb: alert %s: %w", key, err)
	}
	if out.Item == nil {
		return iamwatch.Alert{}, false, nil
	}
	a, err := alertFromItem(out.Item)
	return a, err == nil, err
}

func (v view) Hits(ctx context.Context, rule, group string, from, to time.Time) ([]iamwatch.Hit, error) {
	return v.s.Hits(ctx, rule, group, from, to)
}

// DropHits deletes hits (iamwatch.HitDropper) with batched deletes. Beside
// other processes it is safe: it is given the hits that are neither the
// first nor the last of their slot in what this view read, and a view
// holding more hits has them in between too.
func (v view) DropHits(ctx context.Context, hits []iamwatch.Hit) error {
	if len(hits) == 0 {
		return nil
	}
	reqs := make([]types.WriteRequest, len(hits))
	for i, h := range hits {
		reqs[i] = types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: item{"series": sv(series(h.Rule, h.Group)), "event_id": sv(h.EventID)}}}
	}
	if err := v.s.batchWrite(ctx, v.s.t.Hits, reqs); err != nil {
		return fmt.Errorf("dynamodb: drop hits: %w", err)
	}
	return nil
}

// Event reads the event with consistent GetItems: the table is keyed by
// (event_date, event_id), t gives the date, and the ID its shard; an event
// stored before the day was sharded is under the bare date.
func (v view) Event(ctx context.Context, id string, t time.Time) (iamwatch.Event, bool, error) {
	date := t.UTC().Format(time.DateOnly)
	n, err := v.s.readShards(ctx, date)
	if err != nil {
		return iamwatch.Event{}, false, fmt.Errorf("dynamodb: event %s: %w", id, err)
	}
	keys := []string{date}
	if n > 1 {
		keys = []string{partitionKey(date, shardOf(id, n), n), date}
	}
	var found item
	for _, k := range keys {
		out, err := v.s.db.GetItem(ctx, &dynamodb.GetItemInput{
			TableName:      aws.String(v.s.t.Events),
			Key:            item{"event_date": sv(k), "event_id": sv(id)},
			ConsistentRead: aws.Bool(true),
		})
		if err != nil {
			return iamwatch.Event{}, false, fmt.Errorf("dynamodb: event %s: %w", id, err)
		}
		if found = out.Item; found != nil {
			break
		}
	}
	if found == nil || id == shardMarkerID {
		return iamwatch.Event{}, false, nil
	}
	ev, err := EventFromItem(found)
	if err != nil {
		return iamwatch.Event{}, false, fmt.Errorf("dynamodb: event %s: %w", id, err)
	}
	return ev, true, nil
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
	eq("dedup_key", f.Key)
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
