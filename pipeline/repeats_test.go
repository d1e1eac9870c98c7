package pipeline

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/iamwatch/iamwatch"
	"github.com/iamwatch/iamwatch/cloudtrail"
	"github.com/iamwatch/iamwatch/detect"
	"github.com/iamwatch/iamwatch/detect/detecttest"
	"github.com/iamwatch/iamwatch/store/sqlite"
)

// seeing is a Detector that records the events each Match call was given.
type seeing struct {
	e    *detect.Engine
	seen [][]string
}

func (s *seeing) Match(ctx context.Context, events []iamwatch.Event) (*detect.Batch, error) {
	var ids []string
	for _, ev := range events {
		ids = append(ids, ev.ID)
	}
	s.seen = append(s.seen, ids)
	return s.e.Match(ctx, events)
}

// failingCommit fails CommitAlerts while fail is set.
type failingCommit struct {
	*sqlite.Store
	fail bool
}

func (f *failingCommit) CommitAlerts(ctx context.Context, hits []iamwatch.Hit, resolve iamwatch.Resolver) ([]iamwatch.Claim, error) {
	if f.fail {
		return nil, errors.New("disk full")
	}
	return f.Store.CommitAlerts(ctx, hits, resolve)
}

// decoded returns the event of a CloudTrail record, as the readers give it.
func decoded(t *testing.T, id, name, identityType string, at time.Time, userAgent string) iamwatch.Event {
	t.Helper()
	ident := `{"type":"` + identityType + `","principalId":"AIDAEXAMPLE","arn":"arn:aws:iam::111122223333:user/alice","accountId":"111122223333","userName":"alice"}`
	if identityType == "AWSService" {
		ident = `{"type":"AWSService","invokedBy":"ec2.amazonaws.com"}`
	}
	ev, err := cloudtrail.DecodeRecord([]byte(`{"eventVersion":"1.08","userIdentity":` + ident + `,"eventTime":"` + at.UTC().Format(time.RFC3339) +
		`","eventSource":"iam.amazonaws.com","eventName":"` + name + `","awsRegion":"us-east-1","sourceIPAddress":"198.51.100.7","userAgent":"` + userAgent +
		`","eventID":"` + id + `","eventType":"AwsApiCall","readOnly":false,"recipientAccountId":"111122223333"}`))
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

var t0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

func newTestStore(t *testing.T) *sqlite.Store {
	t.Helper()
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "iamwatch.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func TestRepeatsGoNoFurther(t *testing.T) {
	st := newTestStore(t)
	det := &seeing{e: detecttest.Names(t, "user-created", "CreateUser")}
	var enqueued []string
	p, err := New(st, Options{Filter: Filter{Keep: KeepIdentity, DropServiceEvents: true}, Detector: det,
		Enqueue: func(_ context.Context, a iamwatch.Alert) error {
			enqueued = append(enqueued, a.EventID)
			return nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	a := decoded(t, "a", "CreateUser", "IAMUser", t0, "aws-cli/2.15.0")
	b := decoded(t, "b", "ListUsers", "IAMUser", t0.Add(time.Minute), "aws-cli/2.15.0")
	svc := decoded(t, "s", "ListUsers", "AWSService", t0.Add(2*time.Minute), "ec2.amazonaws.com") // not kept
	// The same event in other bytes (another delivery path's formatting):
	// not a repeat, the store counts it as a duplicate.
	aOther := decoded(t, "a", "CreateUser", "IAMUser", t0, "aws-cli/2.15.0")
	aOther.Raw = append([]byte(" "), aOther.Raw...)
	// A different record under a's ID: a conflict, whatever came before.
	aForged := decoded(t, "a", "DeleteUser", "IAMUser", t0, "aws-cli/2.15.0")
	aLater := decoded(t, "a", "CreateUser", "IAMUser", t0.Add(time.Hour), "aws-cli/2.15.0")
	handMade := iamwatch.Event{ID: "h", Time: t0, Source: "iam.amazonaws.com", Name: "CreateUser", UserName: "bob", IdentityType: "IAMUser"}

	type want struct {
		seen []string
		res  Result
	}
	steps := []struct {
		name   string
		events []iamwatch.Event
		want   want
	}{
		{"first", []iamwatch.Event{a, b, svc, a, svc, handMade},
			// a's and svc's repeats in the batch go no further; a's is a
			// duplicate (kept), svc's is not kept, as svc.
			want{[]string{"a", "b", "s", "h"}, Result{Events: 6, Kept: 4, Stored: 3, Duplicates: 1, Alerts: 2, NewAlerts: 2}}},
		{"repeats", []iamwatch.Event{svc, a, b, handMade},
			// The hand-made event has no bytes to compare: it goes on,
			// and the store finds it a duplicate.
			want{[]string{"h"}, Result{Events: 4, Kept: 3, Duplicates: 3, Alerts: 1}}},
		{"other bytes and a forged record", []iamwatch.Event{aOther, aForged},
			want{[]string{"a"}, Result{Events: 2, Kept: 1, Duplicates: 1, Alerts: 1, Conflicts: 1}}},
		// A record a rule matches, under the ID of a different stored
		// one, delivered twice: both copies are conflicts.
		{"a forged match twice", []iamwatch.Event{aLater, aLater},
			// (Match sees it once, then the batch without it.)
			want{[]string{"a"}, Result{Events: 2, Conflicts: 2}}},
	}
	for _, s := range steps {
		det.seen = nil
		batch := slices.Clone(s.events)
		res, err := p.Process(t.Context(), batch)
		if err != nil {
			t.Fatal(err)
		}
		for i := range batch {
			if batch[i].ID != s.events[i].ID || string(batch[i].Raw) != string(s.events[i].Raw) {
				t.Fatalf("%s: Process changed the caller's batch at %d", s.name, i)
			}
		}
		res.FirstConflict = ""
		if got := det.seen[0]; !slices.Equal(got, s.want.seen) {
			t.Errorf("%s: matched %v, want %v", s.name, got, s.want.seen)
		}
		if res.Events != s.want.res.Events || res.Kept != s.want.res.Kept || res.Stored != s.want.res.Stored ||
			res.Duplicates != s.want.res.Duplicates || res.Alerts != s.want.res.Alerts || res.NewAlerts != s.want.res.NewAlerts ||
			res.Conflicts != s.want.res.Conflicts {
			t.Errorf("%s: result %+v, want %+v", s.name, res, s.want.res)
		}
	}
	stored, err := st.Events(t.Context(), sqlite.EventFilter{})
	var ids []string
	for _, ev := range stored {
		ids = append(ids, ev.ID)
	}
	if slices.Sort(ids); err != nil || !slices.Equal(ids, []string{"a", "b", "h"}) {
		t.Errorf("stored %v (%v), want a, b and h", ids, err)
	}
	// An alert is enqueued again only for what was matched again: the
	// hand-made event, and a's record in other bytes.
	if !slices.Equal(enqueued, []string{"a", "h", "h", "a"}) {
		t.Errorf("enqueued %v, want a and h, then h, then a", enqueued)
	}
}

func TestRepeatsOfAFailedBatchAreProcessed(t *testing.T) {
	st := &failingCommit{Store: newTestStore(t), fail: true}
	det := &seeing{e: detecttest.Names(t, "user-created", "CreateUser")}
	var enqueued []string
	p, err := New(st, Options{Detector: det, Enqueue: func(_ context.Context, a iamwatch.Alert) error {
		enqueued = append(enqueued, a.EventID)
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	batch := []iamwatch.Event{decoded(t, "a", "CreateUser", "IAMUser", t0, "aws-cli/2.15.0")}
	if _, err := p.Process(t.Context(), batch); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("Process with a failing commit: %v", err)
	}
	st.fail = false
	// The retry must still claim and deliver: the failed batch was not
	// taken for processed.
	res, err := p.Process(t.Context(), batch)
	if err != nil {
		t.Fatal(err)
	}
	if len(det.seen) != 2 || !slices.Equal(det.seen[1], []string{"a"}) || res.NewAlerts != 1 || !slices.Equal(enqueued, []string{"a"}) {
		t.Errorf("retry: matched %v, result %+v, enqueued %v", det.seen, res, enqueued)
	}
}

func TestRepeatSetIsBounded(t *testing.T) {
	s := newRepeatSet()
	evs := make([]iamwatch.Event, 2*repeatSlotsMax)
	for i := range evs {
		evs[i] = iamwatch.Event{ID: strconv.Itoa(i), Raw: []byte{byte(i), byte(i >> 8), byte(i >> 16)}}
	}
	s.learn(evs, func(int) (bool, bool) { return true, false })
	if len(s.slots) != repeatSlotsMax || s.used > repeatSlotsMax {
		t.Fatalf("%d slots, %d used; want at most %d", len(s.slots), s.used, repeatSlotsMax)
	}
	// The latest events are remembered (most of them: direct mapped).
	rest, _, kept, _, _ := s.split(slices.Clone(evs[len(evs)-1000:]), false)
	if kept < 900 || len(rest)+kept != 1000 {
		t.Errorf("of the last 1000 events learned, %d were taken for repeats", kept)
	}
	// The same ID in other bytes is not a repeat.
	other := evs[len(evs)-1]
	other.Raw = []byte("other")
	if rest, _, kept, notKept, _ := s.split([]iamwatch.Event{other}, false); len(rest) != 1 || kept+notKept != 0 {
		t.Errorf("same ID, other bytes: taken for a repeat")
	}
}
