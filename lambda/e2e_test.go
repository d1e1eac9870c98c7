package lambda_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awsdynamodb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/iamwatch/iamwatch"
	"github.com/iamwatch/iamwatch/detect"
	"github.com/iamwatch/iamwatch/internal/testserver"
	"github.com/iamwatch/iamwatch/lambda"
	"github.com/iamwatch/iamwatch/notify"
	nsns "github.com/iamwatch/iamwatch/notify/sns"
	"github.com/iamwatch/iamwatch/rules"
	"github.com/iamwatch/iamwatch/store/dynamodb"
)

var creds = credentials.NewStaticCredentialsProvider("test", "test", "")

// world is the serverless stack on loopback: dynalite for DynamoDB, goaws
// for the alert topic and a queue subscribed to it, and the real-time
// handler wired as cmd/iamwatch-lambda wires it.
type world struct {
	store   *dynamodb.Store
	ddb     *awsdynamodb.Client
	sqs     *sqs.Client
	subURL  string
	handler *lambda.Handler
}

func newWorld(t *testing.T) *world {
	t.Helper()
	ctx := t.Context()
	dyn := testserver.StartDynalite(t)
	aws2 := testserver.StartGoAWS(t, testserver.GoAWSOptions{
		Topics: []testserver.GoAWSTopic{{Name: "iamwatch-alerts", Subscriptions: []testserver.GoAWSSubscription{{QueueName: "alert-subscriber"}}}},
	})
	w := &world{}
	w.ddb = awsdynamodb.New(awsdynamodb.Options{Region: dyn.Region, BaseEndpoint: aws.String(dyn.Endpoint), Credentials: creds})
	st, err := dynamodb.Open(ctx, dynamodb.Config{Client: w.ddb, Prefix: "e2e-"})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.CreateTables(ctx); err != nil {
		t.Fatal(err)
	}
	w.store = st
	snsClient := sns.New(sns.Options{Region: aws2.Region, BaseEndpoint: aws.String(aws2.Endpoint), Credentials: creds})
	w.sqs = sqs.New(sqs.Options{Region: aws2.Region, BaseEndpoint: aws.String(aws2.Endpoint), Credentials: creds})
	q, err := w.sqs.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("alert-subscriber")})
	if err != nil {
		t.Fatal(err)
	}
	w.subURL = aws.ToString(q.QueueUrl)

	rs, err := rules.Load()
	if err != nil {
		t.Fatal(err)
	}
	engine, err := detect.New(rs, detect.Config{})
	if err != nil {
		t.Fatal(err)
	}
	sink, err := nsns.NewStructured("alert-topic", aws2.TopicARN("iamwatch-alerts"), snsClient)
	if err != nil {
		t.Fatal(err)
	}
	sinks := map[string]notify.Sink{"alert-topic": sink}
	cfg := notify.Config{Sinks: map[string]notify.SinkConfig{"alert-topic": {Type: "topic"}}}
	// The handler's log goes to the test's output: when a delivery does not
	// arrive, it says what the dispatcher did.
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
	router, err := notify.NewRouter(cfg, st, time.Now, nil)
	if err != nil {
		t.Fatal(err)
	}
	w.handler, err = lambda.New(lambda.Deps{
		Store:    st,
		Detector: engine,
		Enqueue: func(ctx context.Context, a iamwatch.Alert) error {
			_, err := router.Enqueue(ctx, a)
			return err
		},
		Publish: lambda.Publisher(st, sinks, notify.RetryPolicy{}, time.Now, log),
		Logger:  log,
	})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// eventCount counts the events in the events table (not the days' shard
// markers, whose event_id starts with '#').
func (w *world) eventCount(t *testing.T) int {
	t.Helper()
	out, err := w.ddb.Scan(t.Context(), &awsdynamodb.ScanInput{TableName: aws.String(w.store.Tables().Events), Select: "COUNT",
		FilterExpression: aws.String("NOT begins_with(event_id, :m)"), ExpressionAttributeValues: map[string]types.AttributeValue{":m": &types.AttributeValueMemberS{Value: "#"}}})
	if err != nil {
		t.Fatal(err)
	}
	return int(out.Count)
}

