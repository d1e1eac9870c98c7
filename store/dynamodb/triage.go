package dynamodb

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/iamwatch/iamwatch"
)

var _ iamwatch.TriageStore = (*Store)(nil)

// The triage attributes of an alert item: the state lives with the alert,
// so it expires and is pruned with it, and merges (UpdateItem SET of the
// alert's own fields) leave it alone.
const (
	attrTriageStatus = "triage_status"
	attrTriageBy     = "triage_by"
	attrTriageAt     = "triage_at" // epoch milliseconds.
	attrTriageNote   = "triage_note"
)

// SetTriage stores t on its alert's item; the error wraps ErrNotFound when
// there is no such alert.
func (s *Store) SetTriage(ctx context.Context, t iamwatch.Triage) error {
	if err := t.Validate(); err != nil {
		return err
	}
	names := map[string]string{"#s": attrTriageStatus, "#a": attrTriageAt, "#b": attrTriageBy, "#n": attrTriageNote}
	values := item{":s": sv(string(t.Status)), ":a": nv(t.At.UnixMilli())}
	expr := "SET #s = :s, #a = :a"
	var remove []string
	for _, f := range []struct{ name, v, ph string }{{"#b", t.By, ":b"}, {"#n", t.Note, ":n"}} {
		if f.v == "" {
			remove = append(remove, f.name) // empty strings are left out, as setS does.
			continue
		}
		expr += ", " + f.name + " = " + f.ph
		values[f.ph] = sv(f.v)
	}
	if len(remove) > 0 {
		expr += " REMOVE " + remove[0]
		for _, r := range remove[1:] {
			expr += ", " + r
		}
	}
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(s.t.Alerts), Key: item{"dedup_key": sv(t.AlertKey)},
		UpdateExpression: aws.String(expr), ConditionExpression: aws.String("attribute_exists(dedup_key)"),
		ExpressionAttributeNames: names, ExpressionAttributeValues: values,
	})
	if _, ok := isConditionFailed(err); ok {
		return fmt.Errorf("dynamodb: set triage %s: alert %w", t.AlertKey, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("dynamodb: set triage %s: %w", t.AlertKey, err)
	}
	return nil
}

func triageFromItem(it item) (iamwatch.Triage, error) {
	t := iamwatch.Triage{AlertKey: getS(it, "dedup_key"), Status: iamwatch.TriageStatus(getS(it, attrTriageStatus)),
		By: getS(it, attrTriageBy), Note: getS(it, attrTriageNote)}
	var err error
	if t.At, err = getMillis(it, attrTriageAt); err != nil {
		return t, fmt.Errorf("triage of %s: %w", t.AlertKey, err)
	}
	if t.Status == "" {
		t.Status = iamwatch.TriageOpen
	}
	return t, nil
}

const triageProjection = "dedup_key, " + attrTriageStatus + ", " + attrTriageBy + ", " + attrTriageAt + ", " + attrTriageNote

// Triage returns the alert's triage state (consistent read): open when
// never set or when there is no such alert.
func (s *Store) Triage(ctx context.Context, key string) (iamwatch.Triage, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.t.Alerts), Key: item{"dedup_key": sv(key)}, ConsistentRead: aws.Bool(true),
		ProjectionExpression: aws.String(triageProjection),
	})
	if err != nil {
		return iamwatch.Triage{AlertKey: key, Status: iamwatch.TriageOpen}, fmt.Errorf("dynamodb: triage %s: %w", key, err)
	}
	if out.Item == nil {
		return iamwatch.Triage{AlertKey: key, Status: iamwatch.TriageOpen}, nil
	}
	t, err := triageFromItem(out.Item)
	if err != nil {
		return t, fmt.Errorf("dynamodb: %w", err)
	}
	t.AlertKey = key
	return t, nil
}

// Triages returns every state set, by alert key: a scan of the alerts
// table (filtered to the alerts that have one).
func (s *Store) Triages(ctx context.Context) (map[string]iamwatch.Triage, error) {
	items, err := s.scanAll(ctx, s.t.Alerts, "attribute_exists(#s)", triageProjection, map[string]string{"#s": attrTriageStatus}, nil)
	if err != nil {
		return nil, fmt.Errorf("dynamodb: triages: %w", err)
	}
	out := make(map[string]iamwatch.Triage, len(items))
	for _, it := range items {
		t, err := triageFromItem(it)
		if err != nil {
			return nil, fmt.Errorf("dynamodb: %w", err)
		}
		out[t.AlertKey] = t
	}
	return out, nil
}
