package sqs_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/url"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/iamwatch/iamwatch"
	"github.com/iamwatch/iamwatch/detect/detecttest"
	"github.com/iamwatch/iamwatch/internal/syncbuf"
	"github.com/iamwatch/iamwatch/internal/testserver"
	"github.com/iamwatch/iamwatch/pipeline"
	"github.com/iamwatch/iamwatch/source"
	"github.com/iamwatch/iamwatch/source/sqs"
	"github.com/iamwatch/iamwatch/store/sqlite"
)

const (
	bucket  = "trail"
	account = "111122223333"
	queue   = "work"
	dlq     = "work-dlq"
	topic   = "trail-topic"
)

// env is goaws (SQS and SNS) and the S3 server, reached through the SDK's
// standard endpoint variables, with a queue whose redrive policy sends a
// message to the dead-letter queue at its second receive.
type env struct {
	goaws    *testserver.GoAWS
	s3       *testserver.S3
	aws      aws.Config
	queue    *awssqs.Client
	queueURL string
	dlqURL   string
	seq      int
}

func newEnv(t testing.TB) *env {
	t.Helper()
	g := testserver.StartGoAWS(t, testserver.GoAWSOptions{
		Queues: []string{dlq},
		Topics: []testserver.GoAWSTopic{{Name: topic, Subscriptions: []testserver.GoAWSSubscription{{QueueName: queue}}}},
	})
	e := &env{goaws: g, s3: testserver.StartS3(t, bucket)}
	t.Setenv("AWS_ENDPOINT_URL_SQS", g.Endpoint)
	t.Setenv("AWS_ENDPOINT_URL_SNS", g.Endpoint)
	t.Setenv("AWS_ENDPOINT_URL_S3", e.s3.URL)
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIAFAKE111122223333")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_REGION", g.Region)
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	var err error
	if e.aws, err = awsconfig.LoadDefaultConfig(context.Background()); err != nil {
		t.Fatal(err)
	}
	e.queue = awssqs.NewFromConfig(e.aws)
	ctx := context.Background()
	for name, dst := range map[string]*string{queue: &e.queueURL, dlq: &e.dlqURL} {
		out, err := e.queue.GetQueueUrl(ctx, &awssqs.GetQueueUrlInput{QueueName: aws.String(name)})
		if err != nil {
			t.Fatalf("queue %s: %v", name, err)
		}
		*dst = aws.ToString(out.QueueUrl)
	}
	redrive := fmt.Sprintf(`{"maxReceiveCount":"2","deadLetterTargetArn":"arn:aws:sqs:%s:%s:%s"}`, g.Region, g.AccountID, dlq)
	if _, err := e.queue.SetQueueAttributes(ctx, &awssqs.SetQueueAttributesInput{
		QueueUrl: aws.String(e.queueURL), Attributes: map[string]string{"RedrivePolicy": redrive, "VisibilityTimeout": "30"},
	}); err != nil {
		t.Fatal(err)
	}
	return e
}

// trailFile puts a gzipped trail file of n CreateUser records under key
// and returns the event IDs.
func (e *env) trailFile(t testing.TB, key string, n int) []string {
	t.Helper()
	var recs []json.RawMessage
	var ids []string
	at := time.Date(2025, 3, 12, 10, 0, 0, 0, time.UTC)
	for i := range n {
		e.seq++
		id := fmt.Sprintf("evt-%06d", e.seq)
		ids = append(ids, id)
		recs = append(recs, json.RawMessage(record(id, at.Add(time.Duration(i)*time.Second))))
	}
	b, _ := json.Marshal(map[string]any{"Records": recs})
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		panic(err) // a bytes.Buffer does not fail
	}
	if err := zw.Close(); err != nil {
		panic(err)
	}
	e.s3.Put(t, bucket, key, buf.Bytes())
	return ids
}

func record(id string, at time.Time) string {
	return testserver.LookupRecord(testserver.LookupEvent{ID: id, Name: "CreateUser", Source: "iam.amazonaws.com", Region: "us-east-1", Account: account, Time: at})
}

