package pipeline_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awsdynamodb "github.com/aws/aws-sdk-go-v2/service/dynamodb"

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
	names, datasets := corpusDatasets(t)
	d := testserver.StartDynalite(t)
	client := awsdynamodb.New(awsdynamodb.Options{
		Region: d.Region, BaseEndpoint: aws.String(d.Endpoint),
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
	})
	eng := ordertest.Catalog(t)
	compared := 0
	for i, name := range names {
		inputs := datasets[name]
		skip := conflictingIDs(t, inputs)
		_, want := readStanding(t, eng, openStore(t), inputs, pipeline.ReadOptions{}, skip)
		n := strings.Count(want, "\n")
		if n == 0 {
			continue
		}
		ds, err := dynamodb.Open(context.Background(), dynamodb.Config{Client: client, Prefix: fmt.Sprintf("c%d-", i)})
		if err != nil {
			t.Fatal(err)
		}
		if err := ds.CreateTables(context.Background()); err != nil {
			t.Fatal(err)
		}
		rev := slices.Clone(inputs)
		slices.Reverse(rev)
		if _, got := readStanding(t, eng, ds, rev, pipeline.ReadOptions{Workers: 1, BatchSize: 10}, skip); got != want {
			t.Errorf("%s: DynamoDB, files in reverse, batches of 10: alerts differ from SQLite's, first at %s", name, ordertest.FirstDifference(got, want))
		}
		compared += n
		t.Logf("%s: %d standing alerts, the same in SQLite (file order) and DynamoDB (reverse, batches of 10)", name, n)
	}
	if compared == 0 {
		t.Fatal("the corpus raised no alert: nothing was compared")
	}
}
