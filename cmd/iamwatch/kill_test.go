package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/iamwatch/iamwatch/internal/testserver"
	"github.com/iamwatch/iamwatch/store/sqlite"
)

// childConfigEnv names the configuration file of a daemon run by the test
// binary itself (TestDaemonChild), for TestDaemonKilled.
const childConfigEnv = "IAMWATCH_TEST_DAEMON_CONFIG"

// TestDaemonChild is the child half of TestDaemonKilled: `iamwatch run`
// with the configuration in $IAMWATCH_TEST_DAEMON_CONFIG, stopped by
// SIGTERM (gracefully) or SIGKILL. It does nothing in a normal test run.
func TestDaemonChild(t *testing.T) {
	path := os.Getenv(childConfigEnv)
	if path == "" {
		t.Skip("child half of TestDaemonKilled")
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, []string{"run", "--config", path}, os.Getenv, strings.NewReader(""), os.Stdout, os.Stderr))
}

// daemonChild is one run of the child daemon.
type daemonChild struct {
	cmd  *exec.Cmd
	done chan error
}

// startChild re-executes the test binary as a daemon with cfgPath and env
// (on top of this process's environment), its output appended to logPath.
func startChild(t *testing.T, cfgPath, logPath string, env map[string]string) *daemonChild {
	t.Helper()
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestDaemonChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), childConfigEnv+"="+cfgPath)
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &daemonChild{cmd: cmd, done: make(chan error, 1)}
	go func() { c.done <- cmd.Wait(); _ = logf.Close() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-c.done //nolint:errcheck // killed: its wait error is expected
	})
	return c
}

// stop sends sig and waits for the child to end.
func (c *daemonChild) stop(t *testing.T, sig syscall.Signal) error {
	t.Helper()
	if err := c.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-c.done:
		c.done <- err // for the cleanup.
		return err
	case <-time.After(30 * time.Second):
		t.Fatalf("child did not stop after %s", sig)
		return nil
	}
}

// storedIDs reads the event IDs in the child's database, or nil while it
// does not exist yet.
func storedIDs(t *testing.T, path string) []string {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		return nil
	}
	db, err := sqlite.OpenReadOnly(context.Background(), path)
	if err != nil {
		return nil
	}
	defer db.Close()
	rows, err := db.Query("SELECT event_id FROM events")
	if err != nil {
		return nil // the schema is not created yet.
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// slowS3 is a reverse proxy in front of the S3 server that delays each
// object download, so a kill lands in the middle of a source's work.
func slowS3(t *testing.T, target string, delay time.Duration) string {
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(u)
	proxy.ErrorLog = log.New(io.Discard, "", 0) // a killed child cuts its requests short.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && !r.URL.Query().Has("list-type") {
			time.Sleep(delay)
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// killSink is the webhook receiver of TestDaemonKilled. It counts the
// alerts it acknowledged (2xx); the test holds gate while it kills the
// daemon, so no request is between "received" and "acknowledged" at the
// kill, and a request cut short by the kill is never acknowledged.
type killSink struct {
	gate sync.RWMutex
	srv  *httptest.Server

	mu    sync.Mutex
	acked map[string]int // dedup key → acknowledgements.
	cut   int            // requests whose sender died before the reply.
}

func startKillSink(t *testing.T) *killSink {
	s := &killSink{acked: map[string]int{}}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Alerts []struct {
				DedupKey string `json:"dedup_key"`
			} `json:"alerts"`
		}
		b, _ := io.ReadAll(r.Body)
		s.gate.RLock()
		defer s.gate.RUnlock()
		s.mu.Lock()
		defer s.mu.Unlock()
		if r.Context().Err() != nil {
			s.cut++
			return
		}
		if err := json.Unmarshal(b, &body); err != nil || len(body.Alerts) == 0 {
			http.Error(w, "no alerts", http.StatusBadRequest)
			return
		}
		for _, a := range body.Alerts {
			s.acked[a.DedupKey]++
		}
		w.WriteHeader(http.StatusNoContent)
		w.(http.Flusher).Flush()
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *killSink) counts() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.acked)
}

