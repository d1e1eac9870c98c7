package cloudtrail

import (
	"fmt"
	"strings"
)

// Format is a shape of CloudTrail input. [Auto] recognises each shape by its
// content (never by file name), also when shapes are mixed: lines or arrays
// whose elements are records, EventBridge events, LookupEvents events or
// CloudWatch Logs log events.
// Forcing a format makes anything else an error.
type Format string

// The formats.
const (
	Auto        Format = "auto"        // recognise by content
	Trail       Format = "trail"       // {"Records":[record, …]} as delivered to S3
	Lines       Format = "lines"       // one record per line
	Array       Format = "array"       // [record, …]
	Record      Format = "record"      // one record
	EventBridge Format = "eventbridge" // EventBridge events whose detail is a record; per line or in an array
	Lookup      Format = "lookup"      // LookupEvents output: {"Events":[{"CloudTrailEvent":"<record>"}]} pages, or one event per line
	// CloudWatchLogs is a trail's CloudWatch Logs log group read back: log
	// events whose message is a record, as filter-log-events and
	// get-log-events print them ({"events":[{"message":"<record>"}]}), as
	// a subscription delivers them (DATA_MESSAGE payloads, which Firehose
	// writes to S3 one after another), or as an export task writes them
	// to S3 ("2025-03-04T09:12:44.000Z <record>" lines).
	CloudWatchLogs Format = "cloudwatch-logs"
)

// Formats lists every format, Auto first.
func Formats() []Format {
	return []Format{Auto, Trail, Lines, Array, Record, EventBridge, Lookup, CloudWatchLogs}
}

// ParseFormat returns the format named s (case-insensitive; "" is Auto).
func ParseFormat(s string) (Format, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" {
		return Auto, nil
	}
	for _, f := range Formats() {
		if string(f) == s {
			return f, nil
		}
	}
	switch s {
	case "jsonl", "ndjson", "json-lines":
		return Lines, nil
	case "lookup-events", "lookupevents":
		return Lookup, nil
	case "s3", "cloudtrail":
		return Trail, nil
	case "logs", "cloudwatch", "cloudwatchlogs":
		return CloudWatchLogs, nil
	}
	return "", fmt.Errorf("cloudtrail: unknown format %q (want one of %v)", s, Formats())
}

// String returns the format's name.
func (f Format) String() string { return string(f) }

// Set implements flag.Value and pflag.Value.
func (f *Format) Set(s string) error {
	v, err := ParseFormat(s)
	if err != nil {
		return err
	}
	*f = v
	return nil
}

// Type implements pflag.Value.
func (f *Format) Type() string { return "format" }
