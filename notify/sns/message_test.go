package sns_test

import (
	"fmt"
	"testing"

	"github.com/iamwatch/iamwatch"
	"github.com/iamwatch/iamwatch/notify/notifytest"
	"github.com/iamwatch/iamwatch/notify/sns"
)

func TestAlertMessageRoundTrip(t *testing.T) {
	a := notifytest.Alert()
	a.EventIDs = make([]string, 80)
	for i := range a.EventIDs {
		a.EventIDs[i] = fmt.Sprintf("e-%d", i)
	}
	b, err := sns.EncodeAlertMessage([]iamwatch.Alert{a})
	if err != nil {
		t.Fatal(err)
	}
	m, err := sns.DecodeAlertMessage(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Alerts) != 1 || m.Alerts[0].DedupKey != a.DedupKey || len(m.Alerts[0].EventIDs) != sns.MaxMessageEventIDs {
		t.Errorf("round trip = %+v", m)
	}
	if len(a.EventIDs) != 80 {
		t.Error("EncodeAlertMessage changed its argument")
	}
	for _, bad := range []string{`{}`, `{"version":2,"alerts":[{"dedup_key":"k","rule":"r"}]}`, `{"version":1,"alerts":[]}`, `{"version":1,"alerts":[{"rule":"r"}]}`, `nope`} {
		if _, err := sns.DecodeAlertMessage([]byte(bad)); err == nil {
			t.Errorf("DecodeAlertMessage(%s) accepted it", bad)
		}
	}
}

// FuzzDecodeAlertMessage: whatever arrives on the topic, decoding does not
// panic, and what it accepts encodes and decodes to the same alerts.
func FuzzDecodeAlertMessage(f *testing.F) {
	if b, err := sns.EncodeAlertMessage([]iamwatch.Alert{notifytest.Alert()}); err == nil {
		f.Add(b)
	}
	f.Add([]byte(`{"version":1,"alerts":[{"dedup_key":"k","rule":"r","severity":"critical","time":"2024-06-03T09:15:40Z"}]}`))
	f.Add([]byte(`{"version":1,"alerts":[{"dedup_key":"k","rule":"r","severity":"bogus"}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := sns.DecodeAlertMessage(b)
		if err != nil {
			return
		}
		again, err := sns.EncodeAlertMessage(m.Alerts)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		m2, err := sns.DecodeAlertMessage(again)
		if err != nil {
			t.Fatalf("decode of re-encoded message: %v", err)
		}
		if len(m2.Alerts) != len(m.Alerts) {
			t.Fatalf("round trip changed the alerts: %d → %d", len(m.Alerts), len(m2.Alerts))
		}
		for i := range m.Alerts {
			if m.Alerts[i].DedupKey != m2.Alerts[i].DedupKey || m.Alerts[i].Rule != m2.Alerts[i].Rule {
				t.Fatalf("alert %d changed in a round trip", i)
			}
		}
	})
}