func trailKey(uniq string) string {
	return "AWSLogs/" + account + "/CloudTrail/us-east-1/2025/03/12/" + account + "_CloudTrail_us-east-1_20250312T1005Z_" + uniq + ".json.gz"
}

func (e *env) send(t testing.TB, body string) {
	t.Helper()
	if _, err := e.queue.SendMessage(context.Background(), &awssqs.SendMessageInput{QueueUrl: aws.String(e.queueURL), MessageBody: aws.String(body)}); err != nil {
		t.Fatal(err)
	}
}

// publish sends body through the SNS topic, which wraps it in a
// notification envelope on its way to the queue.
func (e *env) publish(t testing.TB, body string) {
	t.Helper()
	if _, err := sns.NewFromConfig(e.aws).Publish(context.Background(), &sns.PublishInput{
		TopicArn: aws.String(e.goaws.TopicARN(topic)), Message: aws.String(body),
	}); err != nil {
		t.Fatal(err)
	}
}

// messages returns how many messages a queue holds, in flight included.
func (e *env) messages(t testing.TB, queueURL string) int {
	t.Helper()
	out, err := e.queue.GetQueueAttributes(context.Background(), &awssqs.GetQueueAttributesInput{
		QueueUrl: aws.String(queueURL), AttributeNames: []sqstypes.QueueAttributeName{"ApproximateNumberOfMessages"},
	})
	if err != nil {
		t.Fatal(err)
	}
	n, _ := strconv.Atoi(out.Attributes["ApproximateNumberOfMessages"])
	return n
}

// The notification bodies, written from the AWS documentation of each
// shape.
func s3Event(objects ...[2]string) string {
	var recs []map[string]any
	for _, o := range objects {
		recs = append(recs, map[string]any{
			"eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
			"eventTime": "2025-03-12T10:06:01.000Z", "eventName": "ObjectCreated:Put",
			"s3": map[string]any{
				"s3SchemaVersion": "1.0", "configurationId": "trail-notify",
				"bucket": map[string]any{"name": o[0], "arn": "arn:aws:s3:::" + o[0]},
				"object": map[string]any{"key": url.QueryEscape(o[1]), "size": 1024, "sequencer": "0065F0A1B2C3D4E5F6"},
			},
		})
	}
	b, _ := json.Marshal(map[string]any{"Records": recs})
	return string(b)
}

func eventBridgeObjectCreated(bucket, key string) string {
	b, _ := json.Marshal(map[string]any{
		"version": "0", "id": "17793124-05d4-b198-2fde-7ededc63b103", "detail-type": "Object Created",
		"source": "aws.s3", "account": account, "time": "2025-03-12T10:06:01Z", "region": "us-east-1",
		"resources": []string{"arn:aws:s3:::" + bucket},
		"detail": map[string]any{
			"version": "0", "bucket": map[string]any{"name": bucket},
			"object":     map[string]any{"key": key, "size": 1024, "etag": "b1946ac92492d2347c6235b4d2611184", "sequencer": "0065F0A1B2C3D4E5F6"},
			"request-id": "N4N7GDK58NMKJ12R", "requester": account, "reason": "PutObject",
		},
	})
	return string(b)
}

func cloudTrailNotification(bucket string, keys ...string) string {
	b, _ := json.Marshal(map[string]any{"s3Bucket": bucket, "s3ObjectKey": keys})
	return string(b)
}

func eventBridgeCloudTrail(rec string) string {
	b, _ := json.Marshal(map[string]any{
		"version": "0", "id": "6f87d04b-9f74-4f04-a780-7acf4b0a9b38", "detail-type": "AWS API Call via CloudTrail",
		"source": "aws.iam", "account": account, "time": "2025-03-12T10:00:00Z", "region": "us-east-1",
		"resources": []string{}, "detail": json.RawMessage(rec),
	})
	return string(b)
}

const s3TestEvent = `{"Service":"Amazon S3","Event":"s3:TestEvent","Time":"2025-03-12T10:00:00.000Z","Bucket":"trail","RequestId":"5582815E1AEA5ADF","HostId":"8cLeGAmw098X5cv4Zkwcmo8vvZa3eH3eKxsPzbB9wrR+YstdA6Knx4Ip8EXAMPLE"}`

