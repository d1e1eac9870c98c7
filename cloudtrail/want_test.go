package cloudtrail

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/iamwatch/iamwatch"
)

// TestWant: the records Want refuses are counted, not yielded; the ones it
// takes are the same events as without it; a record that fails keeps its
// event ID in the report after the decoder's buffer has moved on.
func TestWant(t *testing.T) {
	var recs []string
	for i := range 300 {
		src := "ec2.amazonaws.com"
		if i%3 == 0 {
			src = "iam.amazonaws.com"
		}
		recs = append(recs, fmt.Sprintf(`{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/alice","accountId":"111122223333","userName":"alice"},"eventTime":"2026-03-02T10:00:00Z","eventSource":%q,"eventName":"ListThings","awsRegion":"us-east-1","sourceIPAddress":"198.51.100.7","requestParameters":{"n":%d},"eventID":"id-%03d","eventType":"AwsApiCall","recipientAccountId":"111122223333"}`, src, i, i))
	}
	recs[5] = `{"eventID":"bad-time-005","eventTime":"yesterday","eventSource":"ec2.amazonaws.com","eventName":"X"}`
	trail := `{"Records":[` + strings.Join(recs, ",") + `]}`
	decode := func(want func(*iamwatch.Event) bool) (Stats, []iamwatch.Event, []string) {
		d, err := NewDecoder(Options{Want: want})
		if err != nil {
			t.Fatal(err)
		}
		var evs []iamwatch.Event
		var errs []string
		st, err := d.DecodeWith(context.Background(), strings.NewReader(trail), "t.json", func(e *RecordError) { errs = append(errs, e.EventID) },
			func(ev *iamwatch.Event) error { evs = append(evs, *ev); return nil })
		if err != nil {
			t.Fatal(err)
		}
		return st, evs, errs
	}
	all, allEvs, allErrs := decode(nil)
	st, evs, errs := decode(func(ev *iamwatch.Event) bool { return ev.Source == "iam.amazonaws.com" })
	if st.Records != all.Records || st.Records != st.Events+st.Rejected+st.Skipped+st.Unwanted || st.Events != 100 || st.Unwanted != 199 {
		t.Errorf("stats %+v (without Want %+v)", st, all)
	}
	var iam []iamwatch.Event
	for _, ev := range allEvs {
		if ev.Source == "iam.amazonaws.com" {
			iam = append(iam, ev)
		}
	}
	if len(evs) != len(iam) {
		t.Fatalf("%d events, want %d", len(evs), len(iam))
	}
	for i := range evs {
		if fmt.Sprint(evs[i]) != fmt.Sprint(iam[i]) || string(evs[i].Raw) != string(iam[i].Raw) {
			t.Errorf("event %d: %+v\nwant %+v", i, evs[i], iam[i])
		}
	}
	if len(errs) != 1 || errs[0] != "bad-time-005" || len(allErrs) != 1 {
		t.Errorf("record errors %q, without Want %q", errs, allErrs)
	}
}
