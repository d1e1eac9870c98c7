package dynamodb_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

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

func TestConformance(t *testing.T) {
	client := emulator(t)
	for _, mode := range []struct {
		name string
		mode dynamodb.PutMode
	}{{"conditional", dynamodb.PutConditional}, {"batch", dynamodb.PutBatch}} {
		t.Run(mode.name, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T) iamwatch.Store {
				return openStore(t, client, dynamodb.Config{PutMode: mode.mode})
			})
		})
	}
}
