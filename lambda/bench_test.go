package lambda_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsdynamodb "github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/iamwatch/iamwatch"
	"github.com/iamwatch/iamwatch/detect"
	"github.com/iamwatch/iamwatch/internal/testserver"
	"github.com/iamwatch/iamwatch/lambda"
	"github.com/iamwatch/iamwatch/pipeline"
	"github.com/iamwatch/iamwatch/rules"
	"github.com/iamwatch/iamwatch/store/dynamodb"
)

// payloads returns n copies of an EventBridge fixture with distinct event IDs.
func payloads(b *testing.B, name string, n int) [][]byte {
	b.Helper()
	raw, err := readFixture(name)
	if err != nil {
		b.Fatal(err)
	}
	out := make([][]byte, n)
	for i := range out {
		out[i] = bytes.Replace(raw, []byte("8e9f-00000000000"), fmt.Appendf(nil, "8e9f-%011d", 1000+i), 1)
	}
	return out
}

// BenchmarkEventBridge is the real-time handler's per-event cost: decoding
// the EventBridge event, every built-in rule, the pipeline, with a store in
// memory (mem) or DynamoDB on loopback (dynalite: adds the PutItem, and for
// an alert the claim and outbox requests). No publish: that is one SNS call.
func BenchmarkEventBridge(b *testing.B) {
	for _, fx := range []string{"eventbridge-create-user.json", "eventbridge-root-signin.json"} {
		b.Run("mem/"+fx, func(b *testing.B) {
			h, err := lambda.New(lambda.Deps{Store: newMemStore(), Detector: newEngine(b)})
			if err != nil {
				b.Fatal(err)
			}
			benchInvoke(b, h, payloads(b, fx, 1000))
		})
	}
	b.Run("dynalite/eventbridge-root-signin.json", func(b *testing.B) {
		if testing.Short() {
			b.Skip("starts dynalite")
		}
		d := testserver.StartDynalite(b)
		client := awsdynamodb.New(awsdynamodb.Options{Region: d.Region, BaseEndpoint: aws.String(d.Endpoint), Credentials: creds})
		st, err := dynamodb.Open(context.Background(), dynamodb.Config{Client: client, Prefix: "bench-"})
		if err != nil {
			b.Fatal(err)
		}
		if err := st.CreateTables(context.Background()); err != nil {
			b.Fatal(err)
		}
		rs, err := rules.Load()
		if err != nil {
			b.Fatal(err)
		}
		engine, err := detect.New(rs, detect.Config{})
		if err != nil {
			b.Fatal(err)
		}
		h, err := lambda.New(lambda.Deps{Store: st, Detector: engine,
			Enqueue: func(ctx context.Context, a iamwatch.Alert) error {
				return st.Enqueue(ctx, a.DedupKey, []string{"alert-topic"}, a.Time)
			}})
		if err != nil {
			b.Fatal(err)
		}
		benchInvoke(b, h, payloads(b, "eventbridge-root-signin.json", 100000))
	})
}

func benchInvoke(b *testing.B, h *lambda.Handler, ps [][]byte) {
	b.ReportAllocs()
	ctx := context.Background()
	for i := 0; b.Loop(); i++ {
		if _, err := h.Invoke(ctx, ps[i%len(ps)]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSQSBatch is one SQS batch of 10 forwarded EventBridge events.
func BenchmarkSQSBatch(b *testing.B) {
	h, err := lambda.New(lambda.Deps{Store: newMemStore(), Detector: newEngine(b), Filter: pipeline.Filter{}})
	if err != nil {
		b.Fatal(err)
	}
	ps := payloads(b, "eventbridge-create-user.json", 10)
	bodies := make([]string, len(ps))
	for i, p := range ps {
		bodies[i] = string(p)
	}
	batch := sqsBatch(bodies...)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := h.Invoke(context.Background(), batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*10), "ns/event")
}
