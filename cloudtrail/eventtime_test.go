package cloudtrail

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// TestParseEventTime: the spellings of one instant that CloudTrail records
// arrive in once a tool has re-printed them, and the ones that stay errors.
func TestParseEventTime(t *testing.T) {
	want := time.Date(2025, 3, 26, 16, 43, 57, 0, time.UTC)
	for _, s := range []string{
		"2025-03-26T16:43:57Z",                 // CloudTrail
		"2025-03-26T16:43:57.000Z",             // milliseconds
		"2025-03-26 16:43:57.000000000",        // log platforms' export (Stratus Red Team's newer captures)
		"2025-03-26 16:43:57",                  // SQL engines
		"2025-03-26 16:43:57 UTC",              //
		"2025-03-26 16:43:57Z",                 //
		"2025-03-26T16:43:57",                  // no zone: UTC, as CloudTrail records
		"2025-03-26t16:43:57z",                 // lower case
		"2025-03-26T17:43:57+01:00",            // an offset
		"2025-03-26 17:43:57 +01:00",           //
		"2025-03-26T17:43:57+0100",             // without its colon
		"2025-03-26T11:43:57-05",               // hours only
		"2025-03-26 16:43:57.000000000 +00:00", //
	} {
		got, ok := parseEventTime(s)
		if !ok || !got.Equal(want) {
			t.Errorf("parseEventTime(%q) = %v, %v; want %v", s, got, ok, want)
		}
	}
	if got, ok := parseEventTime("2025-03-26 16:43:57.123456789"); !ok || got.Nanosecond() != 123456789 {
		t.Errorf("nanoseconds: got %v, %v", got, ok)
	}
	for _, s := range []string{
		"", "yesterday", "2025-03-26", "2025-03-26 16:43", "2025/03/26 16:43:57",
		"2025-03-26_16:43:57", "2025-03-26 16:43:57.", "2025-03-26 16:43:57.0000000000",
		"2025-03-26 16:43:57 CET", "2025-03-26 16:43:57+1", "2025-03-26 25:43:57",
		"2025-02-30 16:43:57", "1743007437", "2025-03-26 16:43:57  UTC",
	} {
		if got, ok := parseEventTime(s); ok {
			t.Errorf("parseEventTime(%q) = %v, want an error", s, got)
		}
	}
}

// A record whose eventTime a tool re-printed decodes to the instant, kept
// in UTC; one in no form is ErrBadTime naming the event.
func TestDecodeRecordTimeForms(t *testing.T) {
	ev, err := DecodeRecord([]byte(`{"eventID":"t-1","eventTime":"2025-03-26 16:43:57.000000000","eventSource":"bedrock.amazonaws.com","eventName":"DeleteGuardrail"}`))
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2025, 3, 26, 16, 43, 57, 0, time.UTC); !ev.Time.Equal(want) || ev.Time.Location() != time.UTC {
		t.Errorf("Time = %v, want %v in UTC", ev.Time, want)
	}
	_, err = DecodeRecord([]byte(`{"eventID":"t-2","eventTime":"26/03/2025 16:43"}`))
	if !errors.Is(err, ErrBadTime) || !strings.Contains(err.Error(), `"t-2"`) {
		t.Errorf("err = %v, want ErrBadTime naming t-2", err)
	}
}