// recorder is a Processor over a real SQLite pipeline that totals what it
// did; delay slows each batch.
type recorder struct {
	p     *pipeline.Pipeline
	store *sqlite.Store
	delay time.Duration

	entered atomic.Int64 // Process calls begun.

	mu      sync.Mutex
	total   pipeline.Result
	batches int
}

func newRecorder(t testing.TB) *recorder {
	return newRecorderWith(t, detecttest.Names(t, "created", "CreateUser"))
}

// newRecorderWith takes the detector (nil: none).
func newRecorderWith(t testing.TB, d pipeline.Detector) *recorder {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	p, err := pipeline.New(st, pipeline.Options{Filter: pipeline.Filter{Keep: pipeline.KeepAll}, Detector: d})
	if err != nil {
		t.Fatal(err)
	}
	return &recorder{p: p, store: st}
}

func (r *recorder) Process(ctx context.Context, events []iamwatch.Event) (pipeline.Result, error) {
	r.entered.Add(1)
	time.Sleep(r.delay)
	res, err := r.p.Process(ctx, events)
	r.mu.Lock()
	r.total.Add(res)
	r.batches++
	r.mu.Unlock()
	return res, err
}

func (r *recorder) result() (pipeline.Result, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.total, r.batches
}

func (r *recorder) stored(t testing.TB) []string {
	t.Helper()
	evs, err := r.store.Events(context.Background(), sqlite.EventFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, e := range evs {
		ids = append(ids, e.ID)
	}
	sort.Strings(ids)
	return ids
}

// observer counts what the consumer reports.
type observer struct {
	source.Nop
	mu       sync.Mutex
	rejected int
	failed   int
	poison   int
	apiErrs  map[string]int
}

func (o *observer) Rejected(_ string, n int) { o.mu.Lock(); o.rejected += n; o.mu.Unlock() }
func (o *observer) APIError(_, op string, _ bool) {
	o.mu.Lock()
	if o.apiErrs == nil {
		o.apiErrs = map[string]int{}
	}
	o.apiErrs[op]++
	o.mu.Unlock()
}
func (o *observer) MessageFailed(_ string, poison bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.failed++
	if poison {
		o.poison++
	}
}

func (e *env) consumer(t testing.TB, o sqs.Options) *sqs.Consumer {
	t.Helper()
	o.AWS, o.PathStyle, o.QueueURL = e.aws, true, e.queueURL
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Wait == 0 {
		o.Wait = time.Second
	}
	c, err := sqs.New(o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// drain polls until the queue is empty (or d passes).
func drain(t *testing.T, e *env, c *sqs.Consumer, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for e.messages(t, e.queueURL) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("queue still holds %d messages after %s", e.messages(t, e.queueURL), d)
		}
		if _, err := c.PollOnce(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
}

func sortedCopy(s []string) []string { s = slices.Clone(s); sort.Strings(s); return s }

// TestShapes sends every notification shape through goaws (SNS-wrapped
// ones through a real SNS topic subscription) naming objects in the S3
// server: every event is stored exactly once, every message deleted.
func TestShapes(t *testing.T) {
	e := newEnv(t)
	var want []string
	// A key with characters S3 notifications URL-encode.
	spaced := "AWSLogs/" + account + "/CloudTrail/us-east-1/2025/03/12/" + account + "_CloudTrail_us-east-1_20250312T1005Z_a b+c=d.json.gz"
	cases := []struct {
		name  string
		body  func() string
		viaSN bool
	}{
		{"direct S3 event with an encoded key", func() string {
			want = append(want, e.trailFile(t, spaced, 3)...)
			return s3Event([2]string{bucket, spaced})
		}, false},
		{"direct S3 event naming two objects", func() string {
			k1, k2 := trailKey("two1"), trailKey("two2")
			want = append(want, e.trailFile(t, k1, 2)...)
			want = append(want, e.trailFile(t, k2, 2)...)
			return s3Event([2]string{bucket, k1}, [2]string{bucket, k2})
		}, false},
		{"S3 event wrapped by SNS", func() string {
			k := trailKey("sns")
			want = append(want, e.trailFile(t, k, 4)...)
			return s3Event([2]string{bucket, k})
		}, true},
		{"EventBridge Object Created", func() string {
			k := trailKey("eb")
			want = append(want, e.trailFile(t, k, 5)...)
			return eventBridgeObjectCreated(bucket, k)
		}, false},
		{"CloudTrail SNS delivery notification", func() string {
			k1, k2 := trailKey("ct1"), trailKey("ct2")
			want = append(want, e.trailFile(t, k1, 1)...)
			want = append(want, e.trailFile(t, k2, 6)...)
			return cloudTrailNotification(bucket, k1, k2)
		}, true},
		{"CloudTrail event forwarded by EventBridge", func() string {
			want = append(want, "fwd-1")
			return eventBridgeCloudTrail(record("fwd-1", time.Date(2025, 3, 12, 11, 0, 0, 0, time.UTC)))
		}, false},
		{"S3 test event", func() string { return s3TestEvent }, false},
		// A notification of a whole log archive names other services'
		// files too: skipped by their keys, never downloaded (none exists).
		{"S3 event of AWS Config's file beside the trail's", func() string {
			return s3Event([2]string{bucket, "AWSLogs/" + account + "/Config/us-east-1/2025/3/12/ConfigHistory/" + account +
				"_Config_us-east-1_ConfigHistory_AWS::IAM::User_20250312T000000Z_20250312T010000Z_1.json.gz"})
		}, false},
	}
	for _, tc := range cases {
		body := tc.body()
		if tc.viaSN {
			e.publish(t, body)
		} else {
			e.send(t, body)
		}
	}
	if n := e.messages(t, e.queueURL); n != len(cases) {
		t.Fatalf("queue holds %d messages, want %d", n, len(cases))
	}
	rec := newRecorder(t)
	obs := &observer{}
	var logs bytes.Buffer
	c := e.consumer(t, sqs.Options{Processor: rec, Store: rec.store, Observer: obs, Workers: 3,
		Logger: slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	drain(t, e, c, 20*time.Second)

	if got, w := rec.stored(t), sortedCopy(want); !slices.Equal(got, w) {
		t.Errorf("stored %v\nwant %v", got, w)
	}
	total, _ := rec.result()
	if total.Stored != len(want) || total.NewAlerts != len(want) {
		t.Errorf("pipeline totals %+v, want %d stored and claimed", total, len(want))
	}
	if obs.failed+obs.rejected != 0 || len(obs.apiErrs) != 0 {
		t.Errorf("failures %d, rejected %d, API errors %v; logs:\n%s", obs.failed, obs.rejected, obs.apiErrs, logs.String())
	}
	cp, ok, err := rec.store.Checkpoint(context.Background(), sqs.CheckpointKey(e.queueURL))
	if err != nil || !ok || cp.Status != source.StatusActive || cp.Processed != int64(len(want)) ||
		!cp.EventTime.Equal(time.Date(2025, 3, 12, 11, 0, 0, 0, time.UTC)) {
		t.Errorf("checkpoint %+v %v %v", cp, ok, err)
	}
	if !strings.Contains(logs.String(), `"reason":"skipped: an AWS Config log file, not CloudTrail"`) {
		t.Errorf("the Config file was not logged as skipped:\n%s", logs.String())
	}
	if !strings.Contains(logs.String(), `"kind":"s3-test-event"`) {
		t.Errorf("the test event was not logged as read and ignored:\n%s", logs.String())
	}
}

// TestPoisonAndIdempotence: a message naming a missing object and one of
// no known shape fail, are reported and never deleted; the queue's redrive
// policy moves them to the dead-letter queue. The good messages around them
// are deleted, and a message delivered twice stores and claims nothing the
// second time.
func TestPoisonAndIdempotence(t *testing.T) {
	e := newEnv(t)
	k := trailKey("good")
	want := e.trailFile(t, k, 5)
	good := s3Event([2]string{bucket, k})
	e.send(t, good)
	e.send(t, s3Event([2]string{bucket, trailKey("missing")}))
	e.send(t, `{"hello":"world"}`)
	e.send(t, good) // the same notification twice: S3 and SNS both may repeat.
	e.publish(t, good)

	rec := newRecorder(t)
	obs := &observer{}
	var logs syncbuf.Buffer
	// goaws reports ApproximateReceiveCount as 1 on every receive, so
	// MaxReceives 1 makes the first failure the reported one; the redrive
	// policy (maxReceiveCount 2) is goaws's own count.
	c := e.consumer(t, sqs.Options{Processor: rec, Store: rec.store, Observer: obs, Workers: 2, MaxReceives: 1,
		RetryDelay: time.Second, Visibility: 5 * time.Second, Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	deadline := time.Now().Add(20 * time.Second)
	for e.messages(t, e.dlqURL) < 2 || e.messages(t, e.queueURL) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("after 20s: queue %d, dead-letter queue %d; logs:\n%s", e.messages(t, e.queueURL), e.messages(t, e.dlqURL), logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := rec.stored(t); !slices.Equal(got, sortedCopy(want)) {
		t.Errorf("stored %v, want %v", got, want)
	}
	total, batches := rec.result()
	// A delivery the pipeline has seen committed goes no further than
	// counting (Alerts 5); two workers may also process two at once (up
	// to 15).
	if batches != 3 || total.Events != 15 || total.Stored != 5 || total.Duplicates != 10 || total.NewAlerts != 5 || total.Alerts < 5 || total.Alerts > 15 {
		t.Errorf("%d batches, totals %+v: want 3 deliveries of 5 events, stored and claimed once", batches, total)
	}
	if obs.failed < 4 || obs.poison != obs.failed {
		t.Errorf("failures reported %d (poison %d), want at least 2 per bad message", obs.failed, obs.poison)
	}
	dead := receiveAll(t, e, e.dlqURL)
	slices.Sort(dead)
	if len(dead) != 2 || !strings.Contains(dead[0], "missing") || dead[1] != `{"hello":"world"}` {
		t.Errorf("dead-letter queue holds %q", dead)
	}
	for _, w := range []string{`"msg":"sqs: message keeps failing; left to the queue's redrive policy"`, `"receive_count":1`, "NoSuchKey", "unknown message shape"} {
		if !strings.Contains(logs.String(), w) {
			t.Errorf("logs lack %s:\n%s", w, logs.String())
		}
	}
	cp, _, _ := rec.store.Checkpoint(context.Background(), sqs.CheckpointKey(e.queueURL))
	if cp.Processed != 15 {
		t.Errorf("checkpoint %+v, want 15 processed", cp)
	}
}

func receiveAll(t *testing.T, e *env, queueURL string) []string {
	t.Helper()
	out, err := e.queue.ReceiveMessage(context.Background(), &awssqs.ReceiveMessageInput{QueueUrl: aws.String(queueURL), MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
	if err != nil {
		t.Fatal(err)
	}
	var bodies []string
	for _, m := range out.Messages {
		bodies = append(bodies, aws.ToString(m.Body))
	}
	return bodies
}

// TestVisibilityExtended: a message whose processing outlasts the
// visibility timeout several times over is not handed out again meanwhile,
// and is deleted at the end.
func TestVisibilityExtended(t *testing.T) {
	e := newEnv(t)
	k := trailKey("slow")
	want := e.trailFile(t, k, 2)
	e.send(t, s3Event([2]string{bucket, k}))
	rec := newRecorder(t)
	rec.delay = 3500 * time.Millisecond
	c := e.consumer(t, sqs.Options{Processor: rec, Visibility: time.Second})
	done := make(chan error, 1)
	go func() { _, err := c.PollOnce(context.Background()); done <- err }()
	for rec.entered.Load() == 0 { // the consumer holds the message.
		time.Sleep(10 * time.Millisecond)
	}
	other := 0
	for {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
			if other != 0 {
				t.Errorf("another receiver got the message %d times while it was handled", other)
			}
			if got := rec.stored(t); !slices.Equal(got, want) {
				t.Errorf("stored %v, want %v", got, want)
			}
			if n := e.messages(t, e.queueURL); n != 0 {
				t.Errorf("queue holds %d messages after the slow one finished", n)
			}
			return
		default:
		}
		out, err := e.queue.ReceiveMessage(context.Background(), &awssqs.ReceiveMessageInput{QueueUrl: aws.String(e.queueURL), WaitTimeSeconds: 1, VisibilityTimeout: 1})
		if err != nil {
			t.Fatal(err)
		}
		other += len(out.Messages)
	}
}

func TestReceiveCount(t *testing.T) {
	for _, tc := range []struct {
		attrs map[string]string
		want  int
	}{
		{nil, 1},
		{map[string]string{"ApproximateReceiveCount": "7"}, 7},
		{map[string]string{"ApproximateReceiveCount": "0"}, 1},
		{map[string]string{"ApproximateReceiveCount": "x"}, 1},
	} {
		if got := sqs.ReceiveCount(tc.attrs); got != tc.want {
			t.Errorf("ReceiveCount(%v) = %d, want %d", tc.attrs, got, tc.want)
		}
	}
}

func TestCheckpointKey(t *testing.T) {
	for in, want := range map[string]string{
		"https://sqs.us-east-1.amazonaws.com/111122223333/trail": "sqs/111122223333/trail",
		"http://127.0.0.1:4100/100010001000/work":                "sqs/100010001000/work",
		"queue": "sqs/queue",
	} {
		if got := sqs.CheckpointKey(in); got != want {
			t.Errorf("CheckpointKey(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestOptionsValidated(t *testing.T) {
	p := newRecorder(t)
	for name, o := range map[string]sqs.Options{
		"no queue":       {Processor: p, Now: time.Now},
		"no processor":   {QueueURL: "http://q/1/q", Now: time.Now},
		"no clock":       {QueueURL: "http://q/1/q", Processor: p},
		"long wait":      {QueueURL: "http://q/1/q", Processor: p, Now: time.Now, Wait: time.Minute},
		"sub-second vis": {QueueURL: "http://q/1/q", Processor: p, Now: time.Now, Visibility: time.Millisecond},
	} {
		if _, err := sqs.New(o); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestRunFinishesInHand: cancelling Run while a message is being stored
// lets it finish: its events are stored and the message deleted.
func TestRunFinishesInHand(t *testing.T) {
	e := newEnv(t)
	k := trailKey("inhand")
	want := e.trailFile(t, k, 3)
	e.send(t, s3Event([2]string{bucket, k}))
	rec := newRecorder(t)
	rec.delay = time.Second
	c := e.consumer(t, sqs.Options{Processor: rec})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	for rec.entered.Load() == 0 {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := rec.stored(t); !slices.Equal(got, want) {
		t.Errorf("stored %v, want %v", got, want)
	}
	if n := e.messages(t, e.queueURL); n != 0 {
		t.Errorf("queue holds %d messages; the one in hand was not deleted", n)
	}
}

// TestPaused: a checkpoint paused by the operator stops receiving.
func TestPaused(t *testing.T) {
	e := newEnv(t)
	k := trailKey("paused")
	e.trailFile(t, k, 1)
	e.send(t, s3Event([2]string{bucket, k}))
	rec := newRecorder(t)
	key := sqs.CheckpointKey(e.queueURL)
	if err := rec.store.PutCheckpoint(context.Background(), iamwatch.Checkpoint{Key: key, Status: source.StatusPaused}); err != nil {
		t.Fatal(err)
	}
	c := e.consumer(t, sqs.Options{Processor: rec, Store: rec.store})
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	if err := c.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if got := rec.stored(t); len(got) != 0 {
		t.Errorf("a paused source stored %v", got)
	}
	if out := receiveAll(t, e, e.queueURL); len(out) != 1 {
		t.Errorf("the message was taken from the queue: %d left visible", len(out))
	}
}
