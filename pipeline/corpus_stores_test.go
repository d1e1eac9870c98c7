package pipeline_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awsdynamodb "github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/iamwatch/iamwatch"
	"github.com/iamwatch/iamwatch/internal/ordertest"
	"github.com/iamwatch/iamwatch/internal/testserver"
	"github.com/iamwatch/iamwatch/pipeline"
	"github.com/iamwatch/iamwatch/store/dynamodb"
)

// TestCorpusStoresAgree reads each trail dataset of the corpus twice: as
// scan does (SQLite, file order, large batches) and as the serverless
// shape does (DynamoDB through the emulator, the files in reverse, a few
// events a batch as SQS hands them to the Lambda), and wants the same
// standing alerts from both stores. Datasets that raise no alert as trail
// files (catalogues of single records) are left to TestCorpusOrderIndependent
// in detect.
func TestCorpusStoresAgree(t *testing.T) {
	if *corpus == "" {
		t.Skip("no -corpus folder given")
	}
	dirs, err := os.ReadDir(*corpus)
	if err != nil {
		t.Skipf("corpus: %v", err)
	}
	d := testserver.StartDynalite(t)
	client := awsdynamodb.New(awsdynamodb.Options{
		Region: d.Region, BaseEndpoint: aws.String(d.Endpoint),
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
	})
	eng := ordertest.Catalog(t)
	filter := pipeline.Filter{Keep: pipeline.KeepIdentity, DropServiceEvents: true}
	compared := 0
	for i, e := range dirs {
		if !e.IsDir() {
			continue
		}
		inputs, err := pipeline.Expand([]string{filepath.Join(*corpus, e.Name())}, nil)
		if err != nil {
			t.Fatal(err)
		}
		skip := conflictingIDs(t, inputs)
		read := func(st pipeline.Store, in []pipeline.Input, opt pipeline.ReadOptions) string {
			t.Helper()
			p, err := pipeline.New(st, pipeline.Options{Detector: eng, Filter: filter})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := p.Read(context.Background(), in, opt); err != nil {
				t.Fatal(err)
			}
			as, err := st.(iamwatch.AlertStore).Alerts(context.Background(), iamwatch.AlertFilter{})
			if err != nil {
				t.Fatal(err)
			}
			return ordertest.Render(as, skip)
		}
		want := read(openStore(t), inputs, pipeline.ReadOptions{})
		n := strings.Count(want, "\n")
		if n == 0 {
			continue
		}
		ds, err := dynamodb.Open(context.Background(), dynamodb.Config{Client: client, Prefix: "c" + string(rune('a'+i)) + "-"})
		if err != nil {
			t.Fatal(err)
		}
		if err := ds.CreateTables(context.Background()); err != nil {
			t.Fatal(err)
		}
		rev := slices.Clone(inputs)
		slices.Reverse(rev)
		if got := read(ds, rev, pipeline.ReadOptions{Workers: 1, BatchSize: 10}); got != want {
			t.Errorf("%s: DynamoDB, files in reverse, batches of 10: alerts differ from SQLite's, first at %s", e.Name(), ordertest.FirstDifference(got, want))
		}
		compared += n
		t.Logf("%s: %d standing alerts, the same in SQLite (file order) and DynamoDB (reverse, batches of 10)", e.Name(), n)
	}
	if compared == 0 {
		t.Fatal("the corpus raised no alert: nothing was compared")
	}
}
