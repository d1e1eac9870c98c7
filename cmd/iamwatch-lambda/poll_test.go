package main

import (
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	awsdynamodb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/iamwatch/iamwatch/internal/testserver"
	"github.com/iamwatch/iamwatch/store/dynamodb"
)

// TestPollerWiring runs the poller function as the template configures it
// (its environment, nothing more) against dynalite, goaws and the
// LookupEvents fake: the first scheduled poll of a new stack, with no
// checkpoint yet, must read the events of the last hours, store them and
// write a checkpoint per stream, and the next poll must go on from there.
func TestPollerWiring(t *testing.T) {
	ctx := t.Context()
	w := startPollerWorld(t, testserver.STSOptions{})
	fake, client, tables, st, cfg := w.lookup, w.client, w.tables, w.store, w.cfg

	now := time.Now().UTC()
	fake.Add(
		testserver.LookupEvent{ID: "create-1", Name: "CreateUser", Source: "iam.amazonaws.com", Region: "us-east-1", Time: now.Add(-50 * time.Minute).Truncate(time.Second)},
		testserver.LookupEvent{ID: "assume-1", Name: "AssumeRole", Source: "sts.amazonaws.com", Region: "us-east-1", ReadOnly: "true", Time: now.Add(-40 * time.Minute).Truncate(time.Second)},
	)
	env := w.env
	var skew time.Duration // the clock runs (the pacer needs it to) and jumps by skew.
	h, err := build(ctx, func(k string) string { return env[k] }, cfg, slog.New(slog.DiscardHandler), func() time.Time { return time.Now().Add(skew) })
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	if err := h.Task(ctx, "poll"); err != nil {
		t.Fatalf("first poll: %v", err)
	}
	t.Logf("first poll: %+v in %s", fake.Stats(), time.Since(t0))
	stored := func() []string { return storedIDs(t, client, tables.Events) }
	if n := len(stored()); n != 2 {
		t.Errorf("first poll stored %d events, want the 2 of the last hour", n)
	}
	cps, err := st.Checkpoints(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, cp := range cps {
		keys = append(keys, cp.Key)
		if cp.LastRun.IsZero() {
			t.Errorf("checkpoint %s has no last run", cp.Key)
		}
	}
	if !strings.Contains(strings.Join(keys, " "), "iam.amazonaws.com") || !strings.Contains(strings.Join(keys, " "), "sts.amazonaws.com") {
		t.Errorf("checkpoints after the first poll = %v, want the iam and sts streams", keys)
	}

	// An hour later: a new event is read from the checkpoint on.
	skew = time.Hour
	fake.Add(testserver.LookupEvent{ID: "create-2", Name: "CreateAccessKey", Source: "iam.amazonaws.com", Region: "us-east-1", Time: now.Add(30 * time.Minute).Truncate(time.Second)})
	t0 = time.Now()
	if err := h.Task(ctx, "poll"); err != nil {
		t.Fatalf("second poll: %v", err)
	}
	t.Logf("second poll: %+v in %s", fake.Stats(), time.Since(t0))
	if n := len(stored()); n != 3 {
		t.Errorf("after the second poll %d events stored, want 3", n)
	}
}

// pollerWorld is the poller's surroundings: dynalite with the tables,
// goaws with the alert topic, the LookupEvents and STS fakes, the SDK's
// environment pointed at them (as the base credentials of account
// 111122223333), and the poller's environment as template.yaml sets it.
type pollerWorld struct {
	lookup *testserver.Lookup
	sts    *testserver.STS
	client *awsdynamodb.Client
	tables dynamodb.Tables
	store  *dynamodb.Store
	cfg    aws.Config
	env    map[string]string
}

func startPollerWorld(t *testing.T, so testserver.STSOptions) *pollerWorld {
	t.Helper()
	ctx := t.Context()
	dyn := testserver.StartDynalite(t)
	goaws := testserver.StartGoAWS(t, testserver.GoAWSOptions{Topics: []testserver.GoAWSTopic{{Name: "alerts"}}})
	fake := testserver.StartLookup(t, testserver.LookupOptions{Rate: 100})
	sts := testserver.StartSTS(t, so)
	for svc, url := range map[string]string{"DYNAMODB": dyn.Endpoint, "SNS": goaws.Endpoint, "CLOUDTRAIL": fake.URL, "STS": sts.URL} {
		t.Setenv("AWS_ENDPOINT_URL_"+svc, url)
	}
	t.Setenv("AWS_ACCESS_KEY_ID", testserver.AccessKeyFor("111122223333"))
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	client := awsdynamodb.NewFromConfig(cfg)
	tables := dynamodb.DefaultTables("poll-")
	st, err := dynamodb.Open(ctx, dynamodb.Config{Client: client, Tables: tables})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.CreateTables(ctx); err != nil {
		t.Fatal(err)
	}
	// The poller's environment in template.yaml (PollerFunction).
	env := map[string]string{
		"IAMWATCH_FUNCTION": "poller", "IAMWATCH_TABLE_EVENTS": tables.Events, "IAMWATCH_TABLE_ALERTS": tables.Alerts,
		"IAMWATCH_TABLE_HITS": tables.Hits, "IAMWATCH_TABLE_DELIVERIES": tables.Deliveries, "IAMWATCH_TABLE_CONTROL": tables.Control,
		"IAMWATCH_TOPIC_ARN": goaws.TopicARN("alerts"), "IAMWATCH_EVENT_TTL_DAYS": "400", "IAMWATCH_EVENT_SHARDS": "8", "IAMWATCH_KEEP": "identity",
		"IAMWATCH_POLL_REGIONS": "us-east-1", "IAMWATCH_SSO_REGION": "", "IAMWATCH_POLL_BACKFILL_DAYS": "1",
		"IAMWATCH_POLL_ACCOUNTS": "", "IAMWATCH_POLL_ROLE": "arn:aws:iam::{account}:role/iamwatch-lookup",
	}
	return &pollerWorld{lookup: fake, sts: sts, client: client, tables: tables, store: st, cfg: cfg, env: env}
}

// storedIDs returns the event IDs in the events table (not the days'
// shard markers).
func storedIDs(t *testing.T, client *awsdynamodb.Client, table string) []string {
	t.Helper()
	out, err := client.Scan(t.Context(), &awsdynamodb.ScanInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, it := range out.Items {
		if id, ok := it["event_id"].(*types.AttributeValueMemberS); ok && !strings.HasPrefix(id.Value, "#") {
			ids = append(ids, id.Value)
		}
	}
	slices.Sort(ids)
	return ids
}