// received drains the subscriber queue: it polls until want messages came
// (at most 15 s: goaws is slow on a loaded machine; or, for want 0, for a
// second) and returns the AlertMessages in them. A receive whose response
// is lost and retried by the SDK hides its messages for 3 s only, and a
// message received twice (by its SQS message ID) counts once: two
// notifications are two messages.
func (w *world) received(t *testing.T, want int) []nsns.AlertMessage {
	t.Helper()
	var out []nsns.AlertMessage
	seen := map[string]bool{}
	deadline := time.Now().Add(15 * time.Second)
	if want == 0 {
		deadline = time.Now().Add(time.Second)
	}
	for time.Now().Before(deadline) && (want == 0 || len(out) < want) {
		res, err := w.sqs.ReceiveMessage(t.Context(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(w.subURL), MaxNumberOfMessages: 10, VisibilityTimeout: 3})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range res.Messages {
			if _, err := w.sqs.DeleteMessage(t.Context(), &sqs.DeleteMessageInput{QueueUrl: aws.String(w.subURL), ReceiptHandle: m.ReceiptHandle}); err != nil {
				t.Fatal(err)
			}
			if seen[aws.ToString(m.MessageId)] {
				continue
			}
			seen[aws.ToString(m.MessageId)] = true
			var env struct{ Type, TopicArn, Subject, Message string }
			if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &env); err != nil {
				t.Fatalf("subscriber message is not an SNS envelope: %v: %s", err, aws.ToString(m.Body))
			}
			am, err := nsns.DecodeAlertMessage([]byte(env.Message))
			if err != nil {
				t.Fatalf("subscriber got %q: %v", env.Message, err)
			}
			out = append(out, am)
		}
		if len(res.Messages) == 0 {
			time.Sleep(50 * time.Millisecond)
		}
	}
	if len(out) != want {
		w.logDeliveries(t)
		t.Fatalf("subscriber received %d alert messages, want %d", len(out), want)
	}
	return out
}

// logDeliveries logs every stored alert's deliveries, to tell a send that
// failed or was deferred from one that never reached the subscriber.
func (w *world) logDeliveries(t *testing.T) {
	t.Helper()
	as, err := w.store.Alerts(t.Context(), iamwatch.AlertFilter{})
	if err != nil {
		t.Logf("alerts: %v", err)
		return
	}
	for _, a := range as {
		ds, err := w.store.Deliveries(t.Context(), a.DedupKey)
		t.Logf("alert %s (%s): deliveries %+v, %v", a.DedupKey, a.Rule, ds, err)
	}
}