// sentKeys reads the alert keys the daemon recorded as delivered.
func sentKeys(path string) map[string]bool {
	db, err := sqlite.OpenReadOnly(context.Background(), path)
	if err != nil {
		return nil
	}
	defer db.Close()
	rows, err := db.Query("SELECT alert_key FROM deliveries WHERE status = 'sent'")
	if err != nil {
		return nil
	}
	defer rows.Close()
	keys := map[string]bool{}
	for rows.Next() {
		var k string
		if rows.Scan(&k) == nil {
			keys[k] = true
		}
	}
	return keys
}

// killQuietly SIGKILLs the child at a moment when every alert the sink
// acknowledged is recorded as sent. Between a 2xx and that record is the
// one window at-least-once delivery cannot close (the receiver's
// X-Iamwatch-Delivery header is there for it); the test kills outside it
// and checks everything else: events and claims mid-batch, requests in
// flight, the outbox.
func (s *killSink) killQuietly(t *testing.T, c *daemonChild, db string) {
	s.gate.Lock()
	defer s.gate.Unlock()
	// Generous: on a loaded machine (CI runs the browser tests beside this
	// one) a commit can wait seconds; passing runs take milliseconds.
	deadline := time.Now().Add(30 * time.Second)
	for {
		sent, quiet := sentKeys(db), true
		for k := range s.counts() {
			quiet = quiet && sent[k]
		}
		if quiet {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("acknowledged alerts not recorded as sent after 30s")
		}
		time.Sleep(5 * time.Millisecond)
	}
	_ = c.stop(t, syscall.SIGKILL)
	time.Sleep(200 * time.Millisecond) // the server sees the dead sender's connections close.
}

// killScenario is one source under TestDaemonKilled.
type killScenario struct {
	sources string            // the YAML of the sources section, indented two spaces.
	env     map[string]string // AWS_ENDPOINT_URL_* and the like.
	want    []string          // every event ID the source must store.
	alerts  int               // alerts the events raise (one per CreateUser).
	killAt  int               // SIGKILL once this many events are stored.
	settle  time.Duration     // how long a restart may take to finish.
	// drained, if set, must also hold before the restarted daemon is
	// stopped: the source has nothing left to hand out (an SQS message
	// received before the kill comes back only after its visibility
	// timeout, possibly after every event is stored).
	drained func(t *testing.T) bool
	after   func(t *testing.T)
}

