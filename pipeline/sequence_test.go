package pipeline_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/iamwatch/iamwatch"
	"github.com/iamwatch/iamwatch/cloudtrail"
	"github.com/iamwatch/iamwatch/detect"
	"github.com/iamwatch/iamwatch/pipeline"
	"github.com/iamwatch/iamwatch/rules"
)

// backdoorSteps are one actor's CreateUser, AttachUserPolicy
// (AdministratorAccess) and CreateAccessKey on a new user, seconds apart:
// iam-backdoor-admin-user's steps, each also an alert of its own rule.
func backdoorSteps(t *testing.T) []iamwatch.Event {
	t.Helper()
	var evs []iamwatch.Event
	for i, step := range []struct{ name, params string }{
		{"CreateUser", `{"userName":"svc-backup"}`},
		{"AttachUserPolicy", `{"userName":"svc-backup","policyArn":"arn:aws:iam::aws:policy/AdministratorAccess"}`},
		{"CreateAccessKey", `{"userName":"svc-backup"}`},
	} {
		ev, err := cloudtrail.DecodeRecord(fmt.Appendf(nil, `{"eventVersion":"1.09","userIdentity":{"type":"IAMUser","principalId":"AIDAEXAMPLE","arn":"arn:aws:iam::111122223333:user/mallory","accountId":"111122223333","userName":"mallory"},
			"eventTime":"2026-03-02T10:00:0%dZ","eventSource":"iam.amazonaws.com","eventName":%q,"awsRegion":"us-east-1","sourceIPAddress":"203.0.113.50","userAgent":"aws-cli/2.15.0",
			"requestParameters":%s,"responseElements":null,"eventID":"step-%d","eventType":"AwsApiCall","readOnly":false,"recipientAccountId":"111122223333"}`, i*3, step.name, step.params, i))
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, ev)
	}
	// A second access key for the backdoor user a minute later: a step
	// event that joins the sequence alert after it was raised.
	ev, err := cloudtrail.DecodeRecord([]byte(`{"eventVersion":"1.09","userIdentity":{"type":"IAMUser","principalId":"AIDAEXAMPLE","arn":"arn:aws:iam::111122223333:user/mallory","accountId":"111122223333","userName":"mallory"},
		"eventTime":"2026-03-02T10:01:00Z","eventSource":"iam.amazonaws.com","eventName":"CreateAccessKey","awsRegion":"us-east-1","sourceIPAddress":"203.0.113.50","userAgent":"aws-cli/2.15.0",
		"requestParameters":{"userName":"svc-backup"},"responseElements":null,"eventID":"step-3","eventType":"AwsApiCall","readOnly":false,"recipientAccountId":"111122223333"}`))
	if err != nil {
		t.Fatal(err)
	}
	return append(evs, ev)
}

// TestSequenceQuietsItsPartsInOneBatch: when a sequence alert and the
// alerts its step events raised are resolved in one batch, only the
// sequence is enqueued (its message lists the steps); every alert is
// still stored and counted, and the quieted ones are reported. Parts
// resolved in an earlier batch were notified then and stay so; a step
// event that joins the sequence alert after it was raised (its message
// went out without it) is notified on its own; the same batch again (a
// Lambda retry) enqueues what it did the first time.
func TestSequenceQuietsItsPartsInOneBatch(t *testing.T) {
	all, err := rules.Load()
	if err != nil {
		t.Fatal(err)
	}
	var rs []*detect.Rule
	for _, r := range all {
		if slices.Contains([]string{"iam-backdoor-admin-user", "iam-user-created", "admin-policy-attached", "access-key-created"}, r.ID) {
			rs = append(rs, r)
		}
	}
	if len(rs) != 4 {
		t.Fatalf("%d of the 4 rules in the catalog", len(rs))
	}
	eng, err := detect.New(rs, detect.Config{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name       string
		batches    [][]int // indexes into the steps
		enqueued   []string
		superseded int
		alerts     int
	}{
		{"one batch", [][]int{{0, 1, 2}}, []string{"iam-backdoor-admin-user"}, 3, 4},
		{"a batch a step", [][]int{{0}, {1}, {2}}, []string{"iam-user-created", "admin-policy-attached", "iam-backdoor-admin-user"}, 1, 4},
		{"a step after the sequence", [][]int{{0, 1, 2}, {3}}, []string{"iam-backdoor-admin-user", "iam-backdoor-admin-user", "access-key-created"}, 3, 5},
		// Its repeat goes no further.
		{"the same batch twice", [][]int{{0, 1, 2}, {0, 1, 2}}, []string{"iam-backdoor-admin-user"}, 3, 4},
		// A new process (a retry after a crash, say) replays it all.
		{"the same batch twice, restarted", [][]int{{0, 1, 2}, {0, 1, 2}}, []string{"iam-backdoor-admin-user", "iam-backdoor-admin-user"}, 6, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := openStore(t)
			var enqueued []string
			var p *pipeline.Pipeline
			restart := func() {
				var err error
				p, err = pipeline.New(st, pipeline.Options{Detector: eng, Enqueue: func(_ context.Context, a iamwatch.Alert) error {
					enqueued = append(enqueued, a.Rule)
					return nil
				}})
				if err != nil {
					t.Fatal(err)
				}
			}
			restart()
			steps := backdoorSteps(t)
			var total pipeline.Result
			for i, b := range tc.batches {
				if i > 0 && strings.HasSuffix(tc.name, "restarted") {
					restart()
				}
				var evs []iamwatch.Event
				for _, i := range b {
					evs = append(evs, steps[i])
				}
				res, err := p.Process(t.Context(), evs)
				if err != nil {
					t.Fatal(err)
				}
				total.Add(res)
			}
			slices.Sort(enqueued)
			want := slices.Sorted(slices.Values(tc.enqueued))
			if !slices.Equal(enqueued, want) {
				t.Errorf("enqueued %v, want %v", enqueued, want)
			}
			if total.Superseded != tc.superseded || total.NewAlerts != tc.alerts {
				t.Errorf("superseded %d, new alerts %d; want %d and %d", total.Superseded, total.NewAlerts, tc.superseded, tc.alerts)
			}
			stored, err := st.Alerts(t.Context(), iamwatch.AlertFilter{})
			if err != nil || len(stored) != tc.alerts {
				t.Errorf("stored alerts %d, %v; want %d", len(stored), err, tc.alerts)
			}
		})
	}
}