// TestEndToEnd: EventBridge event → real-time handler → DynamoDB → SNS →
// SQS subscriber; a repeat changes nothing; an SQS batch with one poisoned
// message reports only it.
func TestEndToEnd(t *testing.T) {
	w := newWorld(t)
	ctx := t.Context()
	rootSignin := fixture(t, "eventbridge-root-signin.json")

	if _, err := w.handler.Invoke(ctx, rootSignin); err != nil {
		t.Fatalf("real-time handler: %v", err)
	}
	if n := w.eventCount(t); n != 1 {
		t.Errorf("events table holds %d items, want 1", n)
	}
	alerts, err := w.store.Alerts(ctx, iamwatch.AlertFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(alerts) != 1 || alerts[0].Rule != "root-console-signin" {
		t.Fatalf("stored alerts = %+v, want one root-console-signin", alerts)
	}
	msgs := w.received(t, 1)
	got := msgs[0].Alerts
	if len(got) != 1 || got[0].Rule != "root-console-signin" || got[0].DedupKey != alerts[0].DedupKey ||
		got[0].SourceIP != "203.0.113.45" || !slices.Equal(got[0].EventIDs, []string{"e2e0c0de-1a2b-4c3d-8e9f-000000000001"}) {
		t.Errorf("subscriber got %+v, want the stored root sign-in alert", got)
	}
	ds, err := w.store.Deliveries(ctx, alerts[0].DedupKey)
	if err != nil || len(ds) != 1 || ds[0].Status != iamwatch.DeliverySent {
		t.Errorf("deliveries = %+v, %v; want one sent", ds, err)
	}

	t.Run("delivered twice", func(t *testing.T) {
		if _, err := w.handler.Invoke(ctx, rootSignin); err != nil {
			t.Fatalf("second delivery: %v", err)
		}
		if n := w.eventCount(t); n != 1 {
			t.Errorf("events table holds %d items after a repeat, want 1", n)
		}
		if as, _ := w.store.Alerts(ctx, iamwatch.AlertFilter{}); len(as) != 1 {
			t.Errorf("stored alerts after a repeat = %d, want 1", len(as))
		}
		w.received(t, 0)
	})

	t.Run("sqs batch with a poisoned message", func(t *testing.T) {
		createUser := fixture(t, "eventbridge-create-user.json")
		var detail struct {
			Detail json.RawMessage `json:"detail"`
		}
		if err := json.Unmarshal(createUser, &detail); err != nil {
			t.Fatal(err)
		}
		record := strings.Replace(string(detail.Detail), "000000000002", "000000000003", 1)
		batch := sqsBatch(
			string(createUser), // a forwarded EventBridge event
			`{"Records": [{"eventVersion": "1.09", "eventTime": "2024-06-03T09:21:00Z", "this is": "not CloudTrail"}]}`,
			`{"Records": [`+record+`]}`, // a trail file's worth of records
			`{"Event": "s3:TestEvent", "Service": "Amazon S3"}`,
		)
		out, err := w.handler.Invoke(ctx, batch)
		if err != nil {
			t.Fatal(err)
		}
		resp, ok := out.(events.SQSEventResponse)
		if !ok {
			t.Fatalf("SQS invocation returned %T, want events.SQSEventResponse", out)
		}
		if want := []events.SQSBatchItemFailure{{ItemIdentifier: "msg-1"}}; !slices.Equal(resp.BatchItemFailures, want) {
			t.Errorf("batchItemFailures = %+v, want only the poisoned msg-1", resp.BatchItemFailures)
		}
		if n := w.eventCount(t); n != 3 {
			t.Errorf("events table holds %d items, want 3 (root sign-in and two CreateUser)", n)
		}
		// Both CreateUser events raise iam-user-created alerts.
		as, err := w.store.Alerts(ctx, iamwatch.AlertFilter{Rule: "iam-user-created"})
		if err != nil || len(as) == 0 {
			t.Errorf("iam-user-created alerts = %+v, %v; want some", as, err)
		}
		w.received(t, len(as))
	})
}

// sqsBatch is an SQS event of bodies, with message IDs msg-0, msg-1, …
func sqsBatch(bodies ...string) []byte {
	var ev events.SQSEvent
	for i, b := range bodies {
		ev.Records = append(ev.Records, events.SQSMessage{
			MessageId: fmt.Sprintf("msg-%d", i), Body: b, EventSource: "aws:sqs",
			EventSourceARN: "arn:aws:sqs:us-east-1:111122223333:iamwatch-ingest", AWSRegion: "us-east-1",
		})
	}
	b, err := json.Marshal(ev)
	if err != nil {
		panic(err)
	}
	return b
}

// A rule whose condition fails on an event is logged and recorded in the
// checkpoints table, where `iamwatch status --stack` shows it; the event is
// still stored and the invocation succeeds (a retry would fail the same way).
func TestRuleErrorsRecorded(t *testing.T) {
	w := newWorld(t)
	ctx := t.Context()
	bad, err := detect.ParseRule("bad.yaml", []byte("id: bad-rule\ntitle: Bad\nseverity: low\nmatch: {eventName: [CreateUser]}\ncondition: 'int(request.userName) > 0'\nsummary: s\n"))
	if err != nil {
		t.Fatal(err)
	}
	engine, err := detect.New([]*detect.Rule{bad}, detect.Config{})
	if err != nil {
		t.Fatal(err)
	}
	var logs strings.Builder
	h, err := lambda.New(lambda.Deps{Store: w.store, Detector: engine, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.Invoke(ctx, fixture(t, "eventbridge-create-user.json")); err != nil {
		t.Fatalf("invoke: %v", err)
	}
	if !strings.Contains(logs.String(), `msg="rule failed to evaluate" rule=bad-rule events=1`) {
		t.Errorf("log lacks the rule failure:\n%s", logs.String())
	}
	cp, ok, err := w.store.Checkpoint(ctx, "rule/bad-rule")
	if err != nil || !ok || cp.Processed != 1 || cp.Status != "failing" || !strings.Contains(cp.LastError, "condition:") {
		t.Errorf("checkpoint rule/bad-rule = %+v, %v, %v; want failing, 1 event, the condition's error", cp, ok, err)
	}
	if n := w.eventCount(t); n != 1 {
		t.Errorf("events table holds %d items, want the event stored", n)
	}
}