// runKillScenario starts the daemon, kills it with SIGKILL once killAt
// events are stored, restarts it, waits for every event and alert, stops it
// with SIGTERM and checks: the stored set is exactly the expected one, and
// the webhook received every alert exactly once.
func runKillScenario(t *testing.T, sc killScenario) {
	dir := t.TempDir()
	db := filepath.Join(dir, "iamwatch.db")
	hook := startKillSink(t)
	cfgPath := filepath.Join(dir, "iamwatch.yaml")
	// A short lease: the delivery cut short by the kill is due again at once
	// (the default keeps it from other senders for a minute).
	cfg := fmt.Sprintf("db: %s\nlog: {format: json, level: info}\nsources:\n%s\nnotify:\n  lease: 1s\n  sinks:\n    hook:\n      type: webhook\n      url: %s\n",
		db, sc.sources, hook.srv.URL)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"AWS_ACCESS_KEY_ID":           testserver.AccessKeyFor("111122223333"),
		"AWS_SECRET_ACCESS_KEY":       "secret",
		"AWS_REGION":                  "us-east-1",
		"AWS_CONFIG_FILE":             filepath.Join(dir, "none"),
		"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "none"),
		"AWS_EC2_METADATA_DISABLED":   "true",
	}
	for k, v := range sc.env {
		env[k] = v
	}
	logPath := filepath.Join(dir, "daemon.log")
	fail := func(format string, args ...any) {
		t.Helper()
		b, _ := os.ReadFile(logPath)
		if len(b) > 6000 {
			b = b[len(b)-6000:]
		}
		t.Fatalf(format+"\ndaemon log (tail):\n%s", append(args, b)...)
	}

	first := startChild(t, cfgPath, logPath, env)
	deadline := time.Now().Add(30 * time.Second)
	for len(storedIDs(t, db)) < sc.killAt {
		if time.Now().After(deadline) {
			fail("%d events stored after 30s, waiting for %d", len(storedIDs(t, db)), sc.killAt)
		}
		time.Sleep(20 * time.Millisecond)
	}
	hook.killQuietly(t, first, db)
	atKill := len(storedIDs(t, db))
	if atKill >= len(sc.want) {
		fail("killed too late: all %d events were stored already", atKill)
	}
	t.Logf("killed with %d of %d events stored and %d of %d alerts delivered (%d requests cut short)", atKill, len(sc.want), len(hook.counts()), sc.alerts, hook.cut)

	second := startChild(t, cfgPath, logPath, env)
	deadline = time.Now().Add(sc.settle)
	for {
		keys := hook.counts()
		if len(storedIDs(t, db)) >= len(sc.want) && len(keys) >= sc.alerts && (sc.drained == nil || sc.drained(t)) {
			break
		}
		if time.Now().After(deadline) {
			fail("after the restart: %d of %d events, %d of %d alerts", len(storedIDs(t, db)), len(sc.want), len(keys), sc.alerts)
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(time.Second) // room for a duplicate to show up.
	if err := second.stop(t, syscall.SIGTERM); err != nil {
		fail("graceful stop: %v", err)
	}
	got, want := storedIDs(t, db), slices.Sorted(slices.Values(sc.want))
	if !slices.Equal(got, want) {
		var missing, extra []string
		for _, id := range want {
			if _, ok := slices.BinarySearch(got, id); !ok {
				missing = append(missing, id)
			}
		}
		for _, id := range got {
			if _, ok := slices.BinarySearch(want, id); !ok {
				extra = append(extra, id)
			}
		}
		fail("stored %d events, want %d: missing %v, extra %v", len(got), len(want), missing, extra)
	}
	keys := hook.counts()
	if len(keys) != sc.alerts {
		fail("webhook received %d distinct alerts, want %d", len(keys), sc.alerts)
	}
	for k, n := range keys {
		if n != 1 {
			t.Errorf("alert %s delivered %d times", k, n)
		}
	}
	if sc.after != nil {
		sc.after(t)
	}
}

// killEvents scripts n IAM events from two hours ago on, one in every
// eight a CreateUser (an alert); it returns them with their IDs.
func killEvents(prefix string, n int, now time.Time) ([]testserver.LookupEvent, []string, int) {
	var evs []testserver.LookupEvent
	var ids []string
	alerts := 0
	for i := range n {
		ev := testserver.LookupEvent{
			ID: fmt.Sprintf("%s-%04d", prefix, i), Name: "ListUsers", Source: "iam.amazonaws.com", Region: "us-east-1",
			ReadOnly: "true", Time: now.Add(-2*time.Hour + time.Duration(i)*10*time.Second).Truncate(time.Second),
		}
		if i%8 == 0 {
			ev.Name, ev.ReadOnly = "CreateUser", "false"
			alerts++
		}
		evs = append(evs, ev)
		ids = append(ids, ev.ID)
	}
	return evs, ids, alerts
}

// trailObject gzips evs as a trail file.
func trailObject(evs []testserver.LookupEvent) []byte {
	var recs []json.RawMessage
	for _, ev := range evs {
		recs = append(recs, json.RawMessage(testserver.LookupRecord(ev)))
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
	return buf.Bytes()
}

func trailObjectKey(at time.Time, i int) string {
	return fmt.Sprintf("AWSLogs/111122223333/CloudTrail/us-east-1/%s/111122223333_CloudTrail_us-east-1_%s_%04d.json.gz",
		at.Format("2006/01/02"), at.Format("20060102T1504Z"), i)
}

// TestDaemonKilled kills `iamwatch run` with SIGKILL in the middle of each
// source (LookupEvents, trail bucket, SQS) and restarts it: no event is lost
// and no alert is delivered twice.
func TestDaemonKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("re-executes the test binary as a daemon")
	}
	if os.Getenv(childConfigEnv) != "" {
		t.Skip("inside the child")
	}
	now := time.Now().UTC()

	t.Run("lookup", func(t *testing.T) {
		fake := testserver.StartLookup(t, testserver.LookupOptions{Rate: 100})
		sts := testserver.StartSTS(t, testserver.STSOptions{})
		evs, ids, alerts := killEvents("lk", 240, now)
		fake.Add(evs...)
		// 240 events are 5 pages at the source's 1.8 requests a second:
		// the kill lands after the first page or two.
		runKillScenario(t, killScenario{
			sources: "  lookup:\n    regions: [us-east-1]\n    backfill_days: 1\n    interval: 1s",
			env:     map[string]string{"AWS_ENDPOINT_URL_CLOUDTRAIL": fake.URL, "AWS_ENDPOINT_URL_STS": sts.URL},
			want:    ids, alerts: alerts, killAt: 50, settle: 20 * time.Second,
		})
	})

	t.Run("s3", func(t *testing.T) {
		srv := testserver.StartS3(t, "trail")
		evs, ids, alerts := killEvents("s3", 240, now)
		for f := range 30 { // 30 files of 8 events, each with one CreateUser.
			at := now.Add(-time.Hour - time.Duration(30-f)*time.Minute)
			srv.Put(t, "trail", trailObjectKey(at, f), trailObject(evs[f*8:f*8+8]))
		}
		runKillScenario(t, killScenario{
			sources: "  s3:\n    bucket: trail\n    accounts: ['111122223333']\n    regions: [us-east-1]\n    workers: 2\n    interval: 1s\n    path_style: true",
			env:     map[string]string{"AWS_ENDPOINT_URL_S3": slowS3(t, srv.URL, 150*time.Millisecond)},
			want:    ids, alerts: alerts, killAt: 64, settle: 20 * time.Second,
		})
	})

	t.Run("sqs", func(t *testing.T) {
		srv := testserver.StartS3(t, "trail")
		g := testserver.StartGoAWS(t, testserver.GoAWSOptions{Queues: []string{"trail-events"}})
		q := awssqs.NewFromConfig(aws.Config{Region: g.Region, BaseEndpoint: aws.String(g.Endpoint),
			Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", "")})
		queueURL := g.Endpoint + "/" + g.AccountID + "/trail-events"
		evs, ids, alerts := killEvents("sq", 240, now)
		var entries []sqstypes.SendMessageBatchRequestEntry
		for f := range 30 {
			at := now.Add(-time.Hour - time.Duration(30-f)*time.Minute)
			key := trailObjectKey(at, f)
			srv.Put(t, "trail", key, trailObject(evs[f*8:f*8+8]))
			body := fmt.Sprintf(`{"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","awsRegion":"us-east-1","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"trail"},"object":{"key":%q,"size":100}}}]}`, url.QueryEscape(key))
			entries = append(entries, sqstypes.SendMessageBatchRequestEntry{Id: aws.String(fmt.Sprint(f)), MessageBody: aws.String(body)})
			if len(entries) == 10 {
				if _, err := q.SendMessageBatch(context.Background(), &awssqs.SendMessageBatchInput{QueueUrl: aws.String(queueURL), Entries: entries}); err != nil {
					t.Fatal(err)
				}
				entries = nil
			}
		}
		// The messages in hand at the kill come back when their visibility
		// timeout (10 s, the least the configuration allows) runs out.
		runKillScenario(t, killScenario{
			sources: fmt.Sprintf("  sqs:\n    queue_url: %s\n    workers: 2\n    visibility: 10s", queueURL),
			env:     map[string]string{"AWS_ENDPOINT_URL_S3": slowS3(t, srv.URL, 150*time.Millisecond), "AWS_ENDPOINT_URL_SQS": g.Endpoint},
			want:    ids, alerts: alerts, killAt: 64, settle: 30 * time.Second,
			drained: func(t *testing.T) bool {
				visible, hidden := queueDepth(t, q, queueURL)
				return visible+hidden == 0
			},
			after: func(t *testing.T) {
				if visible, hidden := queueDepth(t, q, queueURL); visible+hidden != 0 {
					t.Errorf("queue holds %d messages (%d in flight) after the restart finished", visible+hidden, hidden)
				}
			},
		})
	})
}

// queueDepth returns the messages of the queue waiting and in flight.
func queueDepth(t *testing.T, q *awssqs.Client, queueURL string) (visible, hidden int) {
	t.Helper()
	out, err := q.GetQueueAttributes(context.Background(), &awssqs.GetQueueAttributesInput{
		QueueUrl: aws.String(queueURL),
		AttributeNames: []sqstypes.QueueAttributeName{
			sqstypes.QueueAttributeNameApproximateNumberOfMessages, sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible,
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	visible, _ = strconv.Atoi(out.Attributes[string(sqstypes.QueueAttributeNameApproximateNumberOfMessages)])
	hidden, _ = strconv.Atoi(out.Attributes[string(sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible)])
	return visible, hidden
}
