package export

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/iamwatch/iamwatch"
)

// Row is one event as a Parquet row: the schema of every exported file.
// Field order is column order (iamwatch.Columns first).
type Row struct {
	EventID           string  `parquet:"event_id"`
	EventTime         string  `parquet:"event_time"`
	EventDate         string  `parquet:"event_date,dict"`
	EventSource       string  `parquet:"event_source,dict"`
	EventName         string  `parquet:"event_name,dict"`
	EventType         string  `parquet:"event_type,dict"`
	UserName          string  `parquet:"user_name,dict"`
	IdentityType      string  `parquet:"identity_type,dict"`
	PrincipalARN      string  `parquet:"principal_arn,dict"`
	AccountID         string  `parquet:"account_id,dict"`
	AWSRegion         string  `parquet:"aws_region,dict"`
	SourceIP          string  `parquet:"source_ip,dict"`
	UserAgent         string  `parquet:"user_agent,dict"`
	RequestParameters *string `parquet:"request_parameters,optional"`
	ResponseElements  *string `parquet:"response_elements,optional"`
	ErrorCode         string  `parquet:"error_code,dict"`
	ErrorMessage      string  `parquet:"error_message"`
	MFAUsed           string  `parquet:"mfa_used,dict"`
	ReadOnly          string  `parquet:"read_only,dict"`
	Category          string  `parquet:"category,dict"`
	InvokedBy         string  `parquet:"invoked_by,dict"`
	TargetRole        string  `parquet:"target_role,dict"`
	Raw               *string `parquet:"raw,optional"`
}

// RowColumns are the columns of Row in order: iamwatch.Columns, then
// category, invoked_by, target_role, raw.
var RowColumns = append(append([]string{}, iamwatch.Columns...), "category", "invoked_by", "target_role", "raw")

// RowOf returns the row of e; raw selects whether the raw record is kept.
func RowOf(e *iamwatch.Event, raw bool) Row {
	t := e.Time.UTC()
	r := Row{
		EventID:           e.ID,
		EventTime:         t.Format(iamwatch.TimeFormat),
		EventDate:         t.Format(time.DateOnly),
		EventSource:       e.Source,
		EventName:         e.Name,
		EventType:         string(e.Type),
		UserName:          e.UserName,
		IdentityType:      e.IdentityType,
		PrincipalARN:      e.PrincipalARN,
		AccountID:         e.AccountID,
		AWSRegion:         e.Region,
		SourceIP:          e.SourceIP,
		UserAgent:         e.UserAgent,
		RequestParameters: jsonText(e.RequestParameters),
		ResponseElements:  jsonText(e.ResponseElements),
		ErrorCode:         e.ErrorCode,
		ErrorMessage:      e.ErrorMessage,
		MFAUsed:           e.MFAUsed,
		ReadOnly:          e.ReadOnly,
		Category:          e.Category,
		InvokedBy:         e.InvokedBy,
		TargetRole:        e.TargetRole,
	}
	if raw {
		r.Raw = jsonText(e.Raw)
	}
	return r
}

// Event returns the event r holds (Raw only when the row has it).
func (r *Row) Event() (iamwatch.Event, error) {
	t, err := time.Parse(time.RFC3339, r.EventTime)
	if err != nil {
		return iamwatch.Event{}, fmt.Errorf("export: row %s: event_time: %w", r.EventID, err)
	}
	return iamwatch.Event{
		ID: r.EventID, Time: t.UTC(), Source: r.EventSource, Name: r.EventName,
		Type: iamwatch.EventType(r.EventType), Category: r.Category,
		UserName: r.UserName, IdentityType: r.IdentityType, PrincipalARN: r.PrincipalARN,
		AccountID: r.AccountID, Region: r.AWSRegion, SourceIP: r.SourceIP, UserAgent: r.UserAgent,
		InvokedBy: r.InvokedBy, TargetRole: r.TargetRole,
		RequestParameters: rawJSON(r.RequestParameters), ResponseElements: rawJSON(r.ResponseElements),
		ErrorCode: r.ErrorCode, ErrorMessage: r.ErrorMessage, MFAUsed: r.MFAUsed, ReadOnly: r.ReadOnly,
		Raw: rawJSON(r.Raw),
	}, nil
}

// jsonText is a JSON value as optional text: nil when absent or null.
func jsonText(m json.RawMessage) *string {
	if len(m) == 0 || string(m) == "null" {
		return nil
	}
	s := string(m)
	return &s
}

func rawJSON(s *string) json.RawMessage {
	if s == nil {
		return nil
	}
	return json.RawMessage(*s)
}
