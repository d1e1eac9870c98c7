package lambda_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/iamwatch/iamwatch"
	"github.com/iamwatch/iamwatch/detect"
	"github.com/iamwatch/iamwatch/geoip"
	"github.com/iamwatch/iamwatch/lambda"
	"github.com/iamwatch/iamwatch/notify"
	"github.com/iamwatch/iamwatch/notify/notifytest"
	nsns "github.com/iamwatch/iamwatch/notify/sns"
	"github.com/iamwatch/iamwatch/notify/webhook"
	"github.com/iamwatch/iamwatch/rules"
	"github.com/iamwatch/iamwatch/store/sqlite"
)

func TestDetect(t *testing.T) {
	tests := []struct {
		name    string
		payload string
		want    lambda.Kind
		wantErr bool
	}{
		{"eventbridge", `{"detail-type":"AWS API Call via CloudTrail","source":"aws.iam","detail":{"eventID":"x"}}`, lambda.KindEventBridge, false},
		{"sqs", `{"Records":[{"messageId":"1","body":"{}","eventSource":"aws:sqs"}]}`, lambda.KindSQS, false},
		{"sns", `{"Records":[{"EventSource":"aws:sns","Sns":{"Message":"{}"}}]}`, lambda.KindSNS, false},
		{"task", `{"iamwatch":"poll"}`, lambda.KindTask, false},
		{"eventbridge without detail", `{"detail-type":"Scheduled Event"}`, "", true},
		{"trail file", `{"Records":[{"eventSource":"iam.amazonaws.com"}]}`, "", true},
		{"not json", `hello`, "", true},
		{"array", `[1,2]`, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := lambda.Detect([]byte(tt.payload))
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("Detect = %q, %v; want %q, error %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

// TestNotifier: alerts from the topic go through the outbox to a webhook
// once, however often SNS delivers them; a bad message is skipped.
func TestNotifier(t *testing.T) {
	ctx := t.Context()
	st, err := sqlite.Open(ctx, ":memory:", sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	a := notifytest.Alert()
	if _, err := iamwatch.ClaimAlert(ctx, st, a); err != nil {
		t.Fatal(err)
	}
	srv := notifytest.NewServer(t)
	now := notifytest.Fixed(time.Date(2024, 6, 3, 10, 0, 0, 0, time.UTC))
	hook, err := webhook.New("webhook", webhook.Config{URL: srv.URL}, srv.Client(), now)
	if err != nil {
		t.Fatal(err)
	}
	sinks := map[string]notify.Sink{"webhook": hook}
	cfg := notify.Config{Sinks: map[string]notify.SinkConfig{"webhook": {Type: "webhook"}}}
	router, err := notify.NewRouter(cfg, st, now, nil)
	if err != nil {
		t.Fatal(err)
	}
	flush := lambda.Flusher(st, sinks, notify.RetryPolicy{}, now, nil)
	h, err := lambda.New(lambda.Deps{Notify: lambda.Notifier(router, flush), Flush: flush})
	if err != nil {
		t.Fatal(err)
	}
	msg, err := nsns.EncodeAlertMessage([]iamwatch.Alert{a})
	if err != nil {
		t.Fatal(err)
	}
	payload := snsEvent(string(msg), "not an alert message")
	for range 2 { // SNS delivers at least once.
		if _, err := h.Invoke(ctx, payload); err != nil {
			t.Fatal(err)
		}
	}
	if n := srv.Accepted(); n != 1 {
		t.Errorf("webhook received %d messages, want 1", n)
	}
	ds, err := st.Deliveries(ctx, a.DedupKey)
	if err != nil || len(ds) != 1 || ds[0].Status != iamwatch.DeliverySent {
		t.Errorf("deliveries = %+v, %v", ds, err)
	}
}

func snsEvent(messages ...string) []byte {
	var ev events.SNSEvent
	for i, m := range messages {
		ev.Records = append(ev.Records, events.SNSEventRecord{EventSource: "aws:sns", SNS: events.SNSEntity{MessageID: fmt.Sprint(i), Message: m, TopicArn: "arn:aws:sns:us-east-1:111122223333:iamwatch-alerts"}})
	}
	b, _ := json.Marshal(ev)
	return b
}

type pollerFunc func(ctx context.Context) error

func (f pollerFunc) PollOnce(ctx context.Context) error { return f(ctx) }

func TestTasks(t *testing.T) {
	polled := 0
	h, err := lambda.New(lambda.Deps{Poller: pollerFunc(func(context.Context) error { polled++; return nil })})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		payload string
		wantErr string
	}{
		{`{"iamwatch":"poll"}`, ""},
		{`{"iamwatch":"export"}`, "not configured for exports"},
		{`{"iamwatch":"flush"}`, "not configured for flushing"},
		{`{"iamwatch":"dance"}`, `unknown task "dance"`},
		{`{"detail-type":"AWS API Call via CloudTrail","detail":{"eventID":"x"}}`, "not configured for CloudTrail events"},
		{`{"Records":[{"EventSource":"aws:sns"}]}`, "not configured for alert notifications"},
	}
	for _, tt := range tests {
		_, err := h.Invoke(t.Context(), []byte(tt.payload))
		if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
			t.Errorf("Invoke(%s) = %v, want error containing %q", tt.payload, err, tt.wantErr)
		}
	}
	if polled != 1 {
		t.Errorf("polled %d times, want 1", polled)
	}
}

// objects is an ObjectReader over a map.
type objects map[string]string

func (o objects) Open(_ context.Context, bucket, key string) (io.ReadCloser, error) {
	s, ok := o[bucket+"/"+key]
	if !ok {
		return nil, errors.New("NoSuchKey")
	}
	return io.NopCloser(strings.NewReader(s)), nil
}

// newMemStore is the smallest pipeline.Store, for tests and benchmarks that
// measure the handler rather than a database.
func newMemStore() *detect.MemoryState { return detect.NewMemoryState() }

func newEngine(t testing.TB) *detect.Engine {
	t.Helper()
	rs, err := rules.Load()
	if err != nil {
		t.Fatal(err)
	}
	e, err := detect.New(rs, detect.Config{})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// TestSQSObjects: S3 notifications are read through the ObjectReader; a
// missing object fails only its message; digest files are skipped.
func TestSQSObjects(t *testing.T) {
	record := func(id string) string {
		return `{"eventVersion":"1.09","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/a","accountId":"111122223333","userName":"a"},` +
			`"eventTime":"2024-06-03T09:00:00Z","eventSource":"iam.amazonaws.com","eventName":"ListUsers","awsRegion":"us-east-1",` +
			`"sourceIPAddress":"198.51.100.1","eventID":"` + id + `","eventType":"AwsApiCall","recipientAccountId":"111122223333"}`
	}
	st := newMemStore()
	var published [][]string
	h, err := lambda.New(lambda.Deps{
		Store: st, Detector: newEngine(t),
		Enqueue: func(context.Context, iamwatch.Alert) error { return nil },
		Publish: func(_ context.Context, keys []string) error { published = append(published, keys); return nil },
		Objects: objects{
			"trail/AWSLogs/a.json": `{"Records":[` + record("o-1") + `,` + record("o-2") + `]}`,
			"trail/AWSLogs/111122223333/CloudTrail-Digest/x.json.gz": `{"digestStartTime":"2024-06-03T09:00:00Z"}`,
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	note := func(key string) string {
		return `{"Records":[{"eventSource":"aws:s3","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"trail"},"object":{"key":"` + key + `"}}}]}`
	}
	// A notification of a whole log archive also names other services'
	// files (keys URL-encoded, as S3 sends them): skipped by their keys, not
	// downloaded (none is in objects) and not failed.
	config := "AWSLogs/111122223333/Config/us-east-1/2024/6/3/ConfigHistory/" +
		"111122223333_Config_us-east-1_ConfigHistory_AWS%3A%3AIAM%3A%3AUser_20240603T090000Z_20240603T100000Z_1.json.gz"
	flow := "AWSLogs/111122223333/vpcflowlogs/us-east-1/2024/06/03/111122223333_vpcflowlogs_us-east-1_fl-1_20240603T0900Z_ab.log.gz"
	out, err := h.Invoke(t.Context(), sqsBatch(note("AWSLogs/a.json"), note("AWSLogs/missing.json"),
		note("AWSLogs/111122223333/CloudTrail-Digest/x.json.gz"), "garbage", note(config), note(flow)))
	if err != nil {
		t.Fatal(err)
	}
	resp := out.(events.SQSEventResponse)
	want := []events.SQSBatchItemFailure{{ItemIdentifier: "msg-1"}, {ItemIdentifier: "msg-3"}}
	if !slices.Equal(resp.BatchItemFailures, want) {
		t.Errorf("batchItemFailures = %+v, want %+v", resp.BatchItemFailures, want)
	}
	if st.EventCount() != 2 {
		t.Errorf("stored %d events, want 2", st.EventCount())
	}
	if len(published) != 0 {
		t.Errorf("published %v for events no rule matches", published)
	}
	// A store failure fails the message, and is retried by SQS.
	h2, _ := lambda.New(lambda.Deps{Store: failingStore{newMemStore()}, Objects: objects{"trail/AWSLogs/a.json": `{"Records":[` + record("o-3") + `]}`}})
	out, _ = h2.Invoke(t.Context(), sqsBatch(note("AWSLogs/a.json")))
	if got := out.(events.SQSEventResponse).BatchItemFailures; len(got) != 1 {
		t.Errorf("store failure: batchItemFailures = %+v, want msg-0", got)
	}
}

type failingStore struct{ *detect.MemoryState }

func (failingStore) PutEvents(context.Context, []iamwatch.Event) (int, error) {
	return 0, errors.New("ProvisionedThroughputExceededException")
}

func readFixture(name string) ([]byte, error) { return os.ReadFile(filepath.Join("testdata", name)) }

// cloudWatchAlarm is the JSON CloudWatch publishes to an SNS topic when an
// alarm changes state (the shape documented for alarm actions).
const cloudWatchAlarm = `{"AlarmName":"iamwatch-DeadLetterDepthAlarm-1A2B3C","AlarmDescription":"iamwatch events or invocations in the dead-letter queue",` +
	`"AWSAccountId":"111122223333","AlarmConfigurationUpdatedTimestamp":"2024-06-01T09:00:00.000+0000","NewStateValue":"ALARM",` +
	`"NewStateReason":"Threshold Crossed: 1 out of the last 1 datapoints [3.0 (03/06/24 09:55:00)] was greater than the threshold (0.0).",` +
	`"StateChangeTime":"2024-06-03T10:00:00.000+0000","Region":"US East (N. Virginia)","AlarmArn":"arn:aws:cloudwatch:us-east-1:111122223333:alarm:iamwatch-DeadLetterDepthAlarm-1A2B3C",` +
	`"OldStateValue":"OK","Trigger":{"MetricName":"ApproximateNumberOfMessagesVisible","Namespace":"AWS/SQS","Statistic":"MAXIMUM","Period":300,"EvaluationPeriods":1,"ComparisonOperator":"GreaterThanThreshold","Threshold":0.0}}`

// TestNotifierAlarm: the stack's own CloudWatch alarms publish to the alert
// topic; the notifier turns each state change into an alert and delivers it
// to the webhook once, however often SNS delivers it.
func TestNotifierAlarm(t *testing.T) {
	ctx := t.Context()
	st, err := sqlite.Open(ctx, ":memory:", sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	srv := notifytest.NewServer(t)
	now := notifytest.Fixed(time.Date(2024, 6, 3, 10, 0, 5, 0, time.UTC))
	hook, err := webhook.New("webhook", webhook.Config{URL: srv.URL}, srv.Client(), now)
	if err != nil {
		t.Fatal(err)
	}
	sinks := map[string]notify.Sink{"webhook": hook}
	router, err := notify.NewRouter(notify.Config{Sinks: map[string]notify.SinkConfig{"webhook": {Type: "webhook"}}}, st, now, nil)
	if err != nil {
		t.Fatal(err)
	}
	flush := lambda.Flusher(st, sinks, notify.RetryPolicy{}, now, nil)
	h, err := lambda.New(lambda.Deps{Notify: lambda.Notifier(router, flush), Flush: flush, Alarms: st})
	if err != nil {
		t.Fatal(err)
	}
	payload := snsEvent(cloudWatchAlarm)
	for range 2 {
		if _, err := h.Invoke(ctx, payload); err != nil {
			t.Fatal(err)
		}
	}
	reqs := srv.Requests()
	if n := srv.Accepted(); n != 1 || len(reqs) != 1 {
		t.Fatalf("webhook received %d messages (%d accepted), want 1", len(reqs), n)
	}
	body := string(reqs[0].Body)
	for _, want := range []string{"iamwatch-DeadLetterDepthAlarm-1A2B3C", "ALARM", "Threshold Crossed"} {
		if !strings.Contains(body, want) {
			t.Errorf("webhook message lacks %q: %s", want, body)
		}
	}
}

// TestGeoIP: with a GeoIP database in the engine (IAMWATCH_GEOIP in the
// function), alerts carry the source IP's country and network,
// and two console sign-ins through EventBridge, New York then Amsterdam an
// hour later, raise impossible travel naming both places.
func TestGeoIP(t *testing.T) {
	rs, err := rules.Load()
	if err != nil {
		t.Fatal(err)
	}
	db, err := geoip.Sample()
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	eng, err := detect.New(rs, detect.Config{Geo: db})
	if err != nil {
		t.Fatal(err)
	}
	st := newMemStore()
	var enqueued []iamwatch.Alert
	h, err := lambda.New(lambda.Deps{
		Store: st, Detector: eng,
		Enqueue: func(_ context.Context, a iamwatch.Alert) error { enqueued = append(enqueued, a); return nil },
		Publish: func(context.Context, []string) error { return nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	signin := func(id, at, ip string) string {
		return `{"version":"0","id":"` + id + `","detail-type":"AWS Console Sign In via CloudTrail","source":"aws.signin","account":"111122223333",` +
			`"time":"` + at + `","region":"us-east-1","resources":[],"detail":{"eventVersion":"1.09",` +
			`"userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/alice","accountId":"111122223333","userName":"alice"},` +
			`"eventTime":"` + at + `","eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","awsRegion":"us-east-1",` +
			`"sourceIPAddress":"` + ip + `","responseElements":{"ConsoleLogin":"Success"},"additionalEventData":{"MFAUsed":"Yes"},` +
			`"eventID":"` + id + `","eventType":"AwsConsoleSignIn","recipientAccountId":"111122223333"}}`
	}
	for _, p := range []string{
		signin("9e0a0000-0000-4000-8000-000000000001", "2026-03-02T08:00:00Z", "203.0.113.10"),
		signin("9e0a0000-0000-4000-8000-000000000002", "2026-03-02T09:00:00Z", "192.0.2.9"),
	} {
		if _, err := h.Invoke(t.Context(), []byte(p)); err != nil {
			t.Fatal(err)
		}
	}
	var travel *iamwatch.Alert
	for i := range enqueued {
		if enqueued[i].Rule == "signin-impossible-travel" {
			travel = &enqueued[i]
		}
	}
	if travel == nil {
		t.Fatalf("no impossible-travel alert among %d enqueued", len(enqueued))
	}
	if travel.Country != "NL" || travel.ASN != "AS64500" || !strings.Contains(travel.Summary, "from Amsterdam, NL") ||
		!strings.Contains(travel.Summary, "after a sign-in from New York, US (203.0.113.10)") || !strings.Contains(travel.Summary, "5,863 km apart, 5,863 km/h") {
		t.Errorf("impossible travel: %s %s: %s", travel.Country, travel.ASN, travel.Summary)
	}
}
