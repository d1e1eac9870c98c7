package detect

import (
	"fmt"

	gojson "github.com/goccy/go-json"

	"github.com/iamwatch/iamwatch"
)

// parseRecord decodes the record of ev into JSON-shaped values (numbers as
// float64). An event without Raw (built by hand, not decoded) gets a record
// made of its normalised fields under their CloudTrail names.
func parseRecord(ev *iamwatch.Event) (map[string]any, error) {
	if len(ev.Raw) == 0 {
		return synthRecord(ev), nil
	}
	var rec map[string]any
	if err := gojson.Unmarshal(ev.Raw, &rec); err != nil {
		return nil, fmt.Errorf("event %q: parse record: %w", ev.ID, err)
	}
	if rec == nil {
		return nil, fmt.Errorf("event %q: record is not an object", ev.ID)
	}
	return rec, nil
}

func synthRecord(ev *iamwatch.Event) map[string]any {
	rec := map[string]any{
		"eventID":            ev.ID,
		"eventTime":          ev.Time.UTC().Format(iamwatch.TimeFormat),
		"eventSource":        ev.Source,
		"eventName":          ev.Name,
		"awsRegion":          ev.Region,
		"sourceIPAddress":    ev.SourceIP,
		"userAgent":          ev.UserAgent,
		"recipientAccountId": ev.AccountID,
	}
	if ev.Category != "" {
		rec["eventType"] = ev.Category
	}
	if ev.ErrorCode != "" {
		rec["errorCode"] = ev.ErrorCode
		rec["errorMessage"] = ev.ErrorMessage
	}
	id := map[string]any{}
	for k, v := range map[string]string{"type": ev.IdentityType, "arn": ev.PrincipalARN, "invokedBy": ev.InvokedBy} {
		if v != "" {
			id[k] = v
		}
	}
	rec["userIdentity"] = id
	for k, raw := range map[string][]byte{"requestParameters": ev.RequestParameters, "responseElements": ev.ResponseElements} {
		var v any
		if len(raw) > 0 && gojson.Unmarshal(raw, &v) == nil {
			rec[k] = v
		}
	}
	return rec
}

func jsonMarshal(v any) ([]byte, error) { return gojson.Marshal(v) }
