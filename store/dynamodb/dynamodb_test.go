package dynamodb_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awsdynamodb "github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/iamwatch/iamwatch"
	"github.com/iamwatch/iamwatch/internal/testserver"
	"github.com/iamwatch/iamwatch/store/dynamodb"
	"github.com/iamwatch/iamwatch/store/storetest"
)

// emulator starts one dynalite for the test and returns an SDK client for it.
func emulator(t testing.TB) *awsdynamodb.Client {
	t.Helper()
	d := testserver.StartDynalite(t)
	return NewTestClient(d.Endpoint, d.Region)
}

// NewTestClient is the real SDK client pointed at an emulator.
func NewTestClient(endpoint, region string) *awsdynamodb.Client {
	return awsdynamodb.New(awsdynamodb.Options{
		Region:       region,
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
	})
}

var tableSeq atomic.Int64

// openStore creates a fresh set of tables (a new prefix) on client.
func openStore(t testing.TB, client *awsdynamodb.Client, cfg dynamodb.Config) *dynamodb.Store {
	t.Helper()
	cfg.Client = client
	cfg.Prefix = fmt.Sprintf("t%d-", tableSeq.Add(1))
	s, err := dynamodb.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateTables(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestConformance runs the store suite in both put modes, with the events
// table sharded (the default, 8 keys a day, and 3: a count that is not a
// power of two) and unsharded (1: the layout of tables created before
// sharding).
func TestConformance(t *testing.T) {
	client := emulator(t)
	for _, mode := range []struct {
		name   string
		mode   dynamodb.PutMode
		shards int
	}{
		{"conditional", dynamodb.PutConditional, 0}, {"batch", dynamodb.PutBatch, 0},
		{"conditional-unsharded", dynamodb.PutConditional, 1}, {"batch-3-shards", dynamodb.PutBatch, 3},
	} {
		t.Run(mode.name, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T) iamwatch.Store {
				return openStore(t, client, dynamodb.Config{PutMode: mode.mode, EventShards: mode.shards})
			})
		})
	}
}

// TestHugeRecordStored: a trail record whose compressed raw form alone is
// over DynamoDB's 400 KB item limit is still stored (without its raw
// record and parameters, marked truncated) instead of failing the whole
// trail file, which would be retried five times and dead-lettered with
// its good records.
func TestHugeRecordStored(t *testing.T) {
	ctx := t.Context()
	s := openStore(t, emulator(t), dynamodb.Config{})
	raw := make([]byte, 600_000)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range raw {
		raw[i] = byte(r.Uint32()) // incompressible
	}
	ev := iamwatch.Event{ID: "huge-1", Time: time.Date(2024, 1, 15, 10, 0, 0, 0, time.UTC), Source: "ec2.amazonaws.com",
		Name: "RunInstances", Raw: raw, RequestParameters: []byte(`{"instanceType":"m5.large"}`)}
	small := iamwatch.Event{ID: "small-1", Time: ev.Time, Source: "iam.amazonaws.com", Name: "CreateUser", Raw: []byte(`{"eventName":"CreateUser"}`)}
	n, err := s.PutEvents(ctx, []iamwatch.Event{ev, small})
	if err != nil || n != 2 {
		t.Fatalf("PutEvents = %d, %v; want both stored", n, err)
	}
	if n, err := s.PutEvents(ctx, []iamwatch.Event{ev}); err != nil || n != 0 {
		t.Errorf("PutEvents again = %d, %v; want 0 new", n, err)
	}
}
